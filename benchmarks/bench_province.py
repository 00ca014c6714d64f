"""A synthetic province, whole vs partitioned by county on 1 and 2 Dask workers.

Prints wall time per phase, speed-up and peak memory: the driver's own high-water mark
(VmHWM), and each task's own VmHWM (reset at the task's start, so nothing inherited from the
process that started the worker counts) for round 1 and the spill passes, against the largest
partition's own run (alone on a fresh worker) and the whole province in one process.
``--quick`` is the small size the suite runs (``tests/test_bench_province.py``);
``--skip-whole`` skips the whole-province run (when it does not fit) and the equality check.

Usage: ``python benchmarks/bench_province.py [--quick] [--counties N] [--nodes N]
[--points N] [--workers 1,2] [--skip-whole] [--workdir DIR]``. The 100-county size:
``--counties 100 --nodes 100000 --points 50000``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path


def peak_mb() -> float:
    """This (driver) process's own memory high-water mark (VmHWM) in MB."""
    from gis.partition import task_peak_mb

    return task_peak_mb()


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and print one line per measurement."""
    from gis.coverage import coverage_of_region
    from gis.partition import (
        buffer_rule,
        partitioned_coverage,
        plan_pieces,
        run_piece_file,
        write_network_cache,
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
    ap.add_argument("--skip-whole", action="store_true",
                    help="skip the whole-province run in one process (and the equality check)")
    ap.add_argument("--workdir", default=None, help="folder for the network cache and specs")
    a = ap.parse_args(argv)
    if a.quick:
        a.counties, a.nodes, a.points, a.workers = 4, 400, 100, "2"
    logging.basicConfig(format="  %(name)s: %(message)s")
    logging.getLogger("gis.partition").setLevel(logging.INFO)
    logging.getLogger("gis.partition_spill").setLevel(logging.WARNING)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    out: dict = {"counties": a.counties}

    def say(key: str, value: object) -> None:
        out[key] = value
        print(f"{key:34s} {value:,.2f}" if isinstance(value, float) else f"{key:34s} {value}",
              flush=True)

    t = time.perf_counter()
    reg = province(a.counties, a.nodes, a.points, seed=0)
    say("nodes", reg.network.n_nodes)
    say("points", len(reg.demand))
    say("build_s", time.perf_counter() - t)
    say("build_driver_peak_mb", peak_mb())
    whole = None
    if not a.skip_whole:
        t = time.perf_counter()
        whole = coverage_of_region(reg)
        say("whole_s", time.perf_counter() - t)
        say("whole_driver_peak_mb", peak_mb())
    if a.workdir:
        Path(a.workdir).mkdir(parents=True, exist_ok=True)
    clip, parts = plan_pieces(reg, "county")
    rule = buffer_rule(reg.network, reg.settings)
    key, rows = max(parts, key=lambda p: len(p[1]))
    with tempfile.TemporaryDirectory(dir=a.workdir) as tmp, \
            dask_client("local", workers=1) as client:
        write_network_cache(clip.net, Path(tmp) / "network")
        (spec,) = write_specs(clip, [(key, rows)], reg.areas, rule, Path(tmp) / "one")
        t = time.perf_counter()
        res1 = client.submit(run_piece_file, spec, pure=False).result()
        say("largest_piece_s", time.perf_counter() - t)
        say("largest_piece_nodes", res1.nodes)
        # the worker's own high-water mark over the task (VmHWM reset at the task's start)
        say("largest_piece_worker_peak_mb", res1.peak_mb)
    del clip
    for w in (int(x) for x in a.workers.split(",")):
        with dask_client("local", workers=w) as client:
            seen: list = []
            inner = dask_mapper(client)

            def mapper(fn, paths, inner=inner, seen=seen):  # noqa: ANN001, ANN202
                for r in inner(fn, paths):
                    seen.append((r.key, r.nodes, r.peak_mb))
                    yield r

            t = time.perf_counter()
            res = partitioned_coverage(reg, "county", mapper=mapper, workdir=a.workdir)
            say(f"dask{w}_s", time.perf_counter() - t)
        first = [s for s in seen if "+" not in s[0]]
        spill = [s for s in seen if "+" in s[0]]
        say(f"dask{w}_tasks", f"{len(first)} round 1 + {len(spill)} spill")
        # the largest of the tasks' own peaks (each reset at its task's start)
        say(f"dask{w}_worker_peak_mb", max(p for _, _, p in seen))
        say(f"dask{w}_round1_peak_mb", max(p for _, _, p in first))
        if spill:
            say(f"dask{w}_spill_peak_mb", max(p for _, _, p in spill))
            say(f"dask{w}_spill_max_nodes", max(n for _, n, _ in spill))
        say(f"dask{w}_round1_max_nodes", max(n for _, n, _ in first))
        say(f"dask{w}_driver_peak_mb", peak_mb())
        if whole is not None:
            assert res.total == whole.total
            say(f"dask{w}_equal", True)
    if "dask1_s" in out and "dask2_s" in out:
        say("speedup_2_vs_1", out["dask1_s"] / out["dask2_s"])
    return out


if __name__ == "__main__":
    main()
