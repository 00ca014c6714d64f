"""The map and circle benchmarks' quick modes run, so the scripts cannot rot."""

from __future__ import annotations

import pytest

from tests.conftest import run_bench_quick


def test_bench_circles_quick(tmp_path):
    """Quick mode draws valid polygons and beats osmnx's ego-graph recipe."""
    (r,) = run_bench_quick("bench_circles.py", tmp_path)
    assert r["all_valid"] is True
    assert r["speedup_per_outlet"] > 1
    assert r["recipe_area_inside_ours"] > 0.9


@pytest.mark.browser
def test_bench_map_quick(tmp_path):
    """Quick mode writes the map, opens it in Chromium and finds every marker offline."""
    pub, r = run_bench_quick("bench_map.py", tmp_path, timeout=600)
    assert r["outside_requests"] == 0 and r["js_errors"] == 0
    assert r["markers_shown_ms"] > 0 and r["loaded_bytes"] < 3_000_000
    assert pub["audience"] == "public" and pub["item_groups"] == 15
    assert pub["outside_requests"] == 0 and pub["js_errors"] == 0
    assert 0 < pub["folder_bytes"] < 3_000_000 and pub["search_ms_max"] >= 0
