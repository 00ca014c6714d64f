"""The errands ledger on SQLite and on a real PostgreSQL: migrations, intake, events, plans,
concurrency and the month's 台账."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from test_routing_helpers import synthetic_area

from gis.errors import InputError
from routing import SolveParams, demo_errands, demo_runners, haversine_matrices, plan_day
from routing.ledger import IntakeRules, Ledger, LedgerError, engine_for, head_revision, upgrade
from routing.ledger.db import current_revision
from routing.ledger.export import SHEETS, month_tables, write_month_workbook

DAY = dt.date(2026, 11, 2)  # a Monday


@pytest.fixture(scope="module")
def area():
    """Outlets and demand of a synthetic area."""
    return synthetic_area()


@pytest.fixture
def rules(area):
    """Intake rules of the synthetic area."""
    ids = tuple(area[0]["id"].astype(str))
    return IntakeRules(hall_ids=ids, base_ids=ids)


@pytest.fixture
def files(area, tmp_path):
    """A day's errands (8) and runners (2) as CSV files."""
    outlets, demand = area
    e, r = tmp_path / "errands.csv", tmp_path / "runners.csv"
    demo_errands(outlets, demand, n=8, seed=3).to_csv(e, index=False)
    demo_runners(outlets, n=2, seed=3).to_csv(r, index=False)
    return e, r


def _one(ref: str = "H1", **over) -> dict:
    row = {"id": ref, "kind": "home_visit", "pickup_lon": "104.0", "pickup_lat": "30.6",
           "pickup_earliest": "09:00", "pickup_latest": "11:00", "service_minutes": "20",
           "priority": "2", "contact_name": "张三", "contact_phone": "13812345678",
           "items": "社保;医保"}
    return {**row, **over}


def test_migration_from_empty_database(ledger_url) -> None:
    """An empty database is migrated to the newest revision, with every table, twice safely."""
    eng = engine_for(ledger_url)
    assert current_revision(eng) is None
    assert upgrade(ledger_url) == head_revision() == "0002"
    assert upgrade(ledger_url) == "0002"  # idempotent
    tables = set(sa.inspect(eng).get_table_names())
    assert {"runners", "errands", "plans", "plan_stops", "events", "alembic_version"} <= tables
    eng.dispose()


def test_import_files_and_one_errand(ledger_url, files, rules) -> None:
    """Intake from files stores every errand with a created event; one typed errand too."""
    led = Ledger(ledger_url)
    assert len(led.import_errands(files[0], DAY, rules)) == 8
    assert led.import_runners(files[1], rules) == 2
    led.add_errand(_one(), DAY, rules, channel="hotline", actor="d1")
    assert led.board(DAY)["created"] == 9
    assert [e.kind for e in led.events(DAY, "H1")] == ["created"]
    assert led.errands(DAY)[-1].pickup_window == (9 * 3600, 11 * 3600)
    assert len(led.runners()) == 2
    with pytest.raises(InputError, match="already in the ledger"):
        led.import_errands(files[0], DAY, rules)
    assert led.board(DAY)["created"] == 9  # nothing half-stored
    led.close()


def test_one_errand_same_checks_as_a_file(ledger_url, rules) -> None:
    """A typed errand with a bad window and an unknown priority is refused naming each column."""
    led = Ledger(ledger_url)
    with pytest.raises(InputError) as exc:
        led.add_errand(_one(pickup_latest="08:00", priority="9"), DAY, rules)
    cols = {p.column for p in exc.value.problems}
    assert {"pickup_latest", "priority"} <= cols
    assert led.errands(DAY) == []
    led.close()


def test_transitions_and_ratings(ledger_url, rules) -> None:
    """Only allowed transitions; a rating 1-5 once, after delivery; failures need a reason."""
    led = Ledger(ledger_url)
    led.add_errand(_one(), DAY, rules)
    with pytest.raises(LedgerError, match="cannot record delivered"):
        led.record(DAY, "H1", "delivered")
    led.record(DAY, "H1", "assigned", runner_id="R1")
    with pytest.raises(LedgerError, match="reason"):
        led.record(DAY, "H1", "failed")
    with pytest.raises(LedgerError, match="cannot record rated"):
        led.record(DAY, "H1", "rated", rating=5)
    led.record(DAY, "H1", "delivered")
    with pytest.raises(LedgerError, match="1 to 5"):
        led.record(DAY, "H1", "rated", rating=6)
    led.record(DAY, "H1", "rated", rating=4, comment="很快 <b>'; DROP TABLE events;--")
    with pytest.raises(LedgerError, match="already rated"):
        led.record(DAY, "H1", "rated", rating=1)
    with pytest.raises(LedgerError, match="no errand"):
        led.record(DAY, "nope", "assigned", runner_id="R1")
    evs = led.events(DAY, "H1")
    assert [e.kind for e in evs] == ["created", "assigned", "delivered", "rated"]
    assert evs[-1].comment == "很快 <b>'; DROP TABLE events;--" and evs[-1].runner_id == "R1"
    assert led.statuses(DAY)["H1"] == ("delivered", "R1")
    led.close()


def test_events_are_append_only(ledger_url, rules) -> None:
    """The database itself refuses to change or delete an event."""
    led = Ledger(ledger_url)
    led.add_errand(_one(), DAY, rules)
    for stmt in ("UPDATE events SET kind = 'delivered'", "DELETE FROM events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with led.engine.begin() as conn:
                conn.execute(sa.text(stmt))
    assert [e.kind for e in led.events(DAY)] == ["created"]
    led.close()


def test_twenty_concurrent_updates_none_lost(ledger_url, rules) -> None:
    """20 threads re-assign one errand at once: 20 events, numbered 2..21, none lost."""
    led = Ledger(ledger_url)
    led.add_errand(_one(), DAY, rules)
    led.record(DAY, "H1", "assigned", runner_id="R0")
    with ThreadPoolExecutor(20) as pool:
        infos = list(pool.map(lambda i: led.record(DAY, "H1", "assigned", runner_id=f"R{i}"),
                              range(1, 21)))
    seqs = sorted(i.seq for i in infos)
    assert seqs == list(range(3, 23))
    evs = led.events(DAY, "H1")
    assert [e.seq for e in evs] == list(range(1, 23))
    with led.session() as s:
        n = s.scalar(sa.text("SELECT n_events FROM errands"))
    assert n == 22
    last = max(infos, key=lambda i: i.seq)
    assert led.statuses(DAY)["H1"] == ("assigned", last.runner_id)
    led.close()


def _pick_up(url: str, ref: str) -> int:
    led = Ledger(url, migrate=False)
    try:
        return led.record(DAY, ref, "picked_up").seq
    finally:
        led.close()


def test_twenty_concurrent_updates_from_processes(ledger_url, rules) -> None:
    """20 processes each pick up an errand and then one more contends: every update is stored."""
    led = Ledger(ledger_url)
    for i in range(20):
        led.add_errand(_one(f"H{i}"), DAY, rules)
        led.record(DAY, f"H{i}", "assigned", runner_id="R1")
    led.close()
    with ProcessPoolExecutor(4, mp_context=mp.get_context("fork")) as pool:
        seqs = list(pool.map(_pick_up, [ledger_url] * 20, [f"H{i}" for i in range(20)]))
    assert seqs == [3] * 20
    led = Ledger(ledger_url, migrate=False)
    assert led.board(DAY)["picked_up"] == 20
    assert sum(e.kind == "picked_up" for e in led.events(DAY)) == 20
    led.close()


def test_plan_stored_and_month_workbook(ledger_url, area, files, rules, tmp_path) -> None:
    """A plan from the ledger assigns its errands; the 台账 counts on-time and ratings."""
    outlets, _ = area
    led = Ledger(ledger_url)
    led.import_errands(files[0], DAY, rules)
    led.import_runners(files[1], rules)
    plan = plan_day(led.errands(DAY), led.runners(), outlets, matrices=haversine_matrices,
                    date=DAY, params=SolveParams(time_limit_s=2))
    pk = led.save_plan(plan)
    assert led.latest_plan(DAY)["n_served"] == plan.n_served
    served = {s.errand_id: r.runner_id for r in plan.routes for s in r.stops}
    st = led.statuses(DAY)
    assert {k: v[1] for k, v in st.items() if v[0] == "assigned"} == served
    assert all(e.kind != "assigned" or e.runner_id == served[e.errand_ref]
               for e in led.events(DAY))
    e0, e1 = list(served)[:2]
    late = dt.datetime.combine(DAY, dt.time(23, 59))
    led.record(DAY, e0, "delivered", at=dt.datetime.combine(DAY, dt.time(6, 0)))
    led.record(DAY, e0, "rated", rating=5)
    led.record(DAY, e1, "delivered", at=late)  # after every window: late
    led.record(DAY, e1, "rated", rating=2, comment="=1+1")
    tables = month_tables(led, "2026-11")
    assert len(tables["errands"]) == 8 and pk > 0
    row = tables["errands"].set_index("errand_id")
    assert row.loc[e0, "on_time"] == "yes" and row.loc[e1, "on_time"] == "no"
    items = tables["item"]
    assert items["errands"].sum() >= 8
    rr = tables["runner"].set_index("runner_id")
    stars = {e0: 5.0, e1: 2.0}
    for who in {served[e0], served[e1]}:
        mine = [x for x in (e0, e1) if served[x] == who]
        assert rr.loc[who, "delivered"] == len(mine)
        assert rr.loc[who, "mean_rating"] == pytest.approx(sum(stars[x] for x in mine) / len(mine))
    path = write_month_workbook(tables, tmp_path / "taizhang.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames == list(SHEETS.values())
    ws = wb[SHEETS["errands"]]
    assert ws.freeze_panes == "A2"
    comments = [c.value for c in wb[SHEETS["events"]]["I"]]
    assert "=1+1" in comments and all(c.data_type == "s" for c in wb[SHEETS["events"]]["I"][1:]
                                      if c.value)
    assert tables["runner"]["on_time"].sum() == 1
    led.close()


def test_month_outside_is_empty_and_bad_month_refused(ledger_url) -> None:
    """Another month has no errands; a malformed month is the user's error."""
    led = Ledger(ledger_url)
    assert month_tables(led, "2026-10")["errands"].empty
    with pytest.raises(InputError, match="YYYY-MM"):
        month_tables(led, "11/2026")
    led.close()


def test_bad_url_is_the_users_error(tmp_path: Path) -> None:
    """A URL of another database or a missing folder is refused as input."""
    with pytest.raises(InputError, match="expected sqlite or postgresql"):
        engine_for("mysql://x@y/z")
    with pytest.raises(InputError, match="does not exist"):
        engine_for(f"sqlite:///{tmp_path}/no/such/ledger.db")
