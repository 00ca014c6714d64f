"""Runners posting status updates to `bianmin serve`: requests/s, p50/p95, no event lost.

    python benchmarks/bench_serve.py            # 50 runners, 50 updates/s, 30 s, SQLite and PG
    python benchmarks/bench_serve.py --quick    # 4 runners, 3 s (smoke)

Each backend gets a fresh ledger (a SQLite file; a database on a throw-away PostgreSQL cluster
on a unix socket, tests/pgcluster.py) with one stored plan: every runner has 20 home visits.
The server runs in a subprocess (uvicorn, 127.0.0.1, a free port, access log off). Each
simulated runner (asyncio + httpx) posts ``picked_up`` then ``delivered`` for its errands
through its own link's form (``/r/<token>/event`` with the token's CSRF value), paced so that
all together send ``--rate`` updates a second. Afterwards the ledger's runner events are
counted: each accepted post must be exactly one event (lost = accepted − recorded, duplicated
= events beyond one per errand and kind). Loopback only; bounded duration and request count.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _report import emit  # noqa: E402

DAY = dt.date(2026, 11, 2)
SECRET = b"bench-serve-secret-0123456789abcdef"
PER_RUNNER = 20
LON0, LAT0 = 104.10, 30.70


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup_day(url: str, n_runners: int) -> dict[str, list[str]]:
    """A ledger with ``n_runners`` runners, 20 home visits each, and a stored plan."""
    import pandas as pd

    from routing.ledger import Ledger
    from routing.plan import DayPlan, PlannedStop, RunnerRoute
    from routing.tables import errands_from_frame, runners_from_frame
    from routing.validate import PlanCheck

    rows, runs = [], []
    for k in range(n_runners):
        runs.append({"id": f"R{k:02d}", "name": f"runner {k}", "base_outlet_id": "B0",
                     "shift_start": "08:00", "shift_end": "18:00", "mode": "ebike"})
        for j in range(PER_RUNNER):
            rows.append({"id": f"E{k:02d}-{j:02d}", "kind": "home_visit",
                         "pickup_lon": f"{LON0 + 0.001 * j:.6f}",
                         "pickup_lat": f"{LAT0 + 0.001 * k:.6f}", "service_minutes": "10",
                         "priority": "2", "contact_name": "某某", "contact_phone": "13800000000",
                         "address": "某路1号"})
    errands = errands_from_frame(pd.DataFrame(rows, dtype=object), file="bench")
    runners = runners_from_frame(pd.DataFrame(runs, dtype=object), file="bench",
                                 base_ids=["B0"])
    led = Ledger(url)
    led.add_runners(runners)
    led.add_errands(errands, DAY)
    by_runner: dict[str, list[str]] = {r.id: [] for r in runners}
    routes = []
    for r in runners:
        mine = [e for e in errands if e.id.startswith("E" + r.id[1:] + "-")]
        stops = [PlannedStop(i + 1, e.id, e.kind, "visit", 9 * 3600 + 900 * i, (0, 86400),
                             e.service_s, e.pickup[0], e.pickup[1], "", "", "", 2, "", "", True)
                 for i, e in enumerate(mine) if e.pickup is not None]
        by_runner[r.id] = [s.errand_id for s in stops]
        routes.append(RunnerRoute(r.id, r.name, r.mode, "B0", "base", LON0, LAT0, r.shift,
                                  stops, 18 * 3600, 3600, None, 0, True))
    led.save_plan(DayPlan(DAY, "bench", routes, {}, PlanCheck(), illustrative=True))
    led.close()
    return by_runner


def serve_main(db: str, port: int, threads: int = 0) -> None:
    """The server subprocess: the app on ``db`` under uvicorn (what ``bianmin serve`` runs)."""
    import uvicorn

    from bianmin.web.app import WORKER_THREADS, create_app

    app = create_app(region=ROOT / "data" / "chengdu", db_url=db, secret_key=SECRET,
                     threads=threads or WORKER_THREADS)
    app.state.clock = lambda: dt.datetime.combine(DAY, dt.time(10))
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


async def _runner(client, token: str, csrf: str, refs: list[str], interval: float,
                  stop_at: float, lat: list[float], codes: Counter, accepted: list) -> None:
    nxt = time.monotonic()
    for ref in refs:
        for kind in ("picked_up", "delivered"):
            if time.monotonic() >= stop_at:
                return
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))
            nxt += interval
            t0 = time.perf_counter()
            r = await client.post(f"/r/{token}/event",
                                  data={"ref": ref, "kind": kind, "csrf_token": csrf})
            lat.append(time.perf_counter() - t0)
            codes[r.status_code] += 1
            if r.status_code == 303:
                accepted.append((ref, kind))


async def _drive(base: str, by_runner: dict[str, list[str]], rate: float, seconds: float
                 ) -> tuple[list[float], Counter, list]:
    import httpx

    from bianmin.web.tokens import csrf_for, make_runner_token

    lat: list[float] = []
    codes: Counter = Counter()
    accepted: list = []
    interval = len(by_runner) / rate
    limits = httpx.Limits(max_connections=len(by_runner) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        stop_at = time.monotonic() + seconds
        tasks = []
        for i, (rid, refs) in enumerate(by_runner.items()):
            tok = make_runner_token(SECRET, rid, DAY)
            await asyncio.sleep(interval / len(by_runner) if i else 0)  # staggered starts
            tasks.append(asyncio.create_task(_runner(client, tok, csrf_for(SECRET, tok), refs,
                                                     interval, stop_at, lat, codes, accepted)))
        await asyncio.gather(*tasks)
    return lat, codes, accepted


def run_backend(name: str, url: str, n_runners: int, rate: float, seconds: float,
                threads: int = 0) -> dict:
    """Set up, serve, drive, count: one row."""
    import httpx

    from routing.ledger import Ledger

    by_runner = setup_day(url, n_runners)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", url, "--port", str(port),
                             "--threads", str(threads)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() - t0 > 60:
                raise RuntimeError(f"server did not start: {proc.stderr.read().decode()[-2000:]}"
                                   if proc.stderr else "server did not start")
            time.sleep(0.2)
        t1 = time.perf_counter()
        lat, codes, accepted = asyncio.run(_drive(base, by_runner, rate, seconds))
        wall = time.perf_counter() - t1
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    led = Ledger(url)
    events = [(e.errand_ref, e.kind) for e in led.events(DAY)
              if (e.actor or "").startswith("runner:")]
    led.close()
    per = Counter(events)
    lat_ms = sorted(1000 * x for x in lat)
    q = statistics.quantiles(lat_ms, n=20) if len(lat_ms) >= 2 else lat_ms * 19
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"backend": name, "threads": threads or "default", "load_1min": load,
            "runners": n_runners, "target_per_s": rate, "seconds": round(wall, 1),
            "requests": len(lat), "req_per_s": round(len(lat) / wall, 1),
            "p50_ms": round(statistics.median(lat_ms), 1), "p95_ms": round(q[18], 1),
            "accepted": len(accepted), "refused": len(lat) - len(accepted),
            "codes": {str(k): v for k, v in sorted(codes.items())},
            "events": len(events), "lost": len(set(accepted) - set(per)),
            "duplicated": sum(v - 1 for v in per.values() if v > 1),
            "unexpected": len(set(per) - set(accepted))}


def main() -> None:
    """Run both backends and print their rows side by side."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 runners, 3 s")
    ap.add_argument("--runners", type=int, default=50)
    ap.add_argument("--rate", type=float, default=50.0, help="updates a second, all together")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--threads", type=int, default=0,
                    help="server worker threads (default: bianmin serve's)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--serve", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve_main(args.serve, args.port, args.threads)
        return
    n, rate, secs = (4, 4.0, 3.0) if args.quick else (args.runners, args.rate, args.seconds)
    secs = min(secs, 120.0)  # bounded
    rate = min(rate, 2.0 * n * PER_RUNNER / secs)  # never more posts than errands allow

    def rows():
        with tempfile.TemporaryDirectory(prefix="bmserve") as tmp:
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    yield run_backend("sqlite", f"sqlite:///{tmp}/ledger.db", n, rate, secs,
                                      args.threads)
                elif backend == "postgresql":
                    from pgcluster import pg_cluster

                    with pg_cluster() as fresh:
                        yield run_backend("postgresql", fresh(), n, rate, secs, args.threads)

    emit(rows(), args.json)


if __name__ == "__main__":
    main()
