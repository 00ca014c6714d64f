"""`bianmin delegate`: which service items to delegate to which outlets (赋权)."""

from __future__ import annotations

from pathlib import Path

import typer

from gis.region import load_region
from gis.siting.delegation_plan import check_delegation_args, plan_delegation, write_delegation

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    SCHEDULER_OPTION,
    WORKERS_OPTION,
    check_out,
    check_partitioned,
    check_scheduler,
    check_seconds,
    final_path,
    out,
    output,
    print_written,
    step,
    user_errors,
)


def _delegate_partitioned(region: Path, out_dir: Path, by: str, add: int | None,
                          workers: int, scheduler: str, quiet: bool, **others: object) -> None:
    """`delegate --partition-by`: county curves on Dask, the exact split, each county's plan."""
    from gis.partition_dask import dask_partitioned_plan

    check_partitioned(add, "pairs", "--add K", {k: v is not None for k, v in others.items()})
    with output(out_dir, "delegate") as stage:
        with step("Loading region …", show=not quiet):
            reg = load_region(region)
        with step("Choosing delegations county by county …", show=not quiet):
            plan = dask_partitioned_plan(reg, by, delegations=int(add or 0),
                                         scheduler=scheduler, workers=workers)
        files = plan.write(stage)
    print_written(plan.summary(), files, stage, out_dir, quiet)


def register(app: typer.Typer) -> None:
    """Add the `delegate` command."""

    @app.command()
    def delegate(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        budget: float | None = typer.Option(None, help="Budget in pair-cost units "
                                            "(outlets' delegation_cost, default 1 a pair)."),
        add: int | None = typer.Option(None, "--add", help="Number of (outlet, item) pairs."),
        target: float | None = typer.Option(None, help="Request-weighted coverage share to "
                                            "reach at least cost, e.g. 0.9."),
        items: str | None = typer.Option(None, help="Only these item ids or names, "
                                         "comma-separated (default: the whole catalogue)."),
        max_new_per_outlet: int | None = typer.Option(None, "--max-new-per-outlet",
                                                      help="At most this many new items per "
                                                      "outlet (one exact MIP over all pairs)."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Solver seconds."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary, no progress."),
        partition_by: str | None = typer.Option(
            None, "--partition-by", help="Province mode: the areas' field naming the county "
            "(or id). Each county's delegation curve on its own piece, the --add K pairs "
            "split across counties exactly; a county delegates only to its own outlets. "
            "Takes --add only."),
        workers: int = WORKERS_OPTION,
        scheduler: str = SCHEDULER_OPTION,
    ) -> None:
        """Delegate catalogue items to outlets whose kind may take them (delegable_to), for
        the most request-weighted coverage: exactly one of --add K pairs, --budget B or
        --target SHARE. Exact (OR-Tools); proven optimal or the gap is reported. Writes
        OUT/delegation/chosen.csv, curve.csv and items_after.csv.

        With --partition-by FIELD (e.g. county): also OUT/delegation/counties.csv, the split
        of the K pairs across counties. Modelling limit: a county delegates only to the
        outlets inside its own areas, and a delegation counts only for that county's people."""
        with user_errors():
            check_out(out_dir)
            check_scheduler(scheduler)
            if partition_by is not None:
                _delegate_partitioned(region, out_dir, partition_by, add, workers, scheduler,
                                      quiet, budget=budget, target=target, items=items,
                                      max_new_per_outlet=max_new_per_outlet)
                return
            check_seconds(time_limit, "--time-limit")
            check_delegation_args(budget=budget, add=add, target=target,
                                  max_new_per_outlet=max_new_per_outlet)
            ids = [t.strip() for t in items.split(",") if t.strip()] if items else None
            with output(out_dir, "delegate") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                with step("Choosing delegations …", show=not quiet):
                    plan = plan_delegation(reg, budget=budget, add=add, target=target,
                                           items=ids, max_new_per_outlet=max_new_per_outlet,
                                           time_limit_s=time_limit)
                files = write_delegation(plan, stage)
        if not quiet:
            out.print(plan.summary(), highlight=False)
            n = len(plan.chosen)
            if add is not None and n < add:  # more pairs asked for than any that help
                out.print(f"asked for {add} pair(s); only {n} delegable (outlet, item) pair(s) "
                          "reach anyone not yet covered, and all of them are chosen",
                          highlight=False)
            for r in plan.chosen.head(10).itertuples():
                out.print(f"  {r.rank:>3}. {r.outlet_name} ({r.outlet_id}) 新增事项: "
                          f"{r.item_name} +{r.added_population:,.0f} people", highlight=False)
            for f in files.values():
                out.print(f"wrote {final_path(f, stage, out_dir)}", highlight=False)
