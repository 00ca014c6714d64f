"""The coverage benchmark's quick mode runs, so the script cannot rot."""

from __future__ import annotations

from tests.conftest import run_bench_quick


def test_bench_coverage_quick(tmp_path):
    """Quick mode agrees with networkx and reports a speed-up."""
    (r,) = run_bench_quick("bench_coverage.py", tmp_path)
    assert r["agree_with_networkx"] is True
    assert r["speedup"] > 1 and r["whole_query_s"] > 0
