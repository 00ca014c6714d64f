"""`bianmin delegate` on a bundled region: files, columns, gains, exit code 2 on bad input."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from bianmin import cmd_delegate

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def main() -> None:
        """Test app holding only `delegate`."""

    cmd_delegate.register(a)
    return a


def test_delegate_add_writes_tables(app, tmp_path):
    """--add 3 on Andorra: three pairs at the post office, the curve rises, after ≥ before."""
    r = CliRunner().invoke(app, ["delegate", "--region", str(ROOT / "data/andorra"), "--out",
                                 str(tmp_path), "--add", "3"])
    assert r.exit_code == 0, r.output
    chosen = pd.read_csv(tmp_path / "delegation/chosen.csv", encoding="utf-8-sig")
    curve = pd.read_csv(tmp_path / "delegation/curve.csv", encoding="utf-8-sig")
    after = pd.read_csv(tmp_path / "delegation/items_after.csv", encoding="utf-8-sig")
    assert list(chosen.columns) == ["outlet_id", "outlet_name", "item_id", "item_name",
                                    "added_population", "added_weighted", "cost", "rank"]
    assert len(chosen) == 3 and set(chosen["outlet_id"]) == {"P002"}  # the only post office
    # the three heaviest items the post office may take: 水电气缴费 40, 社保卡申领 30, 养老金 25
    assert set(chosen["item_id"]) == {"I34", "I01", "I04"}
    assert list(curve.columns) == ["pairs", "cost", "weighted_coverage"]
    assert curve["weighted_coverage"].is_monotonic_increasing and len(curve) == 4
    assert (after["covered_after"] >= after["covered_before"]).all()
    assert "proven optimal" in r.output


@pytest.mark.parametrize("args, match", [
    (["--add", "2", "--budget", "3"], "exactly one"),
    (["--target", "1.5"], "--target"),
    (["--add", "2", "--items", "I01,NOPE"], "unknown item 'NOPE'"),
])
def test_delegate_bad_input(app, tmp_path, args, match):
    """Bad arguments exit with code 2 and a one-line reason."""
    r = CliRunner().invoke(app, ["delegate", "--region", str(ROOT / "data/andorra"), "--out",
                                 str(tmp_path), *args])
    assert r.exit_code == 2 and match in r.output


def test_delegate_writes_through_the_staging_folder(app, tmp_path):
    """Files land in OUT/delegation, no staging folder is left, an older file is replaced."""
    old = tmp_path / "delegation" / "stale.csv"
    old.parent.mkdir(parents=True)
    old.write_text("x\n")
    r = CliRunner().invoke(app, ["delegate", "--region", str(ROOT / "data/andorra"), "--out",
                                 str(tmp_path), "--add", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "delegation/chosen.csv").exists() and not old.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".delegate")]


@pytest.mark.parametrize("args, match", [
    (["--add", "2", "--budget", "3"], "exactly one"),
    (["--budget", "nan"], "--budget"),
    (["--add", "1", "--max-new-per-outlet", "-1"], "--max-new-per-outlet"),
    (["--add", "1", "--time-limit", "0"], "--time-limit"),
])
def test_delegate_checks_arguments_before_loading(app, tmp_path, args, match):
    """Argument errors come first (exit 2) even when the region folder does not exist."""
    r = CliRunner().invoke(app, ["delegate", "--region", str(tmp_path / "nowhere"), "--out",
                                 str(tmp_path / "out"), *args])
    assert r.exit_code == 2 and match in r.output and "nowhere" not in r.output
    assert not (tmp_path / "out" / "delegation").exists()


def test_delegate_help_names_the_outputs(app):
    """--help explains the three limits and the files written."""
    r = CliRunner().invoke(app, ["delegate", "--help"])
    text = " ".join(r.output.split())
    assert r.exit_code == 0
    for word in ("--add", "--budget", "--target", "--max-new-per-outlet", "chosen.csv"):
        assert word in text
