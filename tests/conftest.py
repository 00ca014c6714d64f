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
