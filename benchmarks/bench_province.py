"""A synthetic province, whole vs partitioned by county on 1 and 2 Dask workers.

Prints wall time, speed-up and peak memory (RSS) per worker against the largest partition's own
run (alone on a fresh worker) and the whole province in one process. ``--quick`` is the small
size the suite runs (``tests/test_bench_province.py``).
Usage: ``python benchmarks/bench_province.py [--quick] [--counties N] [--nodes N] [--points N]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def peak_mb() -> float:
    """The peak resident memory of this (driver) process in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print one line per measurement."""
    from gis.coverage import coverage_of_region
    from gis.partition import (
        buffer_rule,
        partitioned_coverage,
        plan_pieces,
        run_piece_file,
        write_cache,
        write_specs,
    )
    from gis.partition_dask import dask_client, dask_mapper
    from gis.synthetic import province

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--counties", type=int, default=16)
    ap.add_argument("--nodes", type=int, default=10_000, help="nodes per county")
    ap.add_argument("--points", type=int, default=2_000, help="demand points per county")
    ap.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    a = ap.parse_args(argv)
    if a.quick:
        a.counties, a.nodes, a.points, a.workers = 4, 400, 100, "2"
    t = time.perf_counter()
    reg = province(a.counties, a.nodes, a.points, seed=0)
    out: dict = {"counties": a.counties, "nodes": reg.network.n_nodes,
                 "points": len(reg.demand), "build_s": time.perf_counter() - t}
    t = time.perf_counter()
    whole = coverage_of_region(reg)
    out["whole_s"] = time.perf_counter() - t
    out["whole_peak_mb"] = peak_mb()
    clip, parts = plan_pieces(reg, "county")
    rule = buffer_rule(reg.network, reg.settings)
    key, rows = max(parts, key=lambda p: len(p[1]))
    with tempfile.TemporaryDirectory() as tmp, dask_client("local", workers=1) as client:
        write_cache(clip.arrays, Path(tmp) / "network")
        (spec,) = write_specs(clip, [(key, rows)], reg.areas, rule, Path(tmp) / "one")
        t = time.perf_counter()
        res1 = client.submit(run_piece_file, spec, pure=False).result()
        out["largest_piece_s"] = time.perf_counter() - t
        out["largest_piece_nodes"] = res1.nodes
        # the worker's own high-water mark over the task (VmHWM reset at the task's start)
        out["largest_piece_worker_peak_mb"] = res1.peak_mb
    for w in (int(x) for x in a.workers.split(",")):
        with dask_client("local", workers=w) as client:
            peaks: list[float] = []
            inner = dask_mapper(client)

            def mapper(fn, paths, inner=inner, peaks=peaks):  # noqa: ANN001, ANN202
                for r in inner(fn, paths):
                    peaks.append(r.peak_mb)
                    yield r

            t = time.perf_counter()
            res = partitioned_coverage(reg, "county", mapper=mapper)
            out[f"dask{w}_s"] = time.perf_counter() - t
            # the largest of the tasks' own peaks (each reset at its task's start)
            out[f"dask{w}_worker_peak_mb"] = max(peaks)
        assert res.total == whole.total
        out[f"dask{w}_equal"] = True
    if "dask1_s" in out and "dask2_s" in out:
        out["speedup_2_vs_1"] = out["dask1_s"] / out["dask2_s"]
    for k, v in out.items():
        print(f"{k:30s} {v:,.2f}" if isinstance(v, float) else f"{k:30s} {v}")
    return out


if __name__ == "__main__":
    main()
