"""The coverage benchmark's quick mode runs, so the script cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_bench_coverage_quick(tmp_path):
    """Quick mode agrees with networkx and reports a speed-up."""
    out = tmp_path / "r.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_coverage.py"), "--quick",
                    "--json", str(out)], check=True, capture_output=True, timeout=300)
    (r,) = json.loads(out.read_text())
    assert r["agree_with_networkx"] is True
    assert r["speedup"] > 1 and r["whole_query_s"] > 0
