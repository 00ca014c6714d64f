"""The serve benchmark's --quick mode runs (so it cannot rot)."""

from __future__ import annotations

from conftest import run_bench_quick


def test_bench_serve_quick(tmp_path) -> None:
    """4 runners for 3 s on SQLite and PostgreSQL: every accepted update is one event."""
    rows = run_bench_quick("bench_serve.py", tmp_path)
    assert [r["backend"] for r in rows] == ["sqlite", "postgresql"]
    for r in rows:
        assert r["requests"] >= 8 and r["accepted"] == r["requests"]
        assert r["events"] == r["accepted"]
        assert (r["lost"], r["duplicated"], r["unexpected"]) == (0, 0, 0)
        assert 0 < r["p50_ms"] <= r["p95_ms"]
