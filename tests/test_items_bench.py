"""The item benchmark's quick mode runs, so the script cannot rot."""

from __future__ import annotations

from tests.conftest import run_bench_quick


def test_bench_items_quick(tmp_path):
    """Quick mode: one search per distinct set, equal to the naive loop; delegation ≥ greedy."""
    (r,) = run_bench_quick("bench_items.py", tmp_path)
    assert r["agree_with_naive"] is True
    assert r["searches"] == r["distinct_sets"] - 1  # the all-outlet set reuses the plain run
    assert r["not_worse_than_greedy"] is True and r["deleg_status"] == "optimal"
