"""A synthetic province, whole vs partitioned by county on 1 and 2 Dask workers.

Prints wall time, speed-up and peak memory (RSS) per worker against the largest partition's own
run and the whole province in one process. ``--quick`` is the small size the suite runs.
Usage: ``python benchmarks/bench_province.py [--quick] [--counties N] [--nodes N] [--points N]``.
"""

from __future__ import annotations

import argparse
import resource
import time


def peak_mb() -> float:
    """This process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print one line per measurement."""
    from gis.coverage import coverage_of_region
    from gis.partition import buffer_rule, partitioned_coverage, plan_pieces, run_piece
    from gis.partition_dask import dask_client, dask_mapper
    from gis.synthetic import province

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--counties", type=int, default=16)
    ap.add_argument("--nodes", type=int, default=10_000, help="nodes per county")
    ap.add_argument("--points", type=int, default=2_000, help="demand points per county")
    a = ap.parse_args(argv)
    if a.quick:
        a.counties, a.nodes, a.points = 4, 900, 200
    reg = province(a.counties, a.nodes, a.points, seed=0)
    out = {"counties": a.counties, "nodes": reg.network.n_nodes, "points": len(reg.demand)}
    t = time.perf_counter()
    whole = coverage_of_region(reg)
    out["whole_s"] = time.perf_counter() - t
    out["whole_peak_mb"] = peak_mb()
    clip, parts = plan_pieces(reg, "county")
    rule = buffer_rule(reg.network, reg.settings)
    key, rows = max(parts, key=lambda p: len(p[1]))
    piece = clip.piece(key, rows, reg.areas, rule)
    out["largest_piece_nodes"] = piece.network.n_nodes
    t = time.perf_counter()
    run_piece(piece)
    out["largest_piece_s"] = time.perf_counter() - t
    for w in (1, 2):
        with dask_client("local", workers=w) as client:
            t = time.perf_counter()
            res = partitioned_coverage(reg, "county", mapper=dask_mapper(client))
            out[f"dask{w}_s"] = time.perf_counter() - t
            mem = client.run(lambda: peak_mb())
            out[f"dask{w}_worker_peak_mb"] = max(mem.values())
        assert res.total == whole.total
    out["speedup_2_vs_1"] = out["dask1_s"] / out["dask2_s"]
    for k, v in out.items():
        print(f"{k:24s} {v:,.2f}" if isinstance(v, float) else f"{k:24s} {v:,}")
    return out


if __name__ == "__main__":
    main()
