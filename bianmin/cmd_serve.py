"""`bianmin serve` (the web workbench) and `bianmin users add` (its accounts)."""

from __future__ import annotations

import getpass
import os
import secrets
from pathlib import Path

import typer

from .cmd_ledger import DB_OPTION
from .common import REGION_OPTION, out, user_errors

#: Same default as bianmin.web.app.WORKER_THREADS (not imported: keeps the CLI's start light).
WORKER_THREADS = 16


def _read_secret(path: Path | None) -> bytes:
    """The secret from a file (created with 32 random bytes when missing), else a fresh one."""
    from gis.errors import InputError, InputProblem

    if path is None:
        return secrets.token_bytes(32)
    if not path.exists():
        if not path.parent.is_dir():
            raise InputError(InputProblem("--secret-file", None, None,
                                          f"folder {path.parent} does not exist"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    data = path.read_bytes().strip()
    if len(data) < 16:
        raise InputError(InputProblem("--secret-file", None, None,
                                      f"{path}: at least 16 bytes of secret"))
    return data


def register(app: typer.Typer) -> None:
    """Add `serve` and the `users` group."""
    users = typer.Typer(no_args_is_help=True, help="Accounts of the web workbench.")
    app.add_typer(users, name="users")

    @users.command("add")
    def add(name: str = typer.Argument(..., help="User name."),
            role: str = typer.Option("dispatcher", "--role", help="admin|dispatcher"),
            password_file: Path | None = typer.Option(
                None, "--password-file", help="Read the password from this file's first "
                "line (default: ask)."),
            replace: bool = typer.Option(False, "--replace", help="Set a new password and "
                                         "role for an existing user."),
            db: str = DB_OPTION) -> None:
        """Create an account (password stored as argon2)."""
        from gis.errors import InputError, InputProblem
        from routing.ledger import Ledger

        from .web.accounts import add_user

        with user_errors():
            if password_file is not None:
                try:
                    lines = password_file.read_text(encoding="utf-8").splitlines()
                except OSError as exc:
                    raise InputError(InputProblem(str(password_file), None, None,
                                                  f"cannot read: {exc.strerror}")) from None
                password = lines[0] if lines else ""
            else:
                password = getpass.getpass("password: ")
                if getpass.getpass("again: ") != password:
                    raise InputError(InputProblem("password", None, None,
                                                  "the two entries differ"))
            user = add_user(Ledger(db), name, role, password, replace=replace)
        out.print(f"user {user.name} ({user.role}) ready", highlight=False)

    @app.command("serve")
    def serve(region: Path = REGION_OPTION, db: str = DB_OPTION,
              host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
              port: int = typer.Option(8000, "--port", help="Port."),
              secret_file: Path | None = typer.Option(
                  None, "--secret-file", envvar="BIANMIN_SECRET_FILE",
                  help="Secret signing sessions and runners' links (created when missing; "
                  "default a new one each start: everyone logs in again)."),
              cache: Path | None = typer.Option(None, "--cache", help="Folder for plans' "
                                                "sheets and the planning map."),
              time_limit: float = typer.Option(20.0, "--time-limit",
                                               help="Seconds each planning run may take."),
              threads: int = typer.Option(WORKER_THREADS, "--threads", min=1, max=256,
                                          help="Worker threads for requests (the database "
                                          "pool is sized to them)."),
              ) -> None:
        """Run the web workbench (dispatchers, runners, ratings) on the ledger."""
        import uvicorn

        from .common import check_seconds
        from .web import create_app

        with user_errors():
            check_seconds(time_limit, "--time-limit")
            webapp = create_app(region=region, db_url=db, secret_key=_read_secret(secret_file),
                                cache_dir=cache, plan_time_limit=time_limit,
                                threads=threads)
        out.print(f"bianmin serve: http://{host}:{port}/dispatch/", highlight=False)
        # no access log: paths carry runners' tokens; the app logs redacted paths at INFO.
        # One process: the ledger's SQLite writers and the planning jobs live in it; requests
        # run on ``threads`` worker threads (create_app's lifespan sets anyio's limiter).
        uvicorn.run(webapp, host=host, port=port, access_log=False, log_level="warning",
                    proxy_headers=False)
