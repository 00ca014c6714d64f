"""`bianmin region check`: islands holding people, largest snaps, fixes; exit 0, or 2 on bad input."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from bianmin.cli import app
from gis.netcheck import check_region_network
from tests.conftest import DATA


def test_andorra_report_names_sant_julia_island_and_its_fix(andorra):
    """Sant Julià's walking island: its people, no outlet, a ~157 m gap to close with a road."""
    rep = check_region_network(andorra)
    walk = rep.islands[rep.islands["mode"] == "walk"]
    top = walk.iloc[0]
    sj = rep.coverage.points["area_id"] == "A027"
    # Sant Julià's points lie on its big island (and two tiny ones beside it)
    alone = walk.loc[~walk["has_outlet"], "population"].sum()
    assert alone >= rep.coverage.points.loc[sj, "population"].sum() > 5000
    assert top["population"] > 5000 and top["nodes"] > 5000
    assert not top["has_outlet"] and 150 < top["gap_m"] < 165  # 157 m, measured by hand
    assert "extra_roads" in top["fix"]
    assert len(rep.far) == 10 and rep.far["snap_m"].is_monotonic_decreasing
    assert rep.detour_population > 0


def test_cli_exit_codes(tmp_path):
    """The report exits 0 and names the islands; a broken region.toml exits 2, no traceback."""
    runner = CliRunner()
    res = runner.invoke(app, ["region", "check", str(DATA / "andorra")])
    assert res.exit_code == 0, res.output
    assert "road island(s) hold people" in res.output and "extra_roads" in res.output
    bad = tmp_path / "bad"
    shutil.copytree(DATA / "andorra", bad)
    (bad / "region.toml").write_text("[files]\nroads = 'nope.pbf'\n")
    res = runner.invoke(app, ["region", "check", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.output
