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
