"""`bianmin ledger`: the errands ledger — init, import, plan, replan, event, export."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import typer

from routing.solver import DEFAULT_TIME_LIMIT_S

from .common import (
    OUT_OPTION,
    REGION_OPTION,
    check_out,
    check_seconds,
    out,
    output,
    parse_at,
    parse_date,
    step,
    user_errors,
)

DB_OPTION = typer.Option("sqlite:///ledger.db", "--db", envvar="BIANMIN_DB",
                         help="Database URL: sqlite:///path (default) or "
                         "postgresql+psycopg://user@host/db.")
DATE_OPTION = typer.Option(None, "--date", help="The day, YYYY-MM-DD (default the next "
                           "working day).")


def _ledger(db: str, *, create: bool = False):
    """The ledger at ``--db``; a SQLite file that does not exist is refused unless ``create``
    (a typo in the path would otherwise start an empty ledger and report nothing)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from gis.errors import InputError, InputProblem
    from routing.ledger import Ledger

    try:
        url = make_url(db)
    except ArgumentError:
        url = None  # Ledger names the bad URL
    if (not create and url is not None and url.get_backend_name() == "sqlite"
            and url.database not in (None, "", ":memory:")
            and not Path(url.database).exists()):
        raise InputError(InputProblem("--db", None, None, f"no ledger at {url.database}: "
                                      "create it with `bianmin ledger init --db …` first"))
    return Ledger(db)


@contextlib.contextmanager
def _refused(flag: str) -> Iterator[None]:
    """A ledger operation that cannot be done (a user's request): exit 2 naming ``flag``."""
    from gis.errors import InputError, InputProblem
    from routing.ledger import LedgerError

    try:
        yield
    except LedgerError as exc:
        raise InputError(InputProblem(flag, None, None, str(exc))) from None


def register(app: typer.Typer) -> None:
    """Add the `ledger` command group."""
    group = typer.Typer(no_args_is_help=True, help="The errands ledger (台账): intake, "
                        "status events, plans, the month's workbook.")
    app.add_typer(group, name="ledger")

    @group.command("init")
    def init(db: str = DB_OPTION) -> None:
        """Create or migrate the ledger's database to the newest revision."""
        from routing.ledger import upgrade

        with user_errors():
            _ledger(db, create=True)  # the URL and the folder checked: exit 2, not a traceback
            rev = upgrade(db)
        out.print(f"ledger ready at revision {rev}", highlight=False)

    @group.command("import")
    def import_(db: str = DB_OPTION, errands: Path | None = typer.Option(
                    None, help="The day's errands CSV/XLSX."),
                runners: Path | None = typer.Option(None, help="Runners CSV/XLSX."),
                region: Path = REGION_OPTION, date: str | None = DATE_OPTION) -> None:
        """Import the day's errands and/or the runners (checked as `routes` checks them)."""
        from gis.region import load_region
        from routing.ledger import IntakeRules

        with user_errors():
            day = parse_date(date)
            rules = IntakeRules.from_region(load_region(region))
            led = _ledger(db, create=True)
            if runners is not None:
                out.print(f"{led.import_runners(runners, rules)} runner(s) on the roster",
                          highlight=False)
            if errands is not None:
                n = len(led.import_errands(errands, day, rules))
                out.print(f"{n} errand(s) added for {day}", highlight=False)

    @group.command("event")
    def event(errand: str = typer.Option(..., help="Errand id."),
              kind: str = typer.Option(..., help="assigned|picked_up|delivered|failed|rated"),
              db: str = DB_OPTION, date: str | None = DATE_OPTION,
              runner: str | None = typer.Option(None, help="Runner id (assigned)."),
              reason: str | None = typer.Option(None, help="Why it failed."),
              rating: int | None = typer.Option(None, help="1-5 (rated)."),
              comment: str | None = typer.Option(None, help="The citizen's comment.")) -> None:
        """Record what happened to an errand."""
        from gis.errors import InputError, InputProblem

        with user_errors():
            day = parse_date(date)
            if rating is not None and kind != "rated":
                raise InputError(InputProblem("--rating", None, None,
                                              f"a rating goes with --kind rated, not {kind!r}"))
            led = _ledger(db)
            if runner is not None and runner not in {r.id for r in led.runners()}:
                raise InputError(InputProblem("--runner", None, None, f"{runner!r} is not on "
                                              "the ledger's roster (bianmin ledger import "
                                              "--runners)"))
            with _refused(f"--errand {errand} --kind {kind}"):
                info = led.record(day, errand, kind, runner_id=runner, reason=reason,
                                  rating=rating, comment=comment, actor="cli")
        out.print(f"{errand}: {info.kind} (event {info.seq})", highlight=False)

    @group.command("plan")
    def plan(db: str = DB_OPTION, region: Path = REGION_OPTION, date: str | None = DATE_OPTION,
             time_limit: float = typer.Option(DEFAULT_TIME_LIMIT_S, "--time-limit", help="Seconds to plan."),
             out_dir: Path = OUT_OPTION, pdf: bool = typer.Option(True, help="PDF sheets."),
             ) -> None:
        """Plan the day from the ledger's errands and runners; store the plan; write sheets."""
        from gis.errors import InputError, InputProblem
        from gis.region import load_region
        from routing import write_routes
        from routing.ledger import errand_frame, runner_frame
        from routing.region_day import plan_region_routes

        with user_errors():
            check_seconds(time_limit, "--time-limit")
            day = parse_date(date)
            check_out(out_dir)
            led = _ledger(db)
            todays = led.errands(day)
            if not todays:
                raise InputError(InputProblem("--date", None, None, f"the ledger holds no "
                                              f"errands for {day}: import them first"))
            roster = led.runners()
            if not roster:
                raise InputError(InputProblem("--db", None, None, "the ledger holds no "
                                              "runners: bianmin ledger import --runners FILE"))
            with output(out_dir, "routes") as stage:
                with step("Planning from the ledger …"):
                    p = plan_region_routes(load_region(region), errands=errand_frame(
                        todays), runners=runner_frame(roster), day=day,
                        time_limit=time_limit)
                write_routes(p, stage / "routes", pdf=pdf)
                pk = led.save_plan(p, kind="morning", actor="cli")
        out.print(p.summary(), highlight=False)
        out.print(f"plan {pk} stored; wrote {out_dir / 'routes'}/", highlight=False)

    @group.command("replan")
    def replan(at: str = typer.Option(..., "--at", help="Re-plan time, HH:MM."),
               db: str = DB_OPTION, region: Path = REGION_OPTION,
               date: str | None = DATE_OPTION,
               time_limit: float = typer.Option(DEFAULT_TIME_LIMIT_S, "--time-limit", help="Seconds."),
               out_dir: Path = OUT_OPTION, pdf: bool = typer.Option(True, help="PDF sheets."),
               ) -> None:
        """Re-plan the day's latest stored plan from the ledger's statuses at --at."""
        from gis.region import load_region
        from routing import write_routes
        from routing.ledger.replan import ledger_replan

        with user_errors():
            check_seconds(time_limit, "--time-limit")
            at_s = parse_at(at)
            day = parse_date(date)
            check_out(out_dir)
            led = _ledger(db)
            with output(out_dir, "routes") as stage:
                with step("Re-planning from the ledger …"):
                    with _refused("--date"):
                        p, pk = ledger_replan(led, load_region(region), day, at_s,
                                              time_limit=time_limit)
                write_routes(p, stage / "routes", pdf=pdf)
        out.print(p.summary(), highlight=False)
        out.print(f"re-plan {pk} stored: {len(p.meta['moved'])} errand(s) moved to another "
                  f"runner; wrote {out_dir / 'routes'}/", highlight=False)

    @group.command("export")
    def export(month: str = typer.Option(..., help="The month, YYYY-MM."),
               db: str = DB_OPTION, region: Path | None = typer.Option(
                   None, "--region", help="Region folder: townships from its areas."),
               out_dir: Path = OUT_OPTION) -> None:
        """Write OUT/ledger/taizhang-YYYY-MM.xlsx: every errand with its events and figures."""
        from gis.region import load_region
        from routing.ledger.export import month_tables, parse_month, write_month_workbook

        with user_errors():
            month = f"{parse_month(month)[0]:%Y-%m}"  # 2026-3 → 2026-03, the file's name too
            check_out(out_dir)
            areas = None if region is None else load_region(region).areas
            tables = month_tables(_ledger(db), month, areas=areas)
            with output(out_dir, "ledger") as stage:
                (stage / "ledger").mkdir(parents=True, exist_ok=True)
                write_month_workbook(tables, stage / "ledger" / f"taizhang-{month}.xlsx")
        out.print(f"{len(tables['errands'])} errand(s), {len(tables['events'])} event(s); "
                  f"wrote {out_dir / 'ledger' / f'taizhang-{month}.xlsx'}", highlight=False)
