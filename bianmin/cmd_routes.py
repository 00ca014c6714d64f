"""`bianmin routes`: the day's errands and runners -> one route per runner and their sheets."""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import typer

from gis.errors import InputError, InputProblem
from gis.region import Region, load_region
from gis.workdays import next_working_day
from routing import (
    DayPlan,
    SolveParams,
    demo_errands,
    demo_runners,
    errands_from_frame,
    network_matrices,
    plan_day,
    read_table,
    runners_from_frame,
    write_routes,
)

from .common import OUT_OPTION, REGION_OPTION, out, step, user_errors

#: Outlet kinds a runner may be based at (if the region has any of them).
BASE_KINDS = ("service_hall", "community_station", "post_office")


def plan_region_routes(reg: Region, *, errands: Path | None = None,
                       runners: Path | None = None, day: dt.date | None = None,
                       time_limit: float = 20.0, seed: int = 0, n_errands: int = 60,
                       n_runners: int = 8, show: bool = False) -> DayPlan:
    """Errands and runners (given, the region's own, or illustrative demo ones) → a
    validated day plan on the region's road network. Used by `routes` and `demo`."""
    day = day or next_working_day(dt.date.today())
    outlets = reg.outlets[["id", "name", "kind", "lon", "lat", "hours"]].copy()
    outlets["id"] = outlets["id"].astype(str)
    bases = outlets[outlets["kind"].isin(BASE_KINDS)]
    bases = bases if len(bases) else outlets
    x0, y0, x1, y1 = reg.bbox()
    bbox = (x0 - 0.02, y0 - 0.02, x1 + 0.02, y1 + 0.02)
    e_path = errands or reg.errands_path
    r_path = runners or reg.runners_path
    if e_path is not None:
        e_df, e_name = read_table(e_path), str(e_path)
    else:
        e_df = demo_errands(outlets, reg.demand, n=n_errands, seed=seed)
        e_name = "demo errands"
    if r_path is not None:
        r_df, r_name = read_table(r_path), str(r_path)
    else:
        r_df = demo_runners(bases, n=n_runners, seed=seed, modes=tuple(reg.network.modes))
        r_name = "demo runners"
    problems: list[InputProblem] = []
    errs, runs = [], []
    try:
        errs = errands_from_frame(e_df, file=e_name, hall_ids=outlets["id"], bbox=bbox)
    except InputError as exc:
        problems += exc.problems
    try:
        runs = runners_from_frame(r_df, file=r_name, base_ids=outlets["id"],
                                  modes=tuple(reg.network.modes))
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    with step(f"Solving {len(errs)} errands for {len(runs)} runners …", show=show):
        return plan_day(errs, runs, outlets, matrices=partial(network_matrices, reg.network),
                        date=day, region=reg.name, params=SolveParams(time_limit_s=time_limit))


def register(app: typer.Typer) -> None:
    """Add the `routes` command."""

    @app.command()
    def routes(
        region: Path = REGION_OPTION,
        errands: Path | None = typer.Option(None, help="Errands CSV/XLSX (default: the "
                                            "region's, else illustrative demo errands)."),
        runners: Path | None = typer.Option(None, help="Runners CSV/XLSX (default: the "
                                            "region's, else illustrative demo runners)."),
        date: str | None = typer.Option(None, help="Day of the plan, YYYY-MM-DD (default "
                                        "today)."),
        time_limit: float = typer.Option(20.0, "--time-limit", help="Solver seconds."),
        out_dir: Path = OUT_OPTION,
        seed: int = typer.Option(0, help="Seed for the demo errands and runners."),
        demo_errand_count: int = typer.Option(60, "--demo-errands", help="Demo errands."),
        demo_runner_count: int = typer.Option(8, "--demo-runners", help="Demo runners."),
        pdf: bool = typer.Option(True, help="Also write PDF sheets."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary."),
    ) -> None:
        """Plan the day's runner routes; write OUT/routes/{plan.json, routes.xlsx, sheets/}."""
        with user_errors():
            try:
                day = dt.date.fromisoformat(date) if date else next_working_day(dt.date.today())
            except ValueError:
                raise InputError(InputProblem("--date", None, None,
                                         f"{date!r} is not a date: expected YYYY-MM-DD")) from None
            if not quiet:
                out.print(f"plan date: {day.isoformat()} ({day.strftime('%A')})"
                          + ("" if date else ", the next working day"), highlight=False)
            with step("Loading region …", show=not quiet):
                reg = load_region(region)
            plan = plan_region_routes(reg, errands=errands, runners=runners, day=day,
                                      time_limit=time_limit, seed=seed,
                                      n_errands=demo_errand_count,
                                      n_runners=demo_runner_count, show=not quiet)
            with step("Writing sheets …", show=not quiet):
                target = out_dir / "routes"
                write_routes(plan, target, pdf=pdf)
        if not quiet:
            out.print(plan.summary(), highlight=False)
            out.print(f"wrote {target}/plan.json, routes.xlsx, sheets/", highlight=False)
