"""The map and circle benchmarks' quick modes run, so the scripts cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_bench_circles_quick(tmp_path):
    """Quick mode draws valid polygons and beats osmnx's ego-graph recipe."""
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_circles.py"), "--quick",
                    "--json", str(out)], check=True, capture_output=True, timeout=300)
    (r,) = json.loads(out.read_text())
    assert r["all_valid"] is True
    assert r["speedup_per_outlet"] > 1
    assert r["recipe_area_inside_ours"] > 0.9


@pytest.mark.browser
def test_bench_map_quick(tmp_path):
    """Quick mode writes the map, opens it in Chromium and finds every marker offline."""
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_map.py"), "--quick",
                    "--json", str(out)], check=True, capture_output=True, timeout=600)
    (r,) = json.loads(out.read_text())
    assert r["outside_requests"] == 0 and r["js_errors"] == 0
    assert r["markers_shown_ms"] > 0 and r["loaded_bytes"] < 3_000_000
