"""Signed, expiring links: a runner's day and a citizen's rating of one errand.

A token is an :class:`itsdangerous.URLSafeTimedSerializer` string signed with the app's secret
and a salt per kind, so a runner's token never opens a rating page or the other way round.
Its payload names only ids (runner id and day; day and errand id), never a citizen.

* **Runner link** ``/r/<token>``: valid until the end of its day plus :data:`RUNNER_GRACE`
  (a runner finishing late still reports).
* **Rating link** ``/rate/<token>``: valid :data:`RATING_VALID` after it was made.

A token that does not verify is *tampered* (403); one past its time is *expired* (410). The
clock is a parameter (``now``), so tests move time instead of waiting.

The forms on these pages carry a CSRF value bound to the page's token (:func:`csrf_for`): an
HMAC of the token, which a form posted from elsewhere cannot know without the token itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
from dataclasses import dataclass
from typing import Any

import segno
from itsdangerous import BadSignature, URLSafeTimedSerializer

from gis.errors import BianminError

__all__ = ["RUNNER_GRACE", "RATING_VALID", "TokenRefused", "RunnerPass", "RatingPass",
           "make_runner_token", "read_runner_token", "make_rating_token", "read_rating_token",
           "csrf_for", "check_token_csrf", "runner_link", "rating_link", "qr_svg", "app_secret"]

#: The app's secret (``app.state.secret``) or any string.
Secret = str | bytes
#: How long after the end of its day a runner's link still opens.
RUNNER_GRACE = dt.timedelta(hours=6)
#: How long a citizen's rating link stays valid.
RATING_VALID = dt.timedelta(days=14)
_SALT = {"runner": "bianmin.runner-link.v1", "rating": "bianmin.rating-link.v1",
         "csrf": "bianmin.token-csrf.v1"}


class TokenRefused(BianminError):
    """A link that does not open: ``reason`` is ``"tampered"`` (403) or ``"expired"`` (410)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"link {reason}")
        self.reason = reason

    @property
    def status_code(self) -> int:
        """The HTTP status the page answers with."""
        return 410 if self.reason == "expired" else 403


@dataclass(frozen=True)
class RunnerPass:
    """What a runner's token grants: that runner's stops on that day."""

    runner_id: str
    day: dt.date
    expires: dt.datetime


@dataclass(frozen=True)
class RatingPass:
    """What a rating token grants: rating that one errand of that day."""

    day: dt.date
    ref: str
    expires: dt.datetime


def _ser(secret: Secret, kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT[kind])


def _load(secret: Secret, kind: str, token: str) -> tuple[Any, dt.datetime]:
    try:
        payload, signed = _ser(secret, kind).loads(token, return_timestamp=True)
    except (BadSignature, ValueError, TypeError, UnicodeError) as exc:
        raise TokenRefused("tampered") from exc
    return payload, signed.astimezone().replace(tzinfo=None)


def _now(now: dt.datetime | None) -> dt.datetime:
    return dt.datetime.now() if now is None else now


def make_runner_token(secret: Secret, runner_id: str, day: dt.date) -> str:
    """A runner's link token for ``day``."""
    return str(_ser(secret, "runner").dumps({"r": runner_id, "d": day.isoformat()}))


def read_runner_token(secret: Secret, token: str, *,
                      now: dt.datetime | None = None) -> RunnerPass:
    """Verify a runner's token (local wall-clock ``now``, default the current time).

    Raises
    ------
    TokenRefused
        Tampered (signature, kind or payload wrong) or expired (past its day + grace).
    """
    payload, _ = _load(secret, "runner", token)
    try:
        rid, day = str(payload["r"]), dt.date.fromisoformat(payload["d"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenRefused("tampered") from exc
    expires = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) + RUNNER_GRACE
    if _now(now) >= expires:
        raise TokenRefused("expired")
    return RunnerPass(rid, day, expires)


def make_rating_token(secret: Secret, day: dt.date, ref: str) -> str:
    """A citizen's rating token for errand ``ref`` of ``day``."""
    return str(_ser(secret, "rating").dumps({"d": day.isoformat(), "e": ref}))


def read_rating_token(secret: Secret, token: str, *,
                      now: dt.datetime | None = None) -> RatingPass:
    """Verify a rating token: signed by us, for ratings, made less than :data:`RATING_VALID` ago.

    Raises
    ------
    TokenRefused
        Tampered or expired.
    """
    payload, signed = _load(secret, "rating", token)
    try:
        day, ref = dt.date.fromisoformat(payload["d"]), str(payload["e"])
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenRefused("tampered") from exc
    expires = signed + RATING_VALID
    if _now(now) >= expires:
        raise TokenRefused("expired")
    return RatingPass(day, ref, expires)


def csrf_for(secret: Secret, token: str) -> str:
    """The CSRF value of the forms on a token's page (an HMAC of the token)."""
    raw = secret if isinstance(secret, bytes) else secret.encode()
    key = hashlib.sha256(_SALT["csrf"].encode() + raw).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def check_token_csrf(secret: Secret, token: str, value: str | None) -> bool:
    """Whether a posted CSRF value belongs to ``token`` (constant-time comparison)."""
    return bool(value) and hmac.compare_digest(csrf_for(secret, token), str(value))


def app_secret(app: Any) -> bytes:
    """The app's signing secret (``app.state.secret``, bytes)."""
    return bytes(app.state.secret)


def runner_link(app: Any, runner_id: str, day: dt.date, *, base_url: str = "") -> str:
    """The link of a runner's day: ``/r/<token>``, after ``base_url`` when given."""
    return f"{base_url.rstrip('/')}/r/{make_runner_token(app_secret(app), runner_id, day)}"


def rating_link(app: Any, day: dt.date, ref: str, *, base_url: str = "") -> str:
    """The link of a citizen's rating of one errand: ``/rate/<token>``."""
    return f"{base_url.rstrip('/')}/rate/{make_rating_token(app_secret(app), day, ref)}"


def qr_svg(url: str, *, scale: int = 3) -> str:
    """A QR code of ``url`` as inline SVG markup (error correction M, no XML declaration)."""
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buf, kind="svg", xmldecl=False, scale=scale,
                                                 border=2, svgns=True)
    return buf.getvalue().decode("utf-8")


def qr_data_url(url: str, *, scale: int = 3) -> str:
    """The same QR code as a ``data:image/svg+xml`` URL (for an ``<img>``)."""
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(url, scale=scale).encode()
                                                           ).decode("ascii")
