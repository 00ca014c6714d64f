"""Shared fixtures: the bundled regions (loaded once per session) and a hand-sized network."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="session")
def chengdu():
    """The default bundled region."""
    from gis.region import load_region

    return load_region(DATA / "chengdu")


@pytest.fixture(scope="session")
def andorra():
    """The mountain-town bundled region."""
    from gis.region import load_region

    return load_region(DATA / "andorra")


def lonlat_from_xy(x, y, lon0=104.0, lat0=30.6):
    """Metres east/north of (lon0, lat0) to degrees (small-area approximation)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return lon0 + x / (111_320.0 * np.cos(np.radians(lat0))), lat0 + y / 111_320.0


def run_bench_quick(script: str, tmp_path: Path, *, timeout: int = 300) -> list[dict]:
    """Run ``benchmarks/<script> --quick`` in a fresh interpreter; its rows from ``--json``."""
    import json
    import subprocess
    import sys

    out = tmp_path / f"{Path(script).stem}.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick",
                    "--json", str(out)], check=True, capture_output=True, timeout=timeout)
    return json.loads(out.read_text())


# ---- PostgreSQL: a throw-away cluster for the ledger's tests (and the web app's) ------------

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def _pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder; FAIL (never skip) when there is none."""
    import glob

    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name)
                   if Path(p).parent.name.isdigit() else 0)
    if not found or not (Path(found[-1]) / "initdb").exists():
        pytest.fail("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: install "
                    "Debian's `postgresql` package (`make test` does, DEB_TEST)", pytrace=False)
    return Path(found[-1])


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL cluster in a temporary folder on a unix socket, stopped at session end.

    Yields a function ``fresh() -> url`` that creates an empty database and returns its
    ``postgresql+psycopg://`` URL. As root, ``initdb``/``pg_ctl`` run as ``postgres``.
    """
    import os
    import shutil
    import subprocess
    import tempfile
    import uuid

    bindir = _pg_bin()
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
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust",
                    "-U", "postgres", "-E", "UTF8", "--no-locale"], **run)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                    str(root / "log"), "-w", "-o",
                    f"-p {port} -k {sock} -c listen_addresses='' -c fsync=off "
                    "-c max_connections=60", "start"], **run)
    admin = f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"

    def fresh() -> str:
        from sqlalchemy import create_engine, text

        name = f"t_{uuid.uuid4().hex[:12]}"
        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        eng.dispose()
        return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"

    try:
        yield fresh
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], check=False, capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    """An empty database URL: a SQLite file, then a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_server")()
