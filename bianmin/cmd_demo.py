"""`bianmin demo`: the whole job on a region — coverage → siting → map → routes → index.html."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from gis.circles import circles_of_region
from gis.coverage import coverage_of_region
from gis.items import item_coverage_of_region
from gis.region import load_region
from gis.siting.delegation_plan import plan_delegation, write_delegation
from gis.siting.plan import plan_sites
from gis.siting.problem import SolveParams as SitingParams
from gis.siting.writers import write_siting
from gis.writers import write_coverage
from maps import MapOptions, write_map
from routing import write_routes
from routing.region_day import plan_region_routes
from routing.solver import DEFAULT_TIME_LIMIT_S

from .cmd_map import write_public
from .common import (
    OUT_OPTION,
    REGION_OPTION,
    check_count,
    check_out,
    check_seconds,
    console,
    final_path,
    out,
    output,
    parse_date,
    user_errors,
)
from .display import print_area_table, print_worst_items
from .index_page import write_index

STEPS = ("区域 region", "覆盖 coverage", "选址 siting", "地图 map", "路线 routes", "索引 index")
#: Seconds the demo gives the siting solver.
SITING_TIME_LIMIT_S = 30.0
#: (outlet, item) pairs the demo's delegation proposal adds.
DELEGATION_ADD = 5


def register(app: typer.Typer) -> None:
    """Add the `demo` command."""

    @app.command()
    def demo(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        add: int = typer.Option(5, help="New sites the siting proposal chooses."),
        tiles: str = typer.Option("osm", help="Base map of the published map: osm, amap, "
                                  "tianditu (needs TIANDITU_KEY) or none."),
        time_limit: float = typer.Option(DEFAULT_TIME_LIMIT_S, "--time-limit",
                                         help="Seconds for planning the routes."),
        date: str | None = typer.Option(None, help="Day of the route plan (default the next working day)."),
        seed: int = typer.Option(0, help="Seed for the illustrative errands and runners."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary."),
    ) -> None:
        """Coverage, a siting proposal, the service map with the proposals, and the day's
        runner routes and sheets; OUT/index.html links every output."""
        timings: dict[str, float] = {}
        with user_errors():
            check_seconds(time_limit, "--time-limit")
            check_count(add, "--add", low=1)
            check_count(seed, "--seed")
            day = parse_date(date)
            check_out(out_dir)
            options = MapOptions(tiles=tiles)  # checks itself (InputError naming the option)
            with output(out_dir, "demo") as stage, Progress(
                    SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    TimeElapsedColumn(), console=console,
                    disable=quiet or not console.is_terminal) as bar:
                task = bar.add_task("bianmin demo", total=len(STEPS))

                def step_done(name: str, t0: float) -> None:
                    timings[name] = time.perf_counter() - t0
                    bar.advance(task)
                    if not console.is_terminal and not quiet:
                        console.print(f"  {name}: {timings[name]:.1f} s", highlight=False)

                t = time.perf_counter()
                bar.update(task, description="loading the region")
                reg = load_region(region)
                step_done(STEPS[0], t)
                t = time.perf_counter()
                bar.update(task, description="coverage")
                cov = coverage_of_region(reg)
                items = item_coverage_of_region(reg, base=cov)  # None without a catalogue
                cov_files = write_coverage(cov, reg, stage / "coverage", items=items)
                step_done(STEPS[1], t)
                t = time.perf_counter()
                bar.update(task, description=f"choosing {add} new sites")
                plan = plan_sites(reg, add=add, params=SitingParams(
                    time_limit_s=SITING_TIME_LIMIT_S), curve_max=add)
                site_files = write_siting(plan, stage / "siting")
                deleg = None
                if items is not None:  # a small delegation proposal (赋权), shown on the map
                    deleg = plan_delegation(reg, add=DELEGATION_ADD,
                                            time_limit_s=SITING_TIME_LIMIT_S)
                    site_files.update({f"delegation_{k}": f for k, f in
                                       write_delegation(deleg, stage).items()})
                step_done(STEPS[2], t)
                t = time.perf_counter()
                bar.update(task, description="publishing the map")
                write_map(reg, cov, circles_of_region(reg), stage, proposals=plan.chosen,
                          options=options, items=items,
                          delegation=deleg.chosen if deleg is not None else None)
                write_public(reg, stage, options)
                step_done(STEPS[3], t)
                t = time.perf_counter()
                bar.update(task, description="planning the runners' routes")
                day_plan = plan_region_routes(reg, day=day, time_limit=time_limit, seed=seed)
                write_routes(day_plan, stage / "routes", pdf=True)
                n_sheets = len(list((stage / "routes" / "sheets").glob("*.pdf")))
                step_done(STEPS[4], t)
                t = time.perf_counter()
                gain = [ln for ln in plan.summary().splitlines()
                        if ln.startswith("region coverage")]
                summary = [reg.summary(), cov.summary(),
                           *([items.summary().splitlines()[0]] if items is not None else []),
                           *[f"siting, {add} new sites: {g}" for g in gain],
                           *([f"delegation: {deleg.summary()}"] if deleg is not None else []),
                           day_plan.summary().splitlines()[0]]
                index = write_index(stage, title=reg.name, summary_lines=summary, items=items)
                step_done(STEPS[5], t)
        if quiet:
            return
        print_area_table(cov, reg)
        if items is not None:
            print_worst_items(items)
        out.print(plan.summary(), highlight=False)
        out.print(day_plan.summary(), highlight=False)
        route_dir = out_dir / "routes"
        rows = [(final_path(f, stage, out_dir), "coverage 覆盖") for f in cov_files.values()]
        rows += [(final_path(f, stage, out_dir), "siting 选址") for f in site_files.values()]
        rows.append((out_dir / "map" / "public" / "index.html", "citizens' map 政务服务网点"))
        rows.append((out_dir / "map" / "planning" / "index.html", "planning map 规划图"))
        rows.append((route_dir / "plan.json", "day plan 当日计划"))
        rows.append((route_dir / "routes.xlsx", "dispatcher workbook 调度表"))
        rows.append((route_dir / "sheets", f"{n_sheets} runner sheets, HTML + PDF 跑手路线单"))
        rows.append((final_path(index, stage, out_dir), "open this first 从这里打开"))
        out.print("输出 Outputs:", highlight=False)
        for path, what in rows:
            out.print(f"  {path}  — {what}", highlight=False)
        out.print("time: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()),
                  highlight=False)
