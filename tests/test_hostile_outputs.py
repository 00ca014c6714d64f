"""Outputs land whole: stale files go, one writer at a time, a killed run loses nothing."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bianmin.cli import app
from gis.errors import InputError
from gis.outdir import LOCK_NAME, OutputBusyError, output_lock, staged_folder, staged_output
from tests.conftest import DATA

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-c", "from bianmin.cli import app; app()"]


def _routes_args(out: Path, runners: int, *, seed: int = 0, pdf: bool = False) -> list[str]:
    return ["routes", "--region", str(DATA / "chengdu"), "--out", str(out), "--demo-errands",
            "12", "--demo-runners", str(runners), "--seed", str(seed), "--time-limit", "3",
            "--date", "2026-12-01", "-q", "--pdf" if pdf else "--no-pdf"]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def _runner_ids(out: Path) -> list[str]:
    plan = json.loads((out / "routes" / "plan.json").read_text(encoding="utf-8"))
    return sorted(r["runner_id"] for r in plan["routes"])


def _sheets(out: Path, ext: str = "html") -> list[Path]:
    return sorted((out / "routes" / "sheets").glob(f"*.{ext}"))


def test_second_routes_run_removes_stale_sheets(tmp_path):
    """Four runners, then two: the folder holds two sheets, not the first run's four."""
    r1 = CliRunner().invoke(app, _routes_args(tmp_path, 4))
    assert r1.exit_code == 0, r1.output
    assert len(_sheets(tmp_path)) == 4
    r2 = CliRunner().invoke(app, _routes_args(tmp_path, 2))
    assert r2.exit_code == 0, r2.output
    assert len(_runner_ids(tmp_path)) == 2
    assert len(_sheets(tmp_path)) == 2
    assert not list(tmp_path.glob(".*.tmp-*")), "a staging folder was left behind"


def test_run_waits_then_refuses_while_another_holds_the_lock(tmp_path, monkeypatch):
    """With OUT locked by another run, the CLI waits the given time, exits 1, writes nothing."""
    monkeypatch.setenv("BIANMIN_LOCK_WAIT", "0.5")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)  # the lock is on OUT itself
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        t0 = time.monotonic()
        res = CliRunner().invoke(app, _routes_args(tmp_path, 2))
        waited = time.monotonic() - t0
    finally:
        os.close(fd)
    assert res.exit_code == 1, res.output
    assert "another bianmin run" in " ".join(res.output.split())
    assert waited >= 0.5
    assert not (tmp_path / "routes").exists()
    assert "Traceback" not in res.output


def test_two_runs_at_once_do_not_mix(tmp_path):
    """Two routes runs into one folder at once: both finish, the folder is one run's whole."""
    procs = [subprocess.Popen(CLI + _routes_args(tmp_path, n, seed=n), cwd=ROOT, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for n in (3, 5)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (so, se) in zip(procs, outs, strict=True):
        assert p.returncode == 0, so + se
    ids = _runner_ids(tmp_path)
    assert len(ids) in (3, 5)
    assert len(_sheets(tmp_path)) == len(ids)
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_sigkill_mid_write_keeps_previous_output(tmp_path):
    """A run killed while writing its sheets leaves the previous plan and sheets untouched."""
    first = CliRunner().invoke(app, _routes_args(tmp_path, 3))
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in (tmp_path / "routes").rglob("*") if p.is_file()}
    proc = subprocess.Popen(CLI + _routes_args(tmp_path, 6, seed=1, pdf=True), cwd=ROOT,
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            if any(tmp_path.glob(".routes.tmp-*/routes/sheets/*")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be killed mid-write"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    after = {p.name: p.read_bytes() for p in (tmp_path / "routes").rglob("*") if p.is_file()}
    assert after == before
    # the next run clears the killed run's staging folder and lands whole
    again = CliRunner().invoke(app, _routes_args(tmp_path, 2))
    assert again.exit_code == 0, again.output
    assert len(_sheets(tmp_path)) == 2
    assert not list(tmp_path.glob(".*.tmp-*"))


def test_failed_swap_puts_the_old_folder_back(tmp_path, monkeypatch):
    """If renaming the new folder in fails, the old one is renamed back, whole."""
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "index.html").write_text("old map")
    real = os.rename

    def flaky(src, dst):
        if Path(src).name == "map" and ".tmp-" in str(src) and ".old" not in str(src):
            raise OSError("disk went away")
        return real(src, dst)

    monkeypatch.setattr(os, "rename", flaky)
    with pytest.raises(OSError, match="disk went away"), staged_output(tmp_path, "map") as st:
        (st / "map").mkdir()
        (st / "map" / "index.html").write_text("new map")
    assert (tmp_path / "map" / "index.html").read_text() == "old map"


def test_old_folder_left_aside_by_a_killed_swap_is_restored(tmp_path):
    """A run killed between 'old aside' and 'new in' loses nothing: the next run restores it."""
    aside = tmp_path / ".map.tmp-dead" / ".old" / "map"
    aside.mkdir(parents=True)
    (aside / "index.html").write_text("old map")
    with staged_output(tmp_path, "coverage") as st:
        (st / "coverage").mkdir()
    assert (tmp_path / "map" / "index.html").read_text() == "old map"
    assert not (tmp_path / ".map.tmp-dead").exists()


def test_output_lock_refuses_after_waiting(tmp_path):
    """A held lock makes a second holder wait ``wait_s`` and then raise OutputBusyError."""
    with output_lock(tmp_path / LOCK_NAME, wait_s=0):
        t0 = time.monotonic()
        with pytest.raises(OutputBusyError, match="another bianmin run"), \
                output_lock(tmp_path / LOCK_NAME, wait_s=0.3):
            pass
        assert time.monotonic() - t0 >= 0.3


def test_region_init_refuses_a_non_empty_folder(tmp_path):
    """`region init` into a folder with files: exit 2 naming --force; the files stay."""
    region = tmp_path / "r"
    region.mkdir()
    (region / "outlets.csv").write_text("hand-edited\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["region", "init", "--osm", str(DATA / "andorra" /
                                   "roads.osm.pbf"), "--out", str(region)])
    assert res.exit_code == 2, res.output
    assert "--force" in res.output and "not empty" in res.output
    assert (region / "outlets.csv").read_text(encoding="utf-8") == "hand-edited\n"


def test_region_init_force_that_fails_keeps_the_old_folder(tmp_path):
    """--force with an unreadable extract: the run fails and the old region is still whole."""
    region = tmp_path / "r"
    region.mkdir()
    (region / "outlets.csv").write_text("hand-edited\n", encoding="utf-8")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='x'", encoding="utf-8")
    res = CliRunner().invoke(app, ["region", "init", "--osm", str(bad), "--out", str(region),
                                   "--force"])
    assert res.exit_code in (1, 2), res.output
    assert (region / "outlets.csv").read_text(encoding="utf-8") == "hand-edited\n"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == \
        ["bad.osm", "r"]


def test_staged_folder_refuses_non_empty_without_force(tmp_path):
    """The library refuses to replace a folder with files unless forced."""
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "x.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"), staged_folder(tmp_path / "r"):
        pass


@pytest.mark.parametrize("make", ["file", "under_a_file"])
def test_out_that_cannot_be_written_is_refused_before_work(tmp_path, make):
    """--out that is a file or cannot be made: exit 2 naming --out, before loading anything."""
    (tmp_path / "f.txt").write_text("x")
    out = tmp_path / "f.txt" if make == "file" else tmp_path / "f.txt" / "out"
    t0 = time.monotonic()
    res = CliRunner().invoke(app, ["coverage", "--region", str(tmp_path / "missing"), "--out",
                                   str(out), "-q"])
    assert res.exit_code == 2, res.output
    assert "--out" in res.output
    assert time.monotonic() - t0 < 5


def test_replace_folder_puts_the_old_one_back_when_the_swap_fails(tmp_path, monkeypatch):
    """A failed rename into place leaves the old folder whole and in place."""
    from gis.outdir import replace_folder

    final, new = tmp_path / "map", tmp_path / ".map.new"
    final.mkdir()
    (final / "index.html").write_text("old", encoding="utf-8")
    new.mkdir()
    (new / "index.html").write_text("new", encoding="utf-8")
    real = os.replace

    def failing(src, dst):
        if Path(src) == new:
            raise OSError("disk full")
        return real(src, dst)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(OSError):
        replace_folder(new, final)
    monkeypatch.setattr(os, "replace", real)
    assert (final / "index.html").read_text(encoding="utf-8") == "old"
    replace_folder(new, final)
    assert (final / "index.html").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map"]
