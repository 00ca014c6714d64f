"""`bianmin routes`: the day's errands and runners -> one route per runner and their sheets;
`bianmin routes replan`: the same day re-planned at a time of day from what happened."""

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
    parse_at,
    parse_date,
    step,
    user_errors,
)


def register(app: typer.Typer) -> None:
    """Add the `routes` command group (plain `routes` plans the day, as it always did)."""
    group = typer.Typer(invoke_without_command=True, no_args_is_help=False)
    app.add_typer(group, name="routes")

    @group.callback()
    def routes(
        ctx: typer.Context,
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
        if ctx.invoked_subcommand is not None:
            return
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

    @group.command("replan")
    def replan(
        plan_file: Path = typer.Option(..., "--plan", help="The morning's OUT/routes/plan.json."),
        status: Path = typer.Option(..., "--status", help="STATUS.csv: errand_id, status "
                                    "(done, picked_up, failed, new + the new errand's columns)."),
        at: str = typer.Option(..., "--at", help="Re-plan time, HH:MM."),
        region: Path = REGION_OPTION,
        errands: Path | None = typer.Option(None, help="The day's errands CSV/XLSX (plan.json "
                                            "holds no personal data; default as `routes`)."),
        runners: Path | None = typer.Option(None, help="Runners CSV/XLSX (default as `routes`)."),
        time_limit: float = typer.Option(DEFAULT_TIME_LIMIT_S, "--time-limit",
                                         help="Seconds for the re-plan."),
        out_dir: Path = OUT_OPTION,
        seed: int = typer.Option(0, help="Seed of the demo errands and runners (as `routes`)."),
        demo_errand_count: int = typer.Option(60, "--demo-errands", help="Demo errands."),
        demo_runner_count: int = typer.Option(8, "--demo-runners", help="Demo runners."),
        pdf: bool = typer.Option(True, help="Also write PDF sheets."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary."),
    ) -> None:
        """Re-plan the rest of the day at --at; write OUT/routes/ as `routes` does."""
        import datetime as dt
        import json

        from gis.errors import InputError, InputProblem
        from routing.region_day import region_outlets
        from routing.replan import read_status, replan_region_routes

        with user_errors():
            check_seconds(time_limit, "--time-limit")
            at_s = parse_at(at)
            try:
                morning = json.loads(plan_file.read_text(encoding="utf-8"))
                dt.date.fromisoformat(morning["date"])  # the keys a plan has, of their kinds
                if not (isinstance(morning["routes"], list)
                        and all(isinstance(r, dict) for r in morning["routes"])):
                    raise ValueError("'routes' is not a list of routes")
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(InputProblem(str(plan_file), None, None, "not a plan.json "
                                              f"written by `bianmin routes`: {exc}")) from None
            check_out(out_dir)
            with output(out_dir, "routes") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                outlets, _ = region_outlets(reg)
                states, new = read_status(str(status), hall_ids=tuple(outlets["id"]))
                with step("Re-planning …", show=not quiet):
                    plan = replan_region_routes(
                        reg, morning, status=states, new=new, at=at_s,
                        errands_path=None if errands is None else str(errands),
                        runners_path=None if runners is None else str(runners),
                        time_limit=time_limit, seed=seed, n_errands=demo_errand_count,
                        n_runners=demo_runner_count)
                with step("Writing sheets …", show=not quiet):
                    write_routes(plan, stage / "routes", pdf=pdf)
        if not quiet:
            out.print(plan.summary(), highlight=False)
            out.print(f"re-planned at {at}: {len(plan.meta['moved'])} errand(s) moved to "
                      f"another runner; wrote {out_dir / 'routes'}/plan.json", highlight=False)
