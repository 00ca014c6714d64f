"""Province siting: per-county curves on their pieces equal each county run alone; exact split."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from gis.partition_siting import county_of_points, province_plan
from gis.region import Region
from gis.siting.plan import plan_sites
from gis.synthetic import province, province_candidates


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A 4-county synthetic province, 4 candidates per county, and its 3-site plan (serial)."""
    reg = province(4, 400, 100, seed=3)
    cands = province_candidates(reg, 4, seed=1)
    plan = province_plan(reg, "county", sites=3, candidates=cands,
                         workdir=tmp_path_factory.mktemp("w"))
    return reg, cands, plan


def alone(reg: Region, cands: pd.DataFrame, county: str, folder) -> Region:
    """The county alone on the whole network: its areas, demand and candidates, all outlets."""
    areas = reg.areas[reg.areas["county"] == county].reset_index(drop=True)
    dem = reg.demand[reg.demand["area_id"].isin(areas["id"])].reset_index(drop=True)
    own = cands[cands["id"].str.startswith(f"K{county}-")]
    path = folder / f"{county}.csv"
    pd.DataFrame(own[["id", "name", "kind", "lon", "lat"]]).to_csv(path, index=False)
    return Region(path=reg.path, settings=reg.settings, network=reg.network,
                  outlets=reg.outlets, demand=dem, areas=areas, files={"candidates": path})


def test_candidates_fall_in_their_county(setup):
    """Each synthetic candidate lies inside the county its id names."""
    reg, cands, _ = setup
    got = county_of_points(reg.areas, "county", cands["lon"].to_numpy(), cands["lat"].to_numpy())
    assert list(got) == [i.split("-")[0][1:] for i in cands["id"]]


def test_county_curve_equals_the_county_alone(setup, tmp_path):
    """Each county's curve on its clipped piece equals plan_sites on the county alone."""
    reg, cands, plan = setup
    for county in ("C000", "C003"):
        ref = plan_sites(alone(reg, cands, county, tmp_path), add=3, model="mclp", curve_max=3)
        want = ref.curve["covered_population"].to_numpy(float)
        want = np.r_[want, np.full(4 - len(want), want[-1])]
        np.testing.assert_allclose(plan.curves[county]["sites"], want)


def test_split_equals_brute_force_over_the_curves(setup):
    """The province split of 3 sites is the best of every allocation of the county curves."""
    _, _, plan = setup
    c = {k: v["sites"] for k, v in plan.curves.items()}
    keys = sorted(c)
    for budget in range(4):
        brute = max(sum(c[k][u] for k, u in zip(keys, us, strict=True))
                    for us in itertools.product(range(4), repeat=len(keys)) if sum(us) <= budget)
        assert plan.sites_curve["covered_population"].iloc[budget] == pytest.approx(brute)
    t = plan.sites.set_index("county")
    assert t["sites"].sum() <= 3
    assert t["covered_population"].sum() == pytest.approx(
        plan.sites_curve["covered_population"].iloc[-1])
    for county, row in t.iterrows():  # each county names as many sites as it was given
        ids = [s for s in str(row["site_ids"]).split(";") if s and s != "nan"]
        assert len(ids) <= row["sites"] and all(s.startswith(f"K{county}-") for s in ids)


def test_delegation_curve_equals_the_area_alone(tmp_path):
    """Chengdu by area: an area's delegation curve on its piece equals the area run alone."""
    from gis.items import items_of_region
    from gis.partition_siting import county_curves
    from gis.region import load_region

    reg = load_region("data/chengdu")
    items = items_of_region(reg)
    plan = province_plan(reg, "id", delegations=2, items=items, workdir=tmp_path)
    own_of = county_of_points(reg.areas, "id", reg.outlets["lon"].to_numpy(),
                              reg.outlets["lat"].to_numpy())
    assert plan.delegations["delegations"].sum() == 2
    for key in ("A005", "A011"):
        dem = reg.demand[reg.demand["area_id"] == key].reset_index(drop=True)
        one = Region(path=reg.path, settings=reg.settings, network=reg.network,
                     outlets=reg.outlets, demand=dem,
                     areas=reg.areas[reg.areas["id"] == key].reset_index(drop=True), files={})
        ref = county_curves(one, delegations=2, items=items, own=own_of == key)
        np.testing.assert_allclose(plan.curves[key]["delegations"], ref.deleg_curve)
        assert ref.deleg_curve[2] > ref.deleg_curve[0]  # the area does gain from delegating


def test_coverage_cli_partitioned_equals_whole(tmp_path):
    """`bianmin coverage --partition-by id --workers 2` on Andorra: the whole run's tables."""
    from typer.testing import CliRunner

    from bianmin.cli import app

    run = CliRunner()
    whole = run.invoke(app, ["coverage", "--region", "data/andorra", "--out",
                             str(tmp_path / "w"), "-q"])
    assert whole.exit_code == 0, whole.output
    part = run.invoke(app, ["coverage", "--region", "data/andorra", "--out",
                            str(tmp_path / "p"), "--partition-by", "id", "--workers", "2", "-q"])
    assert part.exit_code == 0, part.output
    for name in ("points.csv", "areas.csv"):
        a = pd.read_csv(tmp_path / "w" / "coverage" / name)
        b = pd.read_csv(tmp_path / "p" / "coverage" / name)
        pd.testing.assert_frame_equal(a, b)
