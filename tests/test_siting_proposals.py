"""Proposals a planner can act on (#12.5) and request-weighted siting (#13.4)."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import scipy.sparse as sp
from shapely.geometry import box

from gis.siting import SitingProblem, SolveParams, solve_mclp
from gis.siting.heuristics import marginal_order
from gis.siting.proposals import locate_in_areas
from gis.siting.weighted import weighted_demand

# points 0..3; A covers {0,1}, B {1,2}, C {0,2}, D {3}: any two of A, B, C cover {0,1,2}
TRIANGLE = sp.csr_array(np.array([[1, 0, 1, 0], [1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]],
                                 bool))


@pytest.mark.parametrize("solver", ["scip", "cp-sat"])
def test_mclp_never_fills_k_with_a_site_adding_nobody(solver):
    """K = 4 with a hint opening all four: only three sites add anyone, so three are chosen."""
    p = SitingProblem(TRIANGLE, np.array([10.0, 10.0, 10.0, 5.0]))
    r = solve_mclp(p, p=4, params=SolveParams(solver=solver), hint=np.ones(4, bool))
    assert len(r.new) == 3 and r.covered_weight == pytest.approx(35.0)
    assert 3 in r.new  # D is the only site covering point 3
    _, added = marginal_order(p.cover, p.weights, r.new)
    assert np.all(added > 0)


def test_budget_never_spends_on_a_site_adding_nobody():
    """A budget for four sites buys three when the fourth adds nobody."""
    p = SitingProblem(TRIANGLE, np.array([10.0, 10.0, 10.0, 5.0]))
    r = solve_mclp(p, budget=4.0, hint=np.ones(4, bool))
    assert len(r.new) == 3 and r.cost == pytest.approx(3.0)


def test_locate_in_areas_point_in_polygon():
    """Points get the area they lie in (areas in another CRS too); outside gets ''."""
    areas = gpd.GeoDataFrame({"id": ["W", "E"], "name": ["西", "东"]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:4326")
    lon, lat = np.array([0.5, 1.5, 3.0]), np.array([0.5, 0.5, 0.5])
    for a in (areas, areas.to_crs(3857)):
        ids, names = locate_in_areas(a, lon, lat)
        assert ids.tolist() == ["W", "E", ""] and names.tolist() == ["西", "东", ""]


# ---------------------------------------------------------------------- weighted siting
def weighted_value(subset, cover, pop, kinds, weights, delegable, covered):
    """Request-weighted people a set of new sites adds, straight from the definition."""
    total = 0.0
    dense = cover.toarray()
    for i in range(len(pop)):
        for j, w in enumerate(weights):
            if covered[i, j]:
                continue
            if any(dense[i, s] and kinds[s] in delegable[j] for s in subset):
                total += pop[i] * w / weights.sum()
    return total


def brute_weighted(k, free, *args):
    """Best weighted value over every set of at most ``k`` free candidates."""
    return max(weighted_value(s, *args) for r in range(k + 1)
               for s in itertools.combinations(free, r))


def test_weighted_and_unweighted_choices_differ_on_hand_instance():
    """One site: by people the bank (20 people), by requests the post office (9.17 > 5)."""
    # points 0, 1, 2 with 10 people each; A (post office) covers {0}, B (bank) covers {1, 2}
    cover = sp.csr_array(np.array([[1, 0], [0, 1], [0, 1]], bool))
    pop = np.array([10.0, 10.0, 10.0])
    kinds = ["post_office", "bank"]
    weights = np.array([9.0, 1.0, 2.0])
    delegable = [("post_office",), ("bank",), ("post_office", "bank")]
    covered = np.zeros((3, 3), bool)
    covered[1, 0] = True  # item 0 already handled near point 1
    plain = solve_mclp(SitingProblem(cover, pop), p=1)
    wd = weighted_demand(cover, pop, kinds, weights, delegable, covered)
    w = solve_mclp(wd.problem, p=1)
    assert plain.new.tolist() == [1] and w.new.tolist() == [0]
    # by hand: A gives point 0 items 0 and 2: 10 * 11/12; B gives points 1, 2 items 1, 2: 2 * 10 * 3/12
    assert w.covered_weight == pytest.approx(10 * 11 / 12)
    assert weighted_value([1], cover, pop, kinds, weights, delegable, covered) == pytest.approx(5.0)


@pytest.mark.parametrize("seed", range(8))
def test_weighted_mclp_equals_brute_force(seed):
    """Exact: the weighted MCLP's optimum equals the best subset by the definition."""
    rng = np.random.default_rng(seed)
    n, m, n_items = 12, 6, 5
    cover = sp.csr_array(rng.random((n, m)) < 0.35)
    pop = rng.integers(1, 40, n).astype(float)
    kinds = rng.choice(["post_office", "bank", "carrier_shop"], m).tolist()
    weights = rng.choice([0.5, 1.0, 4.0], n_items)
    pool = ["post_office", "bank", "carrier_shop"]
    delegable = [tuple(k for k in pool if rng.random() < 0.5) for _ in range(n_items)]
    covered = rng.random((n, n_items)) < 0.3
    required = np.zeros(m, bool)
    required[0] = True  # a kept outlet: what it handles is in `covered`; it adds nothing new
    free = [c for c in range(m) if not required[c]]
    args = (cover, pop, kinds, weights, delegable, covered)
    wd = weighted_demand(cover, pop, kinds, weights, delegable, covered, required=required)
    for k in (1, 2, 3):
        r = solve_mclp(wd.problem, p=k)
        assert r.covered_weight == pytest.approx(brute_weighted(k, free, *args), abs=1e-9)
        assert r.covered_weight == pytest.approx(weighted_value(list(r.new), *args), abs=1e-9)
        assert r.status == "optimal" and len(r.new) <= k


# ---------------------------------------------------------------------- on Andorra (CLI)
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
ANDORRA = ROOT / "data/andorra"


@pytest.fixture(scope="module")
def app():
    """A Typer app holding only `site`."""
    import typer

    from bianmin import cmd_site

    a = typer.Typer()

    @a.callback()
    def main() -> None:
        """Test app."""

    cmd_site.register(a)
    return a


@pytest.fixture(scope="module")
def andorra():
    """The bundled Andorra region, loaded once."""
    from gis.region import load_region

    return load_region(ANDORRA)


def run(app, tmp_path, *args):
    """`bianmin site` on Andorra into tmp_path."""
    from typer.testing import CliRunner

    return CliRunner().invoke(app, ["site", "--region", str(ANDORRA), "--out", str(tmp_path),
                                    *args])


def _outlets(region, extra):
    """The region's outlets plus candidate rows, as an outlets layer."""
    import pandas as pd

    cols = ["id", "name", "kind", "lon", "lat"]
    both = pd.concat([region.outlets[cols], extra[cols]], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=gpd.points_from_xy(both["lon"], both["lat"]),
                            crs="EPSG:4326")


def test_site_stops_short_and_places_each_proposal(app, andorra, tmp_path):
    """40 sites asked: only those adding people are proposed, each with its area (by
    point-in-polygon, checked with shapely) and the address column."""
    import pandas as pd
    from shapely.geometry import Point

    r = run(app, tmp_path, "--add", "40")
    assert r.exit_code == 0, r.output
    chosen = pd.read_csv(tmp_path / "siting/chosen.csv", encoding="utf-8-sig",
                         keep_default_na=False)
    assert 1 <= len(chosen) < 40 and (chosen["added_population"] > 0).all()
    assert f"stopped at {len(chosen)} of the 40 sites" in " ".join(r.output.split())
    for col in ("area_id", "area_name", "address"):
        assert col in chosen
    areas = andorra.areas.to_crs(4326)
    for row in chosen.itertuples():
        inside = areas[areas.geometry.intersects(Point(row.lon, row.lat))]
        want = inside["id"].iloc[0] if len(inside) else ""
        assert row.area_id == want


def test_infeasible_target_names_the_ceilings(app, andorra, tmp_path):
    """--target 1.0: exit 2; the message gives the current candidates' ceiling and the
    --grid 500 figure, both equal to coverage computed with every such site open."""
    import pandas as pd

    from gis.coverage import coverage_of_region
    from gis.region import load_outlets
    from gis.siting.candidates import grid_candidates

    r = run(app, tmp_path, "--target", "1.0")
    text = " ".join(r.output.split())
    assert r.exit_code == 2, r.output
    cands = load_outlets(ANDORRA / "candidates.csv")
    all_open = coverage_of_region(andorra, outlets=_outlets(andorra, cands))
    assert f"tops out at {all_open.total['coverage_rate']:.1%}" in text
    grid = grid_candidates(andorra.network, spacing_m=500,
                           mode=andorra.settings.circles["rural"].mode)
    grid = grid.rename(columns={"site_id": "id"})
    with_grid = coverage_of_region(andorra, outlets=_outlets(
        andorra, pd.concat([cands, grid], ignore_index=True)))
    assert (f"with --grid 500 candidates ({len(grid)} more sites) the best reachable rate is "
            f"{with_grid.total['coverage_rate']:.1%}") in text


def test_weighted_site_matches_item_coverage(app, andorra, tmp_path):
    """--weighted: the request-weighted rates before/after equal gis.items' own figure with
    the new sites handling the items their kind may be given."""
    import pandas as pd

    from gis.items import ItemTable, item_coverage, items_of_region

    r = run(app, tmp_path, "--add", "2", "--weighted")
    assert r.exit_code == 0, r.output
    chosen = pd.read_csv(tmp_path / "siting/chosen.csv", encoding="utf-8-sig",
                         keep_default_na=False)
    curve = pd.read_csv(tmp_path / "siting/curve.csv", encoding="utf-8-sig")
    assert list(curve.columns) == ["sites", "cost", "weighted_covered", "weighted_rate"]
    assert (chosen["added_weighted"] > 0).all() and (chosen["items"] > 0).all()
    items = items_of_region(andorra)
    new = chosen.rename(columns={"site_id": "id"})
    extra = np.array([[k in ks for ks in items.catalogue["delegable_to"]]
                      for k in new["kind"]], bool).reshape(len(new), items.n_items)
    table = ItemTable(items.catalogue, np.vstack([items.handles, extra]))
    outlets = _outlets(andorra, new)
    args = (andorra.network, andorra.settings)
    before = item_coverage(*args, andorra.outlets, andorra.demand, andorra.areas, items)
    after = item_coverage(*args, outlets, andorra.demand, andorra.areas, table)
    assert curve["weighted_rate"].iloc[0] == pytest.approx(before.total["weighted_rate"], abs=1e-5)
    assert curve["weighted_rate"].iloc[len(chosen)] == pytest.approx(
        after.total["weighted_rate"], abs=1e-5)
    assert "request-weighted coverage" in r.output
