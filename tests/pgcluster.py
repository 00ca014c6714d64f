"""A throw-away PostgreSQL cluster on a unix socket (the tests' fixture and the benchmarks).

:func:`pg_cluster` starts ``initdb`` + ``pg_ctl`` in a temporary folder (as ``postgres`` when
run as root), yields ``fresh() -> url`` that creates an empty database, and stops and removes
the cluster at the end. No TCP listener: the socket is the only way in.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or ``None``."""
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name)
                   if Path(p).parent.name.isdigit() else 0)
    if not found or not (Path(found[-1]) / "initdb").exists():
        return None
    return Path(found[-1])


@contextmanager
def pg_cluster(bindir: Path | None = None, *, max_connections: int = 60
               ) -> Iterator[Callable[[], str]]:
    """Start a cluster; yield ``fresh() -> postgresql+psycopg:// URL`` of a new database."""
    bindir = bindir or pg_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: "
                           "install Debian's `postgresql` package")
    root = Path(tempfile.mkdtemp(prefix="bmpg"))  # short: unix socket paths are <= 107 bytes
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = 5432 + os.getpid() % 1000  # names the socket file only: no TCP listener
    run = {"check": True, "capture_output": True, "timeout": 120}
    try:
        subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-locale"], **run)
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                        str(root / "log"), "-w", "-o",
                        f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off "
                        f"-c max_connections={max_connections}", "start"], **run)
        admin = f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"

        def fresh() -> str:
            from sqlalchemy import create_engine, text

            name = f"t_{uuid.uuid4().hex[:12]}"
            eng = create_engine(admin, isolation_level="AUTOCOMMIT")
            with eng.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            eng.dispose()
            return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"

        yield fresh
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], check=False, capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
