"""`site` and `delegate` partitioned by county: the exact split, the command's files (issue 17)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from gis.partition_plans import partitioned_sites
from gis.partition_siting import province_plan
from gis.synthetic import province, province_candidates
from tests.hostile_data import copy_region, run_cli
from tests.test_hostile_commands import refused


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 4-county synthetic province with 4 candidates per county; 3 sites split (serial)."""
    reg = province(4, 400, 100, seed=3)
    cands = province_candidates(reg, 4, seed=1)
    plan = partitioned_sites(reg, "county", 3, candidates=cands,
                             workdir=tmp_path_factory.mktemp("w"))
    curves = province_plan(reg, "county", sites=3, candidates=cands,
                           workdir=tmp_path_factory.mktemp("c")).curves
    return reg, plan, {k: v["sites"] for k, v in curves.items()}


def test_sites_split_is_the_brute_force_best(setup):
    """The counties' covered population after their plans = the best of every split of 3."""
    reg, plan, curves = setup
    keys = sorted(curves)
    best = max(sum(curves[k][u] for k, u in zip(keys, units, strict=True))
               for units in itertools.product(range(4), repeat=len(keys)) if sum(units) == 3)
    assert plan.counties["sites"].sum() == 3 and len(plan.chosen) == 3
    assert plan.counties["covered_population"].sum() == pytest.approx(best)
    assert plan.curve["covered_population"].iloc[-1] == pytest.approx(best)
    assert list(plan.chosen["rank"]) == [1, 2, 3]
    # each chosen site lies in the county that was given it
    for r in plan.counties.itertuples():
        ids = [s for s in r.site_ids.split(";") if s]
        assert len(ids) == r.sites and all(s.startswith(f"K{r.county}-") for s in ids)


def test_areas_after_cover_every_area_once(setup):
    """areas_after.csv has every area once, in the region's order, and gains only where sited."""
    reg, plan, _ = setup
    assert list(plan.after["area_id"]) == list(reg.areas["id"])
    gain = plan.after.groupby(plan.after["area_id"].str[:4])["gain"].sum()
    given = plan.counties.set_index("county")["sites"]
    assert all(gain[k] == 0 for k in given.index if given[k] == 0)
    assert plan.after["population"].sum() == pytest.approx(reg.demand["population"].sum())


def test_site_partitioned_cli_writes_the_files(tmp_path):
    """`site --partition-by id --add 2` on Andorra exits 0 and writes the command's files."""
    reg = copy_region(tmp_path / "andorra")
    res = run_cli(["site", "--region", str(reg), "--out", str(tmp_path / "o"), "-q",
                   "--partition-by", "id", "--add", "2", "--workers", "1"])
    assert res.exit_code == 0, res.output
    d = tmp_path / "o" / "siting"
    chosen = pd.read_csv(d / "chosen.csv")
    counties = pd.read_csv(d / "counties.csv")
    assert len(chosen) == counties["sites"].sum() <= 2
    curve = pd.read_csv(d / "curve.csv")
    assert list(curve.columns) == ["sites", "cost", "covered_population", "coverage_rate"]
    assert np.all(np.diff(curve["covered_population"]) >= 0)
    assert (d / "areas_after.csv").exists()


def test_delegate_partitioned_cli_writes_the_files(tmp_path):
    """`delegate --partition-by id --add 2` on Andorra exits 0; chosen.csv has the columns."""
    reg = copy_region(tmp_path / "andorra")
    res = run_cli(["delegate", "--region", str(reg), "--out", str(tmp_path / "o"), "-q",
                   "--partition-by", "id", "--add", "2", "--workers", "1"])
    assert res.exit_code == 0, res.output
    d = tmp_path / "o" / "delegation"
    chosen = pd.read_csv(d / "chosen.csv")
    assert list(chosen.columns) == ["outlet_id", "outlet_name", "item_id", "item_name",
                                    "added_population", "added_weighted", "cost", "rank"]
    counties = pd.read_csv(d / "counties.csv", keep_default_na=False)
    assert len(chosen) == counties["delegations"].sum() <= 2
    assert list(pd.read_csv(d / "curve.csv").columns) == ["pairs", "cost", "weighted_coverage"]
    assert (d / "items_after.csv").exists()


@pytest.mark.parametrize("cmd", ["site", "delegate"])
def test_unknown_partition_field_is_refused(tmp_path, cmd):
    """--partition-by district (no such column in the areas) is exit 2 naming it, no output."""
    reg = copy_region(tmp_path / "andorra")
    refused(run_cli([cmd, "--region", str(reg), "--out", str(tmp_path / "o"), "-q",
                     "--partition-by", "district", "--add", "1", "--workers", "1"]),
            "district", "areas")
    assert not list((tmp_path / "o").glob("*/*.csv"))  # nothing half-written


def test_site_partitioned_refuses_budget(tmp_path):
    """`site --partition-by id --budget 3` is exit 2 naming --add and --budget, before work."""
    reg = copy_region(tmp_path / "andorra")
    refused(run_cli(["site", "--region", str(reg), "--out", str(tmp_path / "o"), "-q",
                     "--partition-by", "id", "--budget", "3"]), "--add", "--budget")
