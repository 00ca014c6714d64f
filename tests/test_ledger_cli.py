"""`bianmin ledger` end to end on data/chengdu: init, import, plan, events, replan, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bianmin.cli import app
from routing import demo_errands, demo_runners
from routing.ledger import Ledger
from routing.region_day import region_outlets

REGION = str(Path(__file__).resolve().parents[1] / "data" / "chengdu")
DATE = "2026-11-02"


@pytest.mark.slow
def test_ledger_day_from_the_command_line(chengdu, tmp_path: Path) -> None:
    """A day kept in the ledger: planned, reported on, re-planned, and in the month's 台账."""
    outlets, bases = region_outlets(chengdu)
    e, r = tmp_path / "errands.csv", tmp_path / "runners.csv"
    demo_errands(outlets, chengdu.demand, n=20, seed=9).to_csv(e, index=False)
    demo_runners(bases, n=4, seed=9, modes=tuple(chengdu.network.modes)).to_csv(r, index=False)
    db = f"sqlite:///{tmp_path / 'ledger.db'}"
    cli = CliRunner()

    def ok(*args: str) -> str:
        res = cli.invoke(app, ["ledger", *args, "--db", db])
        assert res.exit_code == 0, res.output
        return res.output

    assert "revision 0002" in ok("init")
    assert "20 errand(s) added" in ok("import", "--errands", str(e), "--runners", str(r),
                                      "--region", REGION, "--date", DATE)
    ok("plan", "--region", REGION, "--date", DATE, "--time-limit", "6", "--out",
       str(tmp_path / "out"), "--no-pdf")
    led = Ledger(db)
    import datetime as dt

    day = dt.date.fromisoformat(DATE)
    morning = led.latest_plan(day)
    first = next(x for x in morning["routes"] if x["stops"])
    eid = first["stops"][0]["errand_id"]
    ok("event", "--date", DATE, "--errand", eid, "--kind", "delivered")
    ok("event", "--date", DATE, "--errand", eid, "--kind", "rated", "--rating", "5")
    bad = cli.invoke(app, ["ledger", "event", "--db", db, "--date", DATE, "--errand", eid,
                           "--kind", "rated", "--rating", "4"])
    assert bad.exit_code == 2 and "already rated" in bad.output
    out = ok("replan", "--region", REGION, "--date", DATE, "--at", "12:00", "--time-limit",
             "6", "--out", str(tmp_path / "out2"), "--no-pdf")
    assert "re-plan" in out and (tmp_path / "out2" / "routes" / "plan.json").exists()
    again = led.latest_plan(day)
    served = [s["errand_id"] for x in again["routes"] if x["runner_id"] == first["runner_id"]
              for s in x["stops"]]
    assert served[0] == eid  # the delivered errand stays first on its runner's route
    ok("export", "--month", "2026-11", "--region", REGION, "--out", str(tmp_path / "out3"))
    wb = load_workbook(tmp_path / "out3" / "ledger" / "taizhang-2026-11.xlsx")
    ws = wb["按跑腿员 By runner"]
    rows = {row[0]: row for row in ws.iter_rows(min_row=2, values_only=True)}
    assert rows[first["runner_id"]][2] == 1 and rows[first["runner_id"]][7] == 5
    towns = [c.value for c in wb["按乡镇 By township"]["A"][1:]]
    assert towns and all(t for t in towns)
    led.close()
