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

def _pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder; FAIL (never skip) when there is none."""
    from pgcluster import pg_bin

    found = pg_bin()
    if found is None:
        pytest.fail("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: install "
                    "Debian's `postgresql` package (`make test` does, DEB_TEST)", pytrace=False)
    return found


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL cluster in a temporary folder on a unix socket, stopped at session end.

    Yields a function ``fresh() -> url`` that creates an empty database and returns its
    ``postgresql+psycopg://`` URL (:func:`pgcluster.pg_cluster`).
    """
    from pgcluster import pg_cluster

    with pg_cluster(_pg_bin()) as fresh:
        yield fresh


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    """An empty database URL: a SQLite file, then a fresh database on the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_server")()
