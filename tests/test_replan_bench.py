"""The re-plan benchmark's --quick mode runs (so it cannot rot)."""

from __future__ import annotations

from conftest import run_bench_quick


def test_bench_replan_quick(tmp_path) -> None:
    """40 errands at noon: a valid re-plan within its few seconds, the moved share reported."""
    (row,) = run_bench_quick("bench_replan.py", tmp_path)
    assert row["valid"] and row["done"] > 0 and row["on_board"] == 2
    assert 0.0 <= row["moved_share"] <= 1.0 and row["replan_s"] < 10
