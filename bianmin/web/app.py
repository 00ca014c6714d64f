"""The ASGI app: :func:`create_app` wires the ledger, the region, sessions and the routers.

State on ``app.state``: ``ledger`` (:class:`routing.ledger.Ledger`), ``region_dir`` and
:func:`get_region` (loaded on first use, cached), ``secret`` (bytes: sessions and webr's
tokens), ``cache`` (a folder for plans' sheets and the planning map), ``jobs``
(:class:`bianmin.web.jobs.Jobs`), ``throttle`` (:class:`bianmin.web.security.LoginThrottle`),
``templates`` (:class:`fastapi.templating.Jinja2Templates`).
"""

from __future__ import annotations

import importlib
import logging
import re
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from routing.ledger import Ledger

from .i18n import LANGS, lang_of, translate
from .security import CSRF_FIELD, LoginThrottle, NotLoggedIn, csrf_field, current_user

__all__ = ["create_app", "get_region", "render", "SESSION_COOKIE", "redact_path",
           "WORKER_THREADS"]

log = logging.getLogger("bianmin.web")

HERE = Path(__file__).resolve().parent
ASSETS = HERE.parents[1] / "maps" / "assets"
SESSION_COOKIE = "bianmin_session"
#: Session lifetime (seconds): a working day and a half.
SESSION_MAX_AGE = 36 * 3600
#: Content security: everything from this server, nothing inline but styles.
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
#: Threads running synchronous endpoints (anyio's default is 40: too many for 2 cores and a
#: 15-connection pool; docs/benchmarks.md "Runners posting to bianmin serve").
WORKER_THREADS = 16
#: Connections beyond the worker threads (planning jobs, ``asyncio.to_thread`` pages).
POOL_SPARE = 4
_TOKEN_PATH = re.compile(r"^/(r|rate)/[^/]+")


def redact_path(path: str) -> str:
    """A path fit for a log: runners' and citizens' tokens replaced by ``…``."""
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


def get_region(app: FastAPI) -> object:
    """The server's region (:class:`gis.region.Region`), loaded once on first use."""
    st = app.state
    with st.region_lock:
        if st.region is None:
            from gis.region import load_region

            st.region = load_region(st.region_dir)
        return st.region


def render(request: Request, name: str, ctx: dict | None = None, *,
           status_code: int = 200) -> Response:
    """A page from ``templates/`` with the helpers every page uses."""
    return request.app.state.templates.TemplateResponse(
        request, name, {"user": current_user(request), **(ctx or {})},
        status_code=status_code)


def _optional_router(app: FastAPI, module: str) -> None:
    try:
        mod = importlib.import_module(f"bianmin.web.{module}")
    except ModuleNotFoundError as exc:
        if exc.name != f"bianmin.web.{module}":
            raise
        return
    app.include_router(mod.router)


def create_app(*, region: Path, db_url: str, secret_key: bytes, cache_dir: Path | None = None,
               plan_time_limit: float = 20.0, https_only: bool = False,
               pdf_sheets: bool = True, threads: int = WORKER_THREADS) -> FastAPI:
    """The workbench on one ledger database and one region.

    Parameters
    ----------
    region
        The region folder (``region.toml``).
    db_url
        The ledger's database (migrated on start).
    secret_key
        Signs sessions and tokens (at least 16 bytes; keep it across restarts).
    cache_dir
        Where plans' sheets and the planning map are written (default a temporary folder).
    plan_time_limit
        Seconds each "plan the day" / "re-plan now" may take.
    https_only
        Mark the session cookie ``Secure`` (behind TLS).
    pdf_sheets
        Write PDF route sheets beside the HTML ones.
    threads
        Worker threads running the (synchronous) endpoints; the database pool holds as many
        connections plus a few for the planning jobs, so no request waits for a connection
        while holding a thread.
    """
    if len(secret_key) < 16:
        raise ValueError("the secret key needs at least 16 bytes")
    if threads < 1:
        raise ValueError("threads: at least 1")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(title="bianmin", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    st = app.state
    st.ledger = Ledger(db_url, pool_size=threads + POOL_SPARE)
    st.threads = threads
    st.region_dir = Path(region)
    st.region = None
    st.region_lock = threading.Lock()
    st.secret = secret_key
    st.cache = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="bianmin-web-"))
    st.cache.mkdir(parents=True, exist_ok=True)
    st.plan_time_limit = plan_time_limit
    st.pdf_sheets = pdf_sheets
    st.throttle = LoginThrottle()
    from .jobs import Jobs

    st.jobs = Jobs()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True
    env.globals.update(csrf_field=csrf_field, t=translate, lang_of=lang_of,
                       CSRF_FIELD=CSRF_FIELD)
    st.templates = templates

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount("/assets", StaticFiles(directory=str(ASSETS)), name="assets")

    @app.middleware("http")
    async def headers_and_lang(request: Request,
                               call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        t0 = time.perf_counter()
        lang = request.query_params.get("lang")
        if lang in LANGS:
            request.session["lang"] = lang
        response = await call_next(request)
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")  # tokens in paths never leave
        if not request.url.path.startswith(("/static/", "/assets/")):
            h.setdefault("Cache-Control", "no-store")
        log.info("%s %s %d %.0f ms", request.method, redact_path(request.url.path),
                 response.status_code, 1000 * (time.perf_counter() - t0))
        return response

    # outermost: the session must exist before the middleware above reads it
    app.add_middleware(SessionMiddleware, secret_key=secret_key.hex(),
                       session_cookie=SESSION_COOKIE, max_age=SESSION_MAX_AGE,
                       same_site="lax", https_only=https_only)

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if exc.path.startswith("/api/"):
            return JSONResponse({"detail": "login required"}, status_code=401)
        return RedirectResponse("/dispatch/login", status_code=303)

    @app.get("/healthz")
    def healthz() -> dict:
        """Alive, and the database answers."""
        st.ledger.board(__import__("datetime").date.today())
        return {"ok": True, "db": st.ledger.dialect}

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/dispatch/", status_code=303)

    from . import api, dispatch, reports

    app.include_router(dispatch.router)
    app.include_router(reports.router)
    app.include_router(api.router)
    for module in ("runner", "rate", "planner_map"):
        _optional_router(app, module)
    return app
