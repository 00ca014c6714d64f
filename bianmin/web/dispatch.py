"""Dispatcher pages: login, the day's board, intake, import, planning jobs, downloads."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, Response, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse

from gis.errors import InputError, InputProblem
from routing.ledger import IntakeRules, LedgerError
from routing.tables import KINDS, parse_hhmm

from .accounts import User, audit, verify_user
from .app import get_region, render
from .common import day_of, latest_folder, plan_folder_of
from .i18n import translate
from .jobs import Progress
from .security import check_csrf, login_session, logout_session, require_user
from .tokens import qr_data_url, runner_link

__all__ = ["router"]

log = logging.getLogger(__name__)
router = APIRouter(prefix="/dispatch")
UserDep = Annotated[User, Depends(require_user)]
#: Seconds a refused or throttled login answer is held back (the lockout itself is longer).
FAIL_SLEEP_S = 0.5


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
        await asyncio.sleep(FAIL_SLEEP_S)  # each attempt costs time, and is refused
        return render(request, "login.html", {"error": translate(
            request, "slow_down", s=int(wait) + 1), "username": username}, status_code=429)
    user = await asyncio.to_thread(verify_user, st.ledger, username, password)
    if user is None:
        wait = st.throttle.failed(keys)
        if wait:
            await asyncio.sleep(FAIL_SLEEP_S)
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
    runners = led.runners()
    base = str(request.base_url).rstrip("/")
    links = {r.id: runner_link(request.app, r.id, day, base_url=base) for r in runners}
    return render(request, "board.html", {
        "day": day, "counts": counts, "errands": errands, "statuses": statuses,
        "runners": runners, "links": links,
        "qrs": {rid: qr_data_url(url) for rid, url in links.items()},
        "plan": plan, "sheets": sheets,
        "has_workbook": bool(folder and (folder / "routes.xlsx").exists()),
        "job": job.public() if job else None, "month": day.strftime("%Y-%m"),
        "today": dt.date.today()})


# ---- import ---------------------------------------------------------------------------------
#: Largest upload accepted (bytes).
MAX_UPLOAD = 5 * 1024 * 1024
_SUFFIXES = (".csv", ".xlsx")


def _problem_rows(exc: InputError, shown_name: str, tmp_name: str) -> list[dict]:
    return [{"file": (p.file or "").replace(tmp_name, shown_name), "row": p.row,
             "column": p.column, "message": p.message.replace(tmp_name, shown_name)}
            for p in exc.problems[:500]]


@router.get("/import")
def import_page(request: Request, user: UserDep) -> Response:
    """Upload the day's errands or the runners (CSV/XLSX)."""
    return render(request, "import.html", {"day": day_of(request)})


@router.post("/import")
async def import_file(request: Request, user: UserDep, upload: Annotated[UploadFile, File()],
                      what: Annotated[str, Form()] = "errands",
                      csrf_token: Annotated[str, Form()] = "") -> Response:
    """Check every row first; store only a file without problems."""
    check_csrf(request, csrf_token)
    st = request.app.state
    day = day_of(request)
    shown = Path(upload.filename or "upload.csv").name[:120]
    suffix = Path(shown).suffix.lower()
    ctx: dict = {"day": day, "what": what, "filename": shown}
    if what not in ("errands", "runners"):
        ctx["problems"] = [{"file": shown, "row": None, "column": None,
                            "message": "expected errands or runners"}]
        return render(request, "import.html", ctx, status_code=400)
    data = await upload.read(MAX_UPLOAD + 1)
    if suffix not in _SUFFIXES or len(data) > MAX_UPLOAD or not data:
        msg = (f"expected a .csv or .xlsx file of at most {MAX_UPLOAD // 2**20} MB"
               if data else "the file is empty")
        ctx["problems"] = [{"file": shown, "row": None, "column": None, "message": msg}]
        return render(request, "import.html", ctx, status_code=400)

    def work() -> int:
        rules = IntakeRules.from_region(get_region(request.app))
        with tempfile.TemporaryDirectory(prefix="bianmin-up-") as tmp:
            path = Path(tmp) / f"upload{suffix}"
            path.write_bytes(data)
            try:
                if what == "runners":
                    return st.ledger.import_runners(path, rules)
                return len(st.ledger.import_errands(path, day, rules, actor=user.name))
            except InputError as exc:
                exc.problems = [InputProblem(**p) for p in
                                _problem_rows(exc, shown, str(path))]
                raise

    try:
        n = await asyncio.to_thread(work)
    except InputError as exc:
        ctx["problems"] = [{"file": p.file, "row": p.row, "column": p.column,
                            "message": p.message} for p in exc.problems]
        return render(request, "import.html", ctx, status_code=422)
    audit(st.ledger, user.name, f"import_{what}", day=day, detail=f"{n} row(s)")
    ctx["saved"] = n
    return render(request, "import.html", ctx)


# ---- intake ---------------------------------------------------------------------------------
INTAKE_FIELDS = ("id", "kind", "contact_name", "contact_phone", "address", "pickup_lon",
                 "pickup_lat", "delivery_lon", "delivery_lat", "hall_id", "pickup_earliest",
                 "pickup_latest", "delivery_earliest", "delivery_latest", "service_minutes",
                 "skill", "priority", "items", "note")
CHANNELS = ("hotline", "window", "online")


def _intake_choices(request: Request) -> dict:
    from gis.items import items_of_region
    from routing.region_day import region_outlets

    reg = get_region(request.app)
    outlets, _ = region_outlets(reg)  # type: ignore[arg-type]
    halls = [(str(i), str(n)) for i, n, k in zip(outlets["id"], outlets["name"],
                                                  outlets["kind"], strict=True)
             if k == "service_hall"] or [(str(i), str(n)) for i, n in
                                          zip(outlets["id"], outlets["name"], strict=True)]
    items = items_of_region(reg)  # type: ignore[arg-type]
    catalogue = [] if items is None else [
        (str(r["id"]), str(r["name"])) for _, r in items.catalogue.iterrows()]
    x0, y0, x1, y1 = reg.bbox()  # type: ignore[attr-defined]
    return {"kinds": KINDS, "halls": halls, "catalogue": catalogue, "channels": CHANNELS,
            "center": ((y0 + y1) / 2, (x0 + x1) / 2)}


@router.get("/intake")
async def intake_page(request: Request, user: UserDep) -> Response:
    """The form for one errand (a hotline call, a hall window)."""
    choices = await asyncio.to_thread(_intake_choices, request)
    return render(request, "intake.html", {"day": day_of(request), "values": {},
                                           "errors": {}, **choices})


@router.post("/intake")
async def intake(request: Request, user: UserDep) -> Response:
    """Validate like a file's row; the problems are shown next to their fields."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    st = request.app.state
    day = day_of(request)
    values = {k: str(form.get(k) or "").strip() for k in INTAKE_FIELDS}
    values["items"] = ";".join(str(v) for v in form.getlist("items_pick") if v) or values["items"]
    if not values["id"]:
        values["id"] = f"W{dt.datetime.now():%H%M%S}{secrets.randbelow(100):02d}"
    channel = str(form.get("channel") or "hotline")
    if channel not in CHANNELS:
        channel = "hotline"
    choices = await asyncio.to_thread(_intake_choices, request)
    try:
        rules = IntakeRules.from_region(get_region(request.app))
        await asyncio.to_thread(st.ledger.add_errand, values, day, rules, channel=channel,
                                actor=user.name)
    except InputError as exc:
        errors: dict[str, list[str]] = {}
        for p in exc.problems:
            errors.setdefault(p.column or "_", []).append(p.message)
        return render(request, "intake.html", {"day": day, "values": values, "errors": errors,
                                               "channel": channel, **choices},
                      status_code=422)
    audit(st.ledger, user.name, "intake", day=day, ref=values["id"], detail=channel)
    return render(request, "intake.html", {"day": day, "values": {}, "errors": {},
                                           "saved": values["id"], **choices})


# ---- planning jobs --------------------------------------------------------------------------
def _plan_job(app: object, day: dt.date, actor: str, kind: str, at_s: int | None,
              pdf: bool) -> Callable[[Progress], dict]:
    from routing import write_routes
    from routing.ledger import errand_frame, runner_frame
    from routing.ledger.replan import ledger_status
    from routing.region_day import plan_region_routes
    from routing.replan import replan_region_routes

    st = app.state  # type: ignore[attr-defined]
    limit = float(st.plan_time_limit)

    def fn(progress: Progress) -> dict:
        progress("region", 0.02)
        reg = get_region(app)  # type: ignore[arg-type]
        led = st.ledger
        progress("planning", 0.1)
        t0 = time.monotonic()
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(0.5):
                progress("planning", 0.1 + 0.75 * min(1.0, (time.monotonic() - t0) / limit))

        threading.Thread(target=tick, daemon=True).start()
        try:
            if kind == "morning":
                plan = plan_region_routes(reg, errands=errand_frame(led.errands(day)),
                                          runners=runner_frame(led.runners()), day=day,
                                          time_limit=limit)
            else:
                morning = led.latest_plan(day)
                if morning is None:
                    raise LedgerError(f"no plan stored for {day}: plan the day first")
                status = ledger_status(led, day, morning)
                errands = led.errands(day)
                plan = replan_region_routes(
                    reg, morning, status=status,
                    new=[e for e in errands if status.get(e.id) == "new"],
                    errands=[e for e in errands if status.get(e.id) != "new"],
                    at=int(at_s or 0), runners=led.runners(), time_limit=limit)
        finally:
            stop.set()
        progress("checking", 0.88)
        if not plan.check.ok:  # validated before anything is stored or shown
            raise LedgerError("the plan failed its independent check; nothing was stored")
        pk = led.save_plan(plan, kind=kind, at_s=at_s, actor=actor)
        progress("sheets", 0.92)
        folder = plan_folder_of(st.cache, day, pk)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        write_routes(plan, tmp / "routes", pdf=pdf)
        tmp.rename(folder)
        audit(led, actor, kind, day=day, detail=f"plan {pk}: {plan.n_served} served, "
              f"{len(plan.dropped)} left out")
        return {"plan": pk, "served": plan.n_served, "dropped": len(plan.dropped),
                "summary": plan.summary()}
    return fn


@router.post("/plan")
def plan_day(request: Request, user: UserDep, csrf_token: Annotated[str, Form()] = "",
             mode: Annotated[str, Form()] = "morning", at: Annotated[str, Form()] = "",
             ) -> Response:
    """Start "plan the day" (``mode=morning``) or "re-plan now" (``mode=replan``, ``at``)."""
    check_csrf(request, csrf_token)
    st = request.app.state
    day = day_of(request)
    if mode not in ("morning", "replan"):
        raise HTTPException(400, "mode: morning or replan")
    at_s = None
    if mode == "replan":
        try:
            at_s = int(parse_hhmm(at)) if at else (
                dt.datetime.now().hour * 3600 + dt.datetime.now().minute * 60)
        except (ValueError, TypeError):
            raise HTTPException(400, "at: expected HH:MM") from None
    running = st.jobs.running()
    job = running or st.jobs.submit(mode, user.name, _plan_job(
        request.app, day, user.name, mode, at_s, bool(getattr(st, "pdf_sheets", True))))
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse({"job": job.id, "busy": running is not None})
    return RedirectResponse(f"/dispatch/?job={job.id}", status_code=303)
