"""`bianmin site`: which sites close the gaps best (location-allocation with OR-Tools)."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from gis.errors import InputError, InputProblem
from gis.region import load_region
from gis.siting.candidates import CostTable
from gis.siting.plan import plan_sites
from gis.siting.problem import SolveParams
from gis.siting.writers import write_siting

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    SCHEDULER_OPTION,
    WORKERS_OPTION,
    check_count,
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


def _split(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items


def _site_partitioned(region: Path, out_dir: Path, by: str, add: int,
                      candidates: Path | None, workers: int, scheduler: str,
                      quiet: bool) -> None:
    """`site --partition-by`: county curves on Dask, the exact split, each county's plan."""
    from gis.partition_dask import dask_partitioned_plan
    from gis.region import load_outlets

    with output(out_dir, "site") as stage:
        with step("Loading region …", show=not quiet):
            reg = load_region(region)
            cands = None if candidates is None else load_outlets(
                candidates, datum=reg.settings.datum)
        with step("Choosing sites county by county …", show=not quiet):
            plan = dask_partitioned_plan(reg, by, sites=add, candidates=cands,
                                         scheduler=scheduler, workers=workers)
        files = plan.write(stage)
    print_written(plan.summary(), files, stage, out_dir, quiet)


def register(app: typer.Typer) -> None:
    """Add the `site` command."""

    @app.command()
    def site(
        region: Path = REGION_OPTION,
        out_dir: Path = OUT_OPTION,
        add: int | None = typer.Option(None, "--add", help="Number of new sites to choose."),
        budget: float | None = typer.Option(None, help="Budget in cost units "
                                            "(1 = delegating to a post office)."),
        target: float | None = typer.Option(None, help="Population share to cover, e.g. 0.95 "
                                            "(least cost; --model setcover)."),
        kinds: str | None = typer.Option(None, help="Candidate kinds, comma-separated, e.g. "
                                         "post_office,carrier_shop (default: all)."),
        model: str | None = typer.Option(None, help="mclp | setcover | pmedian (default: mclp, "
                                         "or setcover with --target)."),
        candidates: Path | None = typer.Option(None, help="Extra candidate file (outlet format)."),
        replan: bool = typer.Option(False, help="Plan from scratch: existing outlets are "
                                    "candidates, not kept."),
        grid: float | None = typer.Option(None, help="Also offer new stations on a grid of road "
                                          "nodes this many metres apart."),
        forbid: str | None = typer.Option(None, help="Site ids that may not be chosen."),
        costs: Path | None = typer.Option(None, help="TOML with \\[siting.costs] kind = cost."),
        time_limit: float = typer.Option(60.0, "--time-limit", help="Solver seconds per model."),
        seed: int = typer.Option(0, help="Solver seed (same seed, same answer)."),
        solver: str = typer.Option("scip", help="scip | highs | cbc | cp-sat."),
        weighted: bool = typer.Option(False, "--weighted", help="Maximise request-weighted "
                                      "coverage: a new site handles the catalogue items its "
                                      "kind may be given (delegable_to); needs [files] items."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary, no progress."),
        partition_by: str | None = typer.Option(
            None, "--partition-by", help="Province mode: the areas' field naming the county "
            "(or id). Each county's curve on its own piece, the --add K sites split across "
            "counties exactly; a candidate counts only for the county holding it. Takes "
            "--add (model mclp) and --candidates only."),
        workers: int = WORKERS_OPTION,
        scheduler: str = SCHEDULER_OPTION,
    ) -> None:
        """Choose new sites: most people covered for K sites or a budget, or least cost for a
        target share. A site that adds nobody is never proposed. Writes
        OUT/siting/chosen.csv (with each site's area and address), curve.csv and
        areas_after.csv.

        With --partition-by FIELD (e.g. county): also OUT/siting/counties.csv, the split of
        the K sites across counties. Modelling limit: a candidate counts only for the county
        whose areas hold it (a site just inside county A that would also serve people in
        county B counts only for A)."""
        with user_errors():
            check_out(out_dir)
            check_scheduler(scheduler)
            if partition_by is not None:
                others = {"budget": budget, "target": target, "kinds": kinds, "model": model,
                          "replan": replan, "grid": grid, "forbid": forbid, "costs": costs,
                          "weighted": weighted}
                check_partitioned(add, "sites", "--add K, model mclp", {
                    k: v not in (None, False) and not (k == "model" and v == "mclp")
                    for k, v in others.items()})
                _site_partitioned(region, out_dir, partition_by, add or 0, candidates,
                                  workers, scheduler, quiet)
                return
            check_seconds(time_limit, "--time-limit")
            check_count(seed, "--seed")
            if grid is not None and not (math.isfinite(grid) and grid > 0):
                raise InputError(InputProblem("--grid", None, None,
                                              f"{grid}: expected metres > 0"))
            for flag, value in (("--budget", budget), ("--target", target)):
                if value is not None and not math.isfinite(value):
                    raise InputError(InputProblem(flag, None, None,
                                                  f"{value}: expected a finite number"))
            try:
                params = SolveParams(solver=solver, time_limit_s=time_limit, seed=seed)
            except ValueError as exc:
                raise InputError(InputProblem("arguments", None, None, str(exc))) from exc
            if costs is not None and not costs.exists():
                raise InputError(InputProblem(str(costs), None, None, "file not found"))
            table = CostTable.from_file(costs) if costs is not None else None
            with output(out_dir, "site") as stage:
                with step("Loading region …", show=not quiet):
                    reg = load_region(region)
                with step("Choosing sites …", show=not quiet):
                    plan = plan_sites(reg, add=add, budget=budget, target=target, model=model,
                                      kinds=_split(kinds), candidates_path=candidates,
                                      replan=replan, grid_m=grid, forbid=_split(forbid) or (),
                                      costs=table, params=params, weighted=weighted)
                files = write_siting(plan, stage / "siting")
        if not quiet:
            out.print(plan.summary(), highlight=False)
            for f in files.values():
                out.print(f"wrote {final_path(f, stage, out_dir)}", highlight=False)
