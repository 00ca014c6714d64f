"""Sessions, logins, CSRF and login throttling of the workbench.

* Sessions live in a signed cookie (Starlette's ``SessionMiddleware``, itsdangerous, the
  server's secret); the session holds ``user``, ``role``, ``csrf`` and ``lang``.
* :func:`require_user` is the dependency of every dispatcher page and API route: anonymous
  requests get 303 → ``/dispatch/login`` for pages and 401 for ``/api/``.
* Every form carries :func:`csrf_field`; :func:`check_csrf` refuses a missing or wrong token
  with 403.
* :class:`LoginThrottle`: per user name and per client address, after
  :data:`FREE_FAILURES` failures each further attempt waits longer (doubling, capped), and is
  refused outright while locked out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import HTTPException, Request
from markupsafe import Markup

from .accounts import User

__all__ = ["NotLoggedIn", "require_user", "require_admin", "current_user", "login_session",
           "logout_session", "csrf_token", "csrf_field", "check_csrf", "LoginThrottle",
           "FREE_FAILURES", "CSRF_FIELD"]

#: Failed logins allowed (per name and per address) before they slow down.
FREE_FAILURES = 5
#: Longest wait between two attempts after repeated failures (seconds).
MAX_DELAY_S = 300.0
#: The hidden form field (and the ``X-CSRF-Token`` header of the pages' scripts).
CSRF_FIELD = "csrf_token"


class NotLoggedIn(Exception):
    """Raised by :func:`require_user`; the app turns it into 303 (pages) or 401 (API)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def current_user(request: Request) -> User | None:
    """The signed-in user of this request, or ``None``."""
    name, role = request.session.get("user"), request.session.get("role")
    if not isinstance(name, str) or not isinstance(role, str):
        return None
    cache = getattr(request.app.state, "user_check", None)
    if cache is not None and not cache(name):  # an account disabled since the login
        return None
    return User(name, role)


def require_user(request: Request) -> User:
    """Dependency: the signed-in user (any role), else :class:`NotLoggedIn`."""
    user = current_user(request)
    if user is None:
        raise NotLoggedIn(request.url.path)
    return user


def require_admin(request: Request) -> User:
    """Dependency: the signed-in admin; a dispatcher gets 403."""
    user = require_user(request)
    if not user.is_admin:
        raise HTTPException(403, "admins only")
    return user


def login_session(request: Request, user: User) -> None:
    """Start a fresh session for ``user`` (new CSRF token; the language kept)."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session.update({"user": user.name, "role": user.role,
                            "csrf": secrets.token_urlsafe(32)})
    if lang:
        request.session["lang"] = lang


def logout_session(request: Request) -> None:
    """End the session (the language kept)."""
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def csrf_token(request: Request) -> str:
    """This session's CSRF token (created on first use)."""
    tok = request.session.get("csrf")
    if not isinstance(tok, str):
        tok = secrets.token_urlsafe(32)
        request.session["csrf"] = tok
    return tok


def csrf_field(request: Request) -> Markup:
    """The hidden ``<input>`` every form carries."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD,
                                                                       csrf_token(request))


def check_csrf(request: Request, form_token: str | None) -> None:
    """Refuse (403) a form or call whose token is not this session's."""
    want = request.session.get("csrf")
    got = form_token or request.headers.get("x-csrf-token") or ""
    if not isinstance(want, str) or not hmac.compare_digest(want.encode(), got.encode()):
        raise HTTPException(403, "CSRF token missing or wrong: reload the page")


@dataclass
class _Failures:
    n: int = 0
    until: float = 0.0


@dataclass
class LoginThrottle:
    """Failed logins per key (``name:…`` and ``ip:…``) and the wait they impose.

    ``delay(keys)`` is how long the next attempt must still wait (0: go ahead); after
    :data:`FREE_FAILURES` failures each failure doubles the wait, from 1 s up to
    :data:`MAX_DELAY_S`. A success clears the name's count.
    """

    free: int = FREE_FAILURES
    max_delay_s: float = MAX_DELAY_S
    clock: Callable[[], float] = time.monotonic
    _seen: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def delay(self, keys: list[str]) -> float:
        """Seconds before another attempt on these keys is allowed."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(f.until - now for k in keys if (f := self._seen.get(k)))])

    def failed(self, keys: list[str]) -> float:
        """Count a failure; returns the wait now imposed."""
        now = self.clock()
        with self._lock:
            if len(self._seen) > 100_000:  # bounded memory under a flood
                self._seen = {k: f for k, f in self._seen.items() if f.until > now}
            wait = 0.0
            for k in keys:
                f = self._seen.setdefault(k, _Failures())
                f.n += 1
                if f.n > self.free:
                    d = min(self.max_delay_s, 2.0 ** (f.n - self.free - 1))
                    f.until = now + d
                    wait = max(wait, d)
            return wait

    def succeeded(self, keys: list[str]) -> None:
        """Forget the failures of these keys."""
        with self._lock:
            for k in keys:
                self._seen.pop(k, None)
