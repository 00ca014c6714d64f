"""Delegation (赋权): exact answers checked against brute force and the greedy baseline."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from gis.siting.delegation import (
    DelegationProblem,
    InfeasibleDelegationError,
    greedy_delegation,
    solve_delegation,
)


def random_problem(seed: int, n_points=14, n_outlets=5, n_items=3, costs=False):
    """A small random instance: sparse covers, some points already covered per item."""
    rng = np.random.default_rng(seed)
    cover = sp.csr_array(rng.random((n_points, n_outlets)) < 0.3)
    pop = rng.integers(1, 50, n_points).astype(float)
    weight = rng.choice([0.5, 1.0, 3.0], n_items)
    covered = rng.random((n_points, n_items)) < 0.25
    allowed = rng.random((n_outlets, n_items)) < 0.6
    cost = rng.choice([1.0, 2.0], n_outlets) if costs else np.ones(n_outlets)
    return DelegationProblem(cover, pop, weight, covered, allowed, cost)


def brute(p: DelegationProblem, *, budget=None, add=None, cap=None):
    """Best value over every subset of allowed pairs within the limit."""
    pairs = [(o, j) for o in range(p.allowed.shape[0]) for j in range(p.allowed.shape[1])
             if p.allowed[o, j]]
    best = 0.0
    limit = add if add is not None else len(pairs)
    for r in range(0, min(limit, len(pairs)) + 1):
        for sub in itertools.combinations(pairs, r):
            if budget is not None and sum(p.cost[o] for o, _ in sub) > budget + 1e-9:
                continue
            if cap is not None and max([sum(1 for o2, _ in sub if o2 == o) for o, _ in sub],
                                       default=0) > cap:
                continue
            best = max(best, p.value(list(sub)))
    return best


def test_hand_instance():
    """Two items, two outlets: the exact answer worked by hand beats the greedy one."""
    # points 0..3; outlet 0 covers {0,1,2}, outlet 1 covers {0,1} + {3}
    cover = sp.csr_array(np.array([[1, 1], [1, 1], [1, 0], [0, 1]], bool))
    pop = np.array([10.0, 10.0, 5.0, 1.0])
    covered = np.zeros((4, 2), bool)
    covered[:, 1] = [True, True, True, False]  # item 1 only misses point 3
    allowed = np.ones((2, 2), bool)
    p = DelegationProblem(cover, pop, np.array([1.0, 1.0]), covered, allowed, np.ones(2))
    r = solve_delegation(p, add=1)
    # one pair: (outlet 0, item 0) adds 25 people; anything else adds at most 21
    assert r.pairs == [(0, 0)] and r.value == pytest.approx(25.0)
    r2 = solve_delegation(p, add=2)
    # best two: (0,0)=25 then (1,0) adds 1 or (1,1) adds 1 → 26
    assert r2.value == pytest.approx(26.0) and r2.status == "optimal"


@pytest.mark.parametrize("seed", range(12))
def test_against_brute_force_add(seed):
    """Exact for K pairs: equals the best subset of at most K allowed pairs."""
    p = random_problem(seed)
    for k in (1, 2, 3):
        r = solve_delegation(p, add=k)
        assert r.value == pytest.approx(brute(p, add=k), abs=1e-6)
        assert r.status == "optimal" and len(r.pairs) <= k
        assert r.value == pytest.approx(p.value(r.pairs))


@pytest.mark.parametrize("seed", range(8))
def test_against_brute_force_budget_costs(seed):
    """Exact for a budget with unequal pair costs (the one-MIP path)."""
    p = random_problem(seed, costs=True)
    r = solve_delegation(p, budget=3.0)
    assert r.value == pytest.approx(brute(p, budget=3.0), abs=1e-6)
    assert r.method == "mip" and r.cost <= 3.0 + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_against_brute_force_cap(seed):
    """Exact with a per-outlet cap of one new item."""
    p = random_problem(seed, n_outlets=4)
    r = solve_delegation(p, add=3, max_new_per_outlet=1)
    assert r.value == pytest.approx(brute(p, add=3, cap=1), abs=1e-6)
    outlets = [o for o, _ in r.pairs]
    assert len(outlets) == len(set(outlets))


@pytest.mark.parametrize("seed", range(10))
def test_never_worse_than_greedy(seed):
    """The exact answer is never below the one-pair-at-a-time greedy on the same limit."""
    p = random_problem(seed, n_points=60, n_outlets=12, n_items=6)
    for k in (2, 5, 8):
        _, g = greedy_delegation(p, add=k)
        assert solve_delegation(p, add=k).value >= g - 1e-6


def test_target_fewest_pairs():
    """Target mode returns the fewest pairs whose weighted coverage reaches the share."""
    p = random_problem(3, n_points=20, n_outlets=5, n_items=3)
    total = p.population.sum() * p.weight.sum()
    base = sum(p.weight[j] * p.population[p.covered[:, j]].sum() for j in range(3))
    best_full = brute(p)
    target = (base + 0.8 * best_full) / total
    r = solve_delegation(p, target=target)
    assert base + r.value >= target * total - 1e-6
    k = len(r.pairs)
    assert brute(p, add=k - 1) + base < target * total  # one pair fewer cannot reach it


def test_target_unreachable():
    """A target beyond what every allowed pair can add is a clear error."""
    p = random_problem(1)
    with pytest.raises(InfeasibleDelegationError, match="cannot be reached"):
        solve_delegation(p, target=1.0)


def test_items_restriction_and_ranking():
    """Only the listed items get pairs; ranks list non-increasing weighted gains."""
    p = random_problem(5, n_points=60, n_outlets=10, n_items=4)
    r = solve_delegation(p, add=4, items=np.array([1, 2]))
    assert {j for _, j in r.pairs} <= {1, 2}
    assert np.all(np.diff(r.added_weighted) <= 1e-9)
    assert r.added_weighted.sum() == pytest.approx(r.value)


@pytest.mark.parametrize("seed", range(6))
def test_against_brute_force_cap_two_budget(seed):
    """Exact with a cap of two new items per outlet and a budget of four pairs."""
    p = random_problem(seed, n_points=12, n_outlets=4, n_items=3)
    r = solve_delegation(p, budget=4.0, max_new_per_outlet=2)
    assert r.value == pytest.approx(brute(p, budget=4.0, cap=2), abs=1e-6)
    assert r.status == "optimal" and r.cost <= 4.0 + 1e-9
    per = [o for o, _ in r.pairs]
    assert max([per.count(o) for o in per], default=0) <= 2


def test_binding_cap_changes_the_answer():
    """Outlet 0 is best for both items; a cap of one sends one item to outlet 1 (by hand)."""
    cover = sp.csr_array(np.array([[1, 0], [1, 0], [1, 1]], bool))
    pop = np.array([10.0, 10.0, 5.0])
    p = DelegationProblem(cover, pop, np.array([1.0, 2.0]), np.zeros((3, 2), bool),
                          np.ones((2, 2), bool), np.ones(2))
    free = solve_delegation(p, add=2)
    assert sorted(free.pairs) == [(0, 0), (0, 1)] and free.value == pytest.approx(75.0)
    capped = solve_delegation(p, add=2, max_new_per_outlet=1)
    # item 1 (weight 2) keeps outlet 0: 50; item 0 gets outlet 1: 5 → 55 (vs 25 + 10 = 35)
    assert sorted(capped.pairs) == [(0, 1), (1, 0)] and capped.value == pytest.approx(55.0)
    assert capped.method == "mip" and capped.value == pytest.approx(brute(p, add=2, cap=1))
    loose = solve_delegation(p, add=2, max_new_per_outlet=2)  # not binding: decomposition kept
    assert loose.method == "mckp" and loose.value == pytest.approx(75.0)
