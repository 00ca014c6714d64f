"""`bianmin site` on the bundled region: files, columns, exit code 2 on bad input."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from bianmin import cmd_site

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def main() -> None:
        """Test app holding only `site`."""

    cmd_site.register(a)
    return a


def test_site_add_writes_three_tables(app, tmp_path):
    """--add K writes chosen/curve/areas with the documented columns; the curve grows."""
    r = CliRunner().invoke(app, ["site", "--region", str(ROOT / "data/chengdu"), "--out",
                                 str(tmp_path), "--add", "3", "--seed", "1"])
    assert r.exit_code == 0, r.output
    chosen = pd.read_csv(tmp_path / "siting/chosen.csv", encoding="utf-8-sig")
    curve = pd.read_csv(tmp_path / "siting/curve.csv", encoding="utf-8-sig")
    areas = pd.read_csv(tmp_path / "siting/areas_after.csv", encoding="utf-8-sig")
    for col in ("site_id", "name", "kind", "lon", "lat", "added_population", "rank"):
        assert col in chosen
    assert list(curve.columns) == ["sites", "cost", "covered_population", "coverage_rate"]
    assert curve["covered_population"].is_monotonic_increasing
    assert 1 <= len(chosen) <= 3
    gain = areas["covered_after"].sum() - areas["covered_before"].sum()
    assert gain == pytest.approx(chosen["added_population"].sum(), abs=1.0)
    assert "region coverage" in r.output


@pytest.mark.parametrize(("args", "match"), [
    (["--add", "2", "--budget", "3"], "exactly one of"),
    (["--target", "1.0"], "cannot be reached"),
    (["--add", "1", "--kinds", "nothing"], "no candidate sites"),
    (["--add", "2", "--model", "nope"], "--model"),
    (["--add", "2", "--forbid", "ZZZ"], "unknown site id 'ZZZ'"),
])
def test_site_bad_input_exits_2(app, tmp_path, args, match):
    """Bad input: exit code 2 and a reason naming the argument; nothing written."""
    r = CliRunner().invoke(app, ["site", "--region", str(ROOT / "data/chengdu"), "--out",
                                 str(tmp_path), "-q", *args])
    assert r.exit_code == 2, r.output
    assert match in " ".join(r.output.split())
    assert not (tmp_path / "siting" / "chosen.csv").exists()
