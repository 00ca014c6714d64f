"""Dispatcher pages: login, the day's board, intake, import, planning jobs, downloads."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from .accounts import User, audit, verify_user
from .app import render
from .common import day_of, latest_folder
from .i18n import translate
from .security import check_csrf, login_session, logout_session, require_user

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/dispatch")
UserDep = Annotated[User, Depends(require_user)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


@router.get("/login")
def login_page(request: Request) -> Response:
    """The login form."""
    return render(request, "login.html")


@router.post("/login")
async def login(request: Request, username: Annotated[str, Form()] = "",
                password: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form()] = "") -> Response:
    """Check the password (argon2), slowed down after repeated failures."""
    check_csrf(request, csrf_token)
    st = request.app.state
    keys = [f"name:{username.lower()[:64]}", f"ip:{_client(request)}"]
    wait = st.throttle.delay(keys)
    if wait > 0:
        await asyncio.sleep(min(wait, 2.0))  # each attempt costs time, and is refused
        return render(request, "login.html", {"error": translate(
            request, "slow_down", s=int(wait) + 1), "username": username}, status_code=429)
    user = await asyncio.to_thread(verify_user, st.ledger, username, password)
    if user is None:
        wait = st.throttle.failed(keys)
        if wait:
            await asyncio.sleep(min(wait, 2.0))
        audit(st.ledger, username[:64] or "?", "login_failed")
        return render(request, "login.html", {"error": translate(request, "bad_login"),
                                              "username": username}, status_code=401)
    st.throttle.succeeded(keys[:1])
    login_session(request, user)
    audit(st.ledger, user.name, "login")
    return RedirectResponse("/dispatch/", status_code=303)


@router.post("/logout")
def logout(request: Request, user: UserDep,
           csrf_token: Annotated[str, Form()] = "") -> Response:
    """End the session."""
    check_csrf(request, csrf_token)
    logout_session(request)
    return RedirectResponse("/dispatch/login", status_code=303)


@router.get("/")
def board(request: Request, user: UserDep) -> Response:
    """The day's board: errands by status, runners, the map of the latest plan, the actions."""
    st = request.app.state
    day = day_of(request)
    led = st.ledger
    counts = led.board(day)
    statuses = led.statuses(day)
    errands = led.errands(day)
    plan = led.latest_plan(day)
    folder = latest_folder(request, day)
    sheets = sorted(p.stem for p in (folder / "sheets").glob("*.html")) if folder else []
    job = st.jobs.running()
    return render(request, "board.html", {
        "day": day, "counts": counts, "errands": errands, "statuses": statuses,
        "runners": led.runners(), "plan": plan, "sheets": sheets,
        "has_workbook": bool(folder and (folder / "routes.xlsx").exists()),
        "job": job.public() if job else None, "month": day.strftime("%Y-%m"),
        "today": dt.date.today()})
