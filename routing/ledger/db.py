"""Connecting to the ledger's database, migrating it, and retrying contended transactions.

SQLite (the embedded default, ``sqlite:///path``) runs in WAL mode with a busy timeout, and
every transaction starts with ``BEGIN IMMEDIATE`` so two writers queue instead of failing
half-way. PostgreSQL (``postgresql+psycopg://…``) runs at READ COMMITTED; status updates take
the errand's row lock (``SELECT … FOR UPDATE``), and a serialization failure or deadlock is
retried (:func:`retrying`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from gis.errors import BianminError, InputError, InputProblem

__all__ = ["LedgerError", "engine_for", "upgrade", "head_revision", "current_revision",
           "retrying", "BUSY_TIMEOUT_MS", "RETRIES"]

log = logging.getLogger(__name__)

#: SQLite: milliseconds a writer waits for another's lock before giving up.
BUSY_TIMEOUT_MS = 30_000
#: Attempts of a transaction that hit a serialization failure, a deadlock or a busy database.
RETRIES = 8
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

T = TypeVar("T")


class LedgerError(BianminError, RuntimeError):
    """A ledger operation that cannot be done (unknown errand, a transition not allowed, …)."""


def _check_url(url: str) -> str:
    try:
        u = make_url(url)
    except ArgumentError:
        raise InputError(InputProblem("--db", None, None, f"{url!r} is not a database URL: "
                                      "expected sqlite:///path or postgresql+psycopg://…")) from None
    if u.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(InputProblem("--db", None, None, f"{u.get_backend_name()!r}: "
                                      "expected sqlite or postgresql"))
    if u.get_backend_name() == "postgresql" and u.drivername == "postgresql":
        url = str(u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
    return url


def engine_for(url: str, *, pool_size: int | None = None, **kw: object) -> Engine:
    """An engine for ``url`` with the ledger's connection settings.

    Parameters
    ----------
    url
        ``sqlite:///path`` or ``postgresql+psycopg://…`` (``postgresql://`` uses psycopg).
    pool_size
        Connections kept open (default SQLAlchemy's 5 + 10 overflow); a server passes its
        number of worker threads so no thread waits for a connection. ``max_overflow`` is
        a quarter of it (at least 2). Ignored for an in-memory SQLite database.
    **kw
        Passed to :func:`sqlalchemy.create_engine`.

    Returns
    -------
    sqlalchemy.Engine
    """
    url = _check_url(url)
    db = make_url(url).database
    if pool_size is not None and (make_url(url).get_backend_name() != "sqlite"
                                  or (db and db != ":memory:")):
        kw = {"pool_size": pool_size, "max_overflow": max(2, pool_size // 4), **kw}
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kw)
    if db and db != ":memory:" and not Path(db).parent.exists():
        raise InputError(InputProblem("--db", None, None,
                                      f"folder {Path(db).parent} does not exist"))
    if db and db != ":memory:" and Path(db).exists() and not Path(db).is_file():
        raise InputError(InputProblem("--db", None, None, f"{db} is a folder, not a database "
                                      "file: expected sqlite:///folder/ledger.db"))
    eng = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kw)

    @event.listens_for(eng, "connect")
    def _on_connect(dbapi_conn: object, _rec: object) -> None:
        dbapi_conn.isolation_level = None  # type: ignore[attr-defined]  # we emit BEGIN
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(eng, "begin")
    def _on_begin(conn: object) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # type: ignore[attr-defined]

    return eng


def _alembic_config(connection: object) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str | Engine, revision: str = "head") -> str:
    """Migrate the database to ``revision`` (default the newest); an empty database is created.

    Returns
    -------
    str
        The revision the database is at afterwards.
    """
    from alembic import command

    eng = url if isinstance(url, Engine) else engine_for(url)
    with eng.connect() as conn:
        command.upgrade(_alembic_config(conn), revision)  # type: ignore[arg-type]
        conn.commit()
    log.info("ledger database at revision %s", current_revision(eng))
    return current_revision(eng) or ""


def head_revision() -> str:
    """The newest migration's revision id."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(eng: Engine) -> str | None:
    """The database's revision, or ``None`` when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with eng.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return MigrationContext.configure(conn).get_current_revision()


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError) and "locked" in str(exc.orig):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None)
        return code in ("40001", "40P01")  # serialization failure, deadlock detected
    return False


def retrying(fn: Callable[[], T], *, attempts: int = RETRIES) -> T:
    """Run a transaction, again after a serialization failure, deadlock or busy database."""
    for i in range(attempts):
        try:
            return fn()
        except DBAPIError as exc:
            if not _transient(exc) or i == attempts - 1:
                raise
            log.info("transaction retried after a transient conflict (attempt %d)", i + 2)
            time.sleep(0.01 * 2 ** i)
    raise AssertionError("unreachable")  # pragma: no cover
