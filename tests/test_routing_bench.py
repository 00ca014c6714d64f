"""The benchmark script's --quick mode runs (so it cannot rot)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_runs_and_reaches_best_known() -> None:
    """lc101 at 2 s: ours and PyVRP both print a row; ours is valid and within 1% of BKS."""
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_routing.py"),
                          "--quick"], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    row = next(ln for ln in res.stdout.splitlines() if ln.startswith("| lc101"))
    ours = row.split("|")[4].split("/")
    assert int(ours[0]) == 10 and abs(float(ours[2].strip(" %+"))) < 1.0
