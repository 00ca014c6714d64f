"""`bianmin routes`: the day's errands and runners -> one route per runner and their sheets."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.region import load_region
from routing import write_routes
from routing.deadline import Deadline
from routing.region_day import plan_region_routes
from routing.solver import DEFAULT_TIME_LIMIT_S

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    check_count,
    check_out,
    check_seconds,
    out,
    output,
    parse_date,
    step,
    user_errors,
)


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
        time_limit: float = typer.Option(
            DEFAULT_TIME_LIMIT_S, "--time-limit",
            help="Seconds for the whole plan once the region is loaded: reading the errands, "
            "travel times, solving, repair and checks (writing the sheets comes after)."),
        out_dir: Path = OUT_OPTION,
        seed: int = typer.Option(0, help="Seed for the demo errands and runners."),
        demo_errand_count: int = typer.Option(60, "--demo-errands", help="Demo errands."),
        demo_runner_count: int = typer.Option(8, "--demo-runners", help="Demo runners."),
        pdf: bool = typer.Option(True, help="Also write PDF sheets."),
        call_links: bool = typer.Option(
            False, "--call-links", help="Make each masked phone on the runners' HTML sheets a "
            "tel: link to the full number (the number is then in the file; off by default)."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary."),
    ) -> None:
        """Plan the day's runner routes; write OUT/routes/{plan.json, routes.xlsx, sheets/}."""
        with user_errors():
            check_seconds(time_limit, "--time-limit")
            day = parse_date(date)
            if not quiet:
                out.print(f"plan date: {day.isoformat()} ({day.strftime('%A')})"
                          + ("" if date else ", the next working day"), highlight=False)
            check_count(seed, "--seed")
            check_count(demo_errand_count, "--demo-errands")
            check_count(demo_runner_count, "--demo-runners", low=1)
            check_out(out_dir)
            with output(out_dir, "routes") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                with step("Planning the routes …", show=not quiet):
                    deadline = Deadline.after(time_limit)
                    plan = plan_region_routes(reg, errands=errands, runners=runners, day=day,
                                              deadline=deadline, seed=seed,
                                              n_errands=demo_errand_count,
                                              n_runners=demo_runner_count)
                with step("Writing sheets …", show=not quiet):
                    write_routes(plan, stage / "routes", pdf=pdf, call_links=call_links)
        if not quiet:
            target = out_dir / "routes"
            out.print(plan.summary(), highlight=False)
            out.print(f"wrote {target}/plan.json, routes.xlsx, sheets/", highlight=False)
