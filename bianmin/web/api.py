"""The JSON API under ``/api/`` (login required): the board, errands, events, jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from .accounts import User
from .common import day_of
from .security import require_user

__all__ = ["router"]

router = APIRouter(prefix="/api")
UserDep = Annotated[User, Depends(require_user)]


@router.get("/board")
def api_board(request: Request, user: UserDep) -> dict:
    """Errands per status and the runners of the day."""
    led = request.app.state.ledger
    day = day_of(request)
    return {"day": day.isoformat(), "counts": led.board(day),
            "runners": [{"id": r.id, "name": r.name, "mode": r.mode} for r in led.runners()]}


@router.get("/errands")
def api_errands(request: Request, user: UserDep) -> dict:
    """The day's errands with their status and runner (contact details included: logged-in
    dispatchers only; never logged).
    """
    led = request.app.state.ledger
    day = day_of(request)
    st = led.statuses(day)
    return {"day": day.isoformat(), "errands": [
        {"id": e.id, "kind": e.kind, "status": st[e.id][0], "runner_id": st[e.id][1],
         "priority": e.priority, "items": e.items, "hall_id": e.hall_id,
         "contact_name": e.contact_name, "address": e.address,
         "pickup": e.pickup, "delivery": e.delivery} for e in led.errands(day)]}


@router.get("/events")
def api_events(request: Request, user: UserDep, ref: str | None = None) -> dict:
    """The day's events (or one errand's)."""
    led = request.app.state.ledger
    day = day_of(request)
    return {"day": day.isoformat(), "events": [
        {"ref": e.errand_ref, "seq": e.seq, "kind": e.kind, "at": e.at.isoformat(),
         "runner_id": e.runner_id, "reason": e.reason, "rating": e.rating, "actor": e.actor}
        for e in led.events(day, ref)]}


@router.get("/plan")
def api_plan(request: Request, user: UserDep) -> dict:
    """The day's latest stored plan (``plan.json``: no personal data), or 404."""
    plan = request.app.state.ledger.latest_plan(day_of(request))
    if plan is None:
        raise HTTPException(404, "no plan for this day")
    return plan


@router.get("/jobs/{job_id}")
def api_job(request: Request, user: UserDep, job_id: str) -> dict:
    """A planning job's state and progress."""
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise HTTPException(404, "no such job")
    return job.public()
