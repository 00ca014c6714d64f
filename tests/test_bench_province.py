"""The province benchmark's quick mode runs in the suite and its partitioned run equals the whole."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def test_bench_province_quick():
    """Quick mode: 4 counties on 2 workers, equal totals, a worker's peak memory reported."""
    path = Path(__file__).parent.parent / "benchmarks" / "bench_province.py"
    spec = importlib.util.spec_from_file_location("bench_province", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--quick"])
    assert out["counties"] == 4 and out["dask2_equal"]
    assert out["points"] == 4 * (50 + 8 * 6)  # half urban + 8 rural townships of 100 // 16
    assert 0 < out["largest_piece_nodes"] <= out["nodes"]
    assert out["dask2_worker_peak_mb"] > 0 and out["largest_piece_worker_peak_mb"] > 0
