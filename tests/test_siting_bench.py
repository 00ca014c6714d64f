"""The siting benchmark runs in quick mode, so it cannot rot."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_siting.py"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3 -> 4 notices
def test_bench_siting_quick():
    """--quick runs all three parts; answers agree with spopt and plain scipy."""
    spec = importlib.util.spec_from_file_location("bench_siting", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = {r["part"]: r for r in mod.main(["--quick"])}
    assert rows["mclp"]["status"] == "optimal" and rows["mclp"]["same_objective"]
    assert rows["coversets"]["same_pairs"] and rows["coversets"]["pairs"] > 0
    assert rows["big"]["gap"] <= 1e-3
