"""A citizen's rating of one errand (好差评): ``/rate/<token>``, 1–5 and a comment, once.

The token (:mod:`bianmin.web.tokens`) names the errand and its day. The rating is written
through :meth:`routing.ledger.Ledger.record` as a ``rated`` event (``actor="citizen"``); the
ledger refuses a second rating, which the page answers with "already rated". Nothing but the
errand id and the day are on the page: no name, no address.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from routing.ledger import LedgerError

from .accounts import audit
from .runner import refused, templates
from .tokens import (
    RatingPass,
    TokenRefused,
    app_secret,
    check_token_csrf,
    csrf_for,
    read_rating_token,
)

__all__ = ["router", "COMMENT_MAX"]

router = APIRouter()
#: Longest comment kept (characters).
COMMENT_MAX = 500


def _pass(request: Request, token: str) -> RatingPass:
    clock = getattr(request.app.state, "clock", None)
    return read_rating_token(app_secret(request.app), token,
                             now=clock() if callable(clock) else None)


def _rated(request: Request, p: RatingPass) -> bool:
    return any(e.kind == "rated" for e in request.app.state.ledger.events(p.day, p.ref))


def _page(request: Request, token: str, p: RatingPass, state: str, *, message: str = "",
          status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "rate.html", {
        "token": token, "csrf": csrf_for(app_secret(request.app), token), "ref": p.ref,
        "day": p.day.isoformat(), "state": state, "message": message},
        status_code=status_code, headers={"Cache-Control": "no-store"})


@router.get("/rate/{token}", response_class=HTMLResponse)
def rate_page(request: Request, token: str) -> Response:
    """The rating form, or "already rated"."""
    try:
        p = _pass(request, token)
    except TokenRefused as exc:
        return refused(request, exc, what="rating")
    if not request.app.state.ledger.statuses(p.day).get(p.ref):
        return refused(request, TokenRefused("tampered"), what="rating")
    return _page(request, token, p, "done" if _rated(request, p) else "form")


@router.post("/rate/{token}")
def rate_post(request: Request, token: str, rating: str = Form(""), comment: str = Form(""),
              csrf_token: str = Form("")) -> Response:
    """Record the rating once."""
    try:
        p = _pass(request, token)
    except TokenRefused as exc:
        return refused(request, exc, what="rating")
    if not check_token_csrf(app_secret(request.app), token, csrf_token):
        return _page(request, token, p, "form", status_code=403,
                     message="表单已失效，请刷新页面 The form expired: reload the page")
    if rating not in {"1", "2", "3", "4", "5"}:
        return _page(request, token, p, "form", status_code=400,
                     message="请选择 1–5 星 Choose 1 to 5 stars")
    if _rated(request, p):
        return _page(request, token, p, "done", status_code=409)
    try:
        request.app.state.ledger.record(p.day, p.ref, "rated", rating=int(rating),
                                        comment=comment.strip()[:COMMENT_MAX] or None,
                                        actor="citizen")
    except LedgerError:
        if _rated(request, p):
            return _page(request, token, p, "done", status_code=409)
        return _page(request, token, p, "early", status_code=409)
    audit(request.app.state.ledger, "citizen", "rated", day=p.day, ref=p.ref)
    return _page(request, token, p, "thanks")
