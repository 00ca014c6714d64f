"""Candidates and what planners get: ranked sites, the curve, areas before and after."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from gis.errors import InputError
from gis.siting import (
    CostTable,
    SitingProblem,
    areas_before_after,
    build_candidates,
    coverage_curve,
    rank_sites,
    solve_mclp,
)
from gis.siting.instances import clustered_instance


def test_rank_adds_up_and_is_greedy():
    """Added populations sum to the gain over kept sites and never increase down the ranking."""
    inst = clustered_instance(300, 40, seed=4)
    req = np.zeros(40, bool)
    req[:3] = True
    pr = SitingProblem(inst.cover, inst.weights, required=req)
    res = solve_mclp(pr, p=5)
    ranked = rank_sites(pr, res)
    base = pr.weights[pr.covered_by(req)].sum()
    assert ranked["added_population"].sum() == pytest.approx(res.covered_weight - base)
    assert (np.diff(ranked["added_population"]) <= 1e-9).all()
    assert sorted(ranked["index"]) == sorted(res.new)
    assert ranked["rank"].tolist() == list(range(1, len(res.new) + 1))


def test_curve_is_monotone_and_optimal_per_k():
    """Coverage grows with k and each point equals a fresh optimum."""
    inst = clustered_instance(300, 40, seed=5)
    pr = SitingProblem(inst.cover, inst.weights)
    curve = coverage_curve(pr, 4)
    assert curve["sites"].tolist() == [0, 1, 2, 3, 4]
    assert (np.diff(curve["covered_population"]) >= -1e-9).all()
    assert curve["covered_population"].iloc[3] == pytest.approx(
        solve_mclp(pr, p=3).covered_weight)


def test_areas_before_after():
    """Per-area population, covered before/after and gain."""
    areas = pd.DataFrame({"id": ["A", "B", "C"], "name": ["a", "b", "c"], "urban": [1, 0, 1]})
    t = areas_before_after(np.array(["A", "A", "B"]), np.array([1.0, 2.0, 4.0]),
                           np.array([True, False, False]), np.array([True, True, False]), areas)
    assert t["covered_before"].tolist() == [1.0, 0.0, 0.0]
    assert t["covered_after"].tolist() == [3.0, 0.0, 0.0]
    assert t["gain"].tolist() == [2.0, 0.0, 0.0]
    assert t["population"].tolist() == [3.0, 4.0, 0.0]


def outlets_table(ids, kinds):
    n = len(ids)
    return pd.DataFrame({"id": ids, "name": ids, "kind": kinds, "lon": np.linspace(104, 104.1, n),
                         "lat": np.full(n, 30.6)})


def test_candidates_existing_required_kinds_and_costs():
    """Existing outlets are required; kinds filter candidates; own cost beats the kind's."""
    ex = outlets_table(["S1", "P1"], ["service_hall", "post_office"])
    ca = outlets_table(["B1", "C1", "P2"], ["bank", "carrier_shop", "post_office"])
    ca["cost"] = [np.nan, np.nan, 0.5]
    t = build_candidates(ex, ca, kinds=["post_office", "carrier_shop"], forbid=["C1"],
                         costs=CostTable({"post_office": 1.0, "carrier_shop": 1.2}))
    assert t["site_id"].tolist() == ["S1", "P1", "C1", "P2"]
    assert t["required"].tolist() == [True, True, False, False]
    assert t["forbidden"].tolist() == [False, False, True, False]
    assert t["cost"].tolist()[2:] == [1.2, 0.5]
    re = build_candidates(ex, ca, replan=True)
    assert not re["required"].any() and len(re) == 5


def test_candidates_report_every_problem():
    """Unknown forbidden ids and duplicate ids are all named at once."""
    ex = outlets_table(["S1"], ["service_hall"])
    ca = outlets_table(["S1", "B1"], ["bank", "bank"])
    with pytest.raises(InputError) as info:
        build_candidates(ex, ca, forbid=["X9"])
    text = str(info.value)
    assert "'S1' appears in more than one table" in text and "unknown site id 'X9'" in text


def test_grid_candidates_one_node_per_cell():
    """A regular grid of network nodes: one per cell, all in the mode's network."""
    synthetic = pytest.importorskip("gis.synthetic")
    from gis.siting import grid_candidates

    net = synthetic.grid_network(2500, seed=0)
    g = grid_candidates(net, spacing_m=800, mode="walk")
    assert 16 <= len(g) <= 49
    assert net.nodes_in("walk")[g["node"]].all()
    assert g["site_id"].is_unique


def test_required_sites_cover_counts_once():
    """Kept sites' coverage is part of the objective, not double counted."""
    cover = sp.csr_array(np.array([[1, 1], [0, 1]], dtype=bool))
    pr = SitingProblem(cover, np.array([5.0, 7.0]), required=np.array([True, False]))
    res = solve_mclp(pr, p=1)
    assert res.objective == pytest.approx(12.0) and res.new.tolist() == [1]
