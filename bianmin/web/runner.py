"""A runner's own day on a phone: ``/r/<token>`` and the buttons that report each stop.

The token (:mod:`bianmin.web.tokens`) names one runner and one day; the page lists that
runner's stops of the day's newest plan, in order, with navigation links (Amap, Baidu), the
citizen's name, masked phone and masked address, and the errand's status. Call links (``tel:``
with the full number) only when the server was started with them (``app.state.call_links``;
off by default, docs/routing.md "The call link"). Nothing of another runner's stops is
read into the page.

The buttons post to ``/r/<token>/event`` with a CSRF value bound to the token; the event is
written through :meth:`routing.ledger.Ledger.record` with ``actor="runner:<id>"`` in ONE
transaction that also checks the errand is this runner's and writes the audit line. An errand
that is not on this runner's route (or was re-assigned since) is refused (403); a step the
ledger does not allow (delivered twice, …) answers 409 with the ledger's message.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from routing.ledger import LedgerError
from routing.ledger.store import NotAssignee
from routing.navlinks import amap_url, baidu_url, tel_url
from routing.plan import mask_phone
from routing.sheets import mask_numbers
from routing.tables import Errand

from .tokens import (
    RunnerPass,
    TokenRefused,
    app_secret,
    check_token_csrf,
    csrf_for,
    read_runner_token,
)

__all__ = ["router", "RunnerStop", "runner_stops", "FAIL_REASONS", "templates"]

log = logging.getLogger(__name__)

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.filters["mask"] = mask_numbers

#: The reasons a runner picks from when a stop fails (Chinese first, English after).
FAIL_REASONS = ("不在家 not at home", "材料不全 documents missing", "地址有误 wrong address",
                "联系不上 cannot reach", "其他 other")
ROLE_LABEL = {"pickup": "取件 Pickup", "delivery": "送达 Delivery", "visit": "上门 Home visit"}
STATUS_LABEL = {"created": "待派 new", "assigned": "已派 assigned", "picked_up": "已取件 picked up",
                "delivered": "已送达 delivered", "failed": "未完成 failed"}
#: What a runner may report from the page.
RUNNER_KINDS = ("picked_up", "delivered", "failed")


@dataclass(frozen=True)
class RunnerStop:
    """One stop as the runner's page shows it (phone and numbers already masked)."""

    order: int
    ref: str
    kind: str
    role: str
    arrival: str
    window: str
    status: str
    at_hall: bool
    name: str
    phone_masked: str
    tel: str
    address: str
    note: str
    items: str
    amap: str
    baidu: str


def _point(stop: dict[str, Any], e: Errand | None) -> tuple[float, float]:
    """Where to navigate: a hall's public point, else the errand's own (unrounded) end."""
    if e is not None and not stop.get("at_hall"):
        end = e.delivery if stop.get("role") == "delivery" else e.pickup
        if end is not None:
            return float(end[0]), float(end[1])
    return float(stop["lon"]), float(stop["lat"])


def runner_stops(ledger: Any, runner_id: str, day: dt.date, *, call_links: bool = False
                 ) -> tuple[dict[str, Any] | None, list[RunnerStop]]:
    """This runner's route of the day's newest plan and its stops, ready for the page.

    Returns
    -------
    route, stops
        The route's public fields (``None`` without a plan or a route for the runner) and the
        stops in order; only errands on this route are read.
    """
    plan = ledger.latest_plan(day)
    route = next((r for r in (plan or {}).get("routes", []) if r["runner_id"] == runner_id),
                 None)
    if route is None:
        return None, []
    refs = {s["errand_id"] for s in route["stops"]}
    errands = {e.id: e for e in ledger.errands(day) if e.id in refs}
    status = ledger.statuses(day)
    mode = str(route.get("mode", "walk"))
    out = []
    for s in sorted(route["stops"], key=lambda s: s["order"]):
        e = errands.get(s["errand_id"])
        lon, lat = _point(s, e)
        label = f"{s['order']}. {s['errand_id']}"
        phone = e.contact_phone if e else ""
        st, who = status.get(s["errand_id"], ("", None))
        out.append(RunnerStop(
            order=int(s["order"]), ref=s["errand_id"], kind=s["kind"], role=s["role"],
            arrival=s.get("arrival", ""), window="–".join(s.get("window") or []),
            status=st if who in (None, runner_id) else "reassigned",
            at_hall=bool(s.get("at_hall")), name=e.contact_name if e else "",
            phone_masked=mask_phone(phone) if phone else "",
            tel=tel_url(phone) if (call_links and phone) else "",
            address=mask_numbers(e.address) if e else "", note=mask_numbers(e.note) if e else "",
            items=e.items if e else "", amap=amap_url(lon, lat, label, mode),
            baidu=baidu_url(lon, lat, label, mode)))
    return route, out


def _pass(request: Request, token: str) -> RunnerPass:
    clock = getattr(request.app.state, "clock", None)
    return read_runner_token(app_secret(request.app), token,
                             now=clock() if callable(clock) else None)


def refused(request: Request, exc: TokenRefused, *, what: str = "runner") -> HTMLResponse:
    """The page of a link that does not open (403 tampered, 410 expired)."""
    return templates.TemplateResponse(request, "runner_refused.html",
                                      {"reason": exc.reason, "what": what},
                                      status_code=exc.status_code)


def _page(request: Request, token: str, p: RunnerPass, *, message: str = "",
          status_code: int = 200) -> HTMLResponse:
    route, stops = runner_stops(request.app.state.ledger, p.runner_id, p.day,
                                call_links=bool(getattr(request.app.state, "call_links", False)))
    return templates.TemplateResponse(request, "runner.html", {
        "token": token, "csrf": csrf_for(app_secret(request.app), token), "runner_id": p.runner_id,
        "day": p.day.isoformat(), "route": route, "stops": stops, "reasons": FAIL_REASONS,
        "role_label": ROLE_LABEL, "status_label": STATUS_LABEL, "message": message,
        "expires": p.expires.strftime("%Y-%m-%d %H:%M")}, status_code=status_code,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


@router.get("/r/{token}", response_class=HTMLResponse)
def runner_page(request: Request, token: str) -> Response:
    """The runner's stops of the day."""
    try:
        p = _pass(request, token)
    except TokenRefused as exc:
        return refused(request, exc)
    return _page(request, token, p)


@router.post("/r/{token}/event")
def runner_event(request: Request, token: str, ref: str = Form(""), kind: str = Form(""),
                 reason: str = Form(""), reason_text: str = Form(""),
                 csrf_token: str = Form("")) -> Response:
    """Record picked up / delivered / failed for one of this runner's errands."""
    try:
        p = _pass(request, token)
    except TokenRefused as exc:
        return refused(request, exc)
    if not check_token_csrf(app_secret(request.app), token, csrf_token):
        return _page(request, token, p, status_code=403,
                     message="表单已失效，请刷新页面 The form expired: reload the page")
    if kind not in RUNNER_KINDS:
        return _page(request, token, p, status_code=400, message="未知操作 Unknown action")
    why = " ".join(x for x in (reason.strip(), reason_text.strip()) if x)[:500]
    actor = f"runner:{p.runner_id}"[:64]
    try:  # one transaction: on this runner's route (not moved since), the event, the audit line
        request.app.state.ledger.record(
            p.day, ref, kind, runner_id=p.runner_id,
            reason=(why or None) if kind == "failed" else None, actor=actor,
            expect_runner=p.runner_id, audit=kind)
    except NotAssignee:
        return _page(request, token, p, status_code=403,
                     message="不是您的任务 Not one of your errands")
    except LedgerError as exc:
        return _page(request, token, p, status_code=409, message=str(exc))
    return RedirectResponse(f"/r/{token}", status_code=303)
