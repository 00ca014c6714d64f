"""Guided ejection search kernels (route minimisation for pickup and delivery), numba: the moves.

This module holds the checked moves (schedules, insertion, removal); the searches built on them
are in :mod:`routing._ges_search`, the checked wrapper in :mod:`routing.ges`.

Why compiled: the search makes thousands of insertion and ejection trials a second, each a walk
over a route of 10–40 stops; in Python (or through OR-Tools' model) each trial costs about a
thousand times more. The algorithm follows Nagata & Kobayashi, "Guided ejection search for the
pickup and delivery problem with time windows" (EvoCOP 2010) and Nagata & Bräysy (2009):

* one route is removed and its tasks go to an *ejection pool* (a stack);
* the task on top is inserted at its cheapest feasible place in any route; when there is none,
  its penalty counter goes up and it is inserted anyway after **ejecting** up to ``kmax`` tasks
  of one route, chosen to minimise the sum of the ejected tasks' counters (tasks that were hard
  to place before are left alone); the ejected tasks go to the pool;
* after an ejection the plan is perturbed by random feasible relocations (diversification).

``lns`` is a ruin-and-recreate search with simulated annealing on the same moves (related
removal as in Shaw 1998; insertion order random or tightest windows first; optional "blinks"
from Christiaens & Vanden Berghe's SISR, 2020), recreating through the ejection pool when a
plain insertion fails.

Every plan the kernels hold is feasible: insertions are checked in O(1) per position with the
route's earliest finish times, latest feasible arrival times (which honour halls' open
intervals: waiting is allowed, so feasibility is monotone in the arrival time) and loads.

Conventions (the independent check, :mod:`routing.validate`, is the reference): a vehicle
leaves its start depot at its shift start; a stop's service starts at the earliest time that is
no earlier than arrival and than the window's start and lies in one of the node's open
intervals (if it has any), and must not be later than the window's end; the vehicle must be back
at its end depot by its shift end; the load after each stop stays in ``[0, capacity]``.

Sequences are arrays ``[start depot, stop, ..., stop, end depot]`` (``m + 2`` entries).
"""

from __future__ import annotations

import numpy as np
from numba import njit

INF = np.int64(1) << 60
NEG = -INF


@njit(cache=True)
def seed(s: int) -> None:  # pragma: no cover - compiled
    """Seed numba's own random generator (separate from numpy's)."""
    np.random.seed(s)


@njit(cache=True, inline="always")
def _earliest(node, t, wlo, whi, has_open, optr, olo, ohi):  # pragma: no cover
    if t < wlo[node]:
        t = wlo[node]
    if has_open[node]:
        ok = False
        for q in range(optr[node], optr[node + 1]):
            if t <= ohi[q]:
                if t < olo[q]:
                    t = olo[q]
                ok = True
                break
        if not ok:
            return INF
    if t > whi[node]:
        return INF
    return t


@njit(cache=True, inline="always")
def _latest(node, t, wlo, whi, has_open, optr, olo, ohi):  # pragma: no cover
    if t > whi[node]:
        t = whi[node]
    if has_open[node]:
        ok = False
        for q in range(optr[node + 1] - 1, optr[node] - 1, -1):
            if olo[q] <= t:
                if t > ohi[q]:
                    t = ohi[q]
                ok = True
                break
        if not ok:
            return NEG
    if t < wlo[node]:
        return NEG
    return t


@njit(cache=True)
def prep(S, m, k, T, svc, dem, wlo, whi, has_open, optr, olo, ohi, shift,
         F, Z, LD):  # pragma: no cover - compiled
    """Finish times ``F``, latest arrivals ``Z`` and loads ``LD`` of sequence ``S[:m + 2]``.

    Returns True when the sequence is feasible (loads are checked by the caller's capacity).
    """
    F[0] = shift[k, 0]
    LD[0] = 0
    ok = True
    for j in range(1, m + 1):
        x = S[j]
        s = _earliest(x, F[j - 1] + T[S[j - 1], x], wlo, whi, has_open, optr, olo, ohi)
        if s >= INF:
            ok = False
            s = INF // 4
        F[j] = s + svc[x]
        LD[j] = LD[j - 1] + dem[x]
    F[m + 1] = F[m] + T[S[m], S[m + 1]]
    LD[m + 1] = LD[m]
    if F[m + 1] > shift[k, 1]:
        ok = False
    Z[m + 1] = shift[k, 1]
    for j in range(m, 0, -1):
        x = S[j]
        if Z[j + 1] <= NEG // 2:
            Z[j] = NEG
            continue
        Z[j] = _latest(x, Z[j + 1] - T[x, S[j + 1]] - svc[x], wlo, whi, has_open, optr, olo,
                       ohi)
    Z[0] = INF
    return ok


@njit(cache=True, inline="always")
def _take(delta, i, j, best, bi, bj, count, rnd):  # pragma: no cover - compiled
    """Keep place ``(i, j)`` at cost ``delta``: the cheapest so far, or uniformly at random."""
    if rnd:
        count += 1
        if np.random.randint(0, count) == 0:
            return delta, i, j, count
        return best, bi, bj, count
    if delta < best:
        return delta, i, j, count
    return best, bi, bj, count


@njit(cache=True)
def best_insert(S, m, F, Z, LD, p, d, C, T, svc, dem, wlo, whi, has_open, optr, olo, ohi,
                cap, rnd, blink):  # pragma: no cover - compiled
    """Best place to insert task ``(p, d)`` (``d = -1`` for a single stop) into ``S``.

    With ``rnd`` False the cheapest (cost delta); with ``rnd`` True a uniformly random feasible
    place. ``blink`` > 0 skips each feasible place with that probability (diversification);
    ``blink`` < 0 returns the first feasible place found (when any place will do). Returns ``(delta, i, j)``: ``p`` goes after position ``i``, ``d`` after position
    ``j >= i`` of the original sequence (directly after ``p`` when ``j == i``); ``delta`` is
    ``INF`` when no place is feasible.
    """
    best = INF
    bi = -1
    bj = -1
    count = 0
    q = dem[p]
    # exact pruning (cheapest mode): a delivery placed after stop j > i costs at least
    # ``lbd`` (the least detour of d over the route's arcs), so a pickup place whose own detour
    # plus ``lbd`` is not below the best found needs no forward walk
    prune = d >= 0 and not rnd and blink == 0
    lbd = INF
    if prune:
        for j in range(1, m + 1):
            x = S[j]
            y = S[j + 1]
            v = C[x, d] + C[d, y] - C[x, y]
            if v < lbd:
                lbd = v
    for i in range(0, m + 1):
        a = S[i]
        b = S[i + 1]
        la = LD[i] + q
        if la > cap or la < 0:
            continue
        sp = _earliest(p, F[i] + T[a, p], wlo, whi, has_open, optr, olo, ohi)
        if sp >= INF:
            continue
        fp = sp + svc[p]
        if d < 0:
            if fp + T[p, b] > Z[i + 1]:
                continue
            # a single stop changes every later load by q
            ok = True
            for j in range(i + 1, m + 1):
                lj = LD[j] + q
                if lj > cap or lj < 0:
                    ok = False
                    break
            if not ok:
                continue
            if blink > 0 and np.random.random() < blink:
                continue
            best, bi, bj, count = _take(C[a, p] + C[p, b] - C[a, b], i, i, best, bi, bj, count,
                                        rnd)
            if blink < 0:
                return best, bi, bj
            continue
        # delivery right after the pickup
        sd = _earliest(d, fp + T[p, d], wlo, whi, has_open, optr, olo, ohi)
        if sd < INF and sd + svc[d] + T[d, b] <= Z[i + 1] and not (
                blink > 0 and np.random.random() < blink):
            best, bi, bj, count = _take(C[a, p] + C[p, d] + C[d, b] - C[a, b], i, i, best, bi,
                                        bj, count, rnd)
            if blink < 0:
                return best, bi, bj
        base = C[a, p] + C[p, b] - C[a, b]
        if prune and base + lbd >= best:
            continue
        fprev = fp
        prev = p
        for j in range(i + 1, m + 1):
            x = S[j]
            t = fprev + T[prev, x]
            if t > Z[j]:
                break
            lj = LD[j] + q
            if lj > cap or lj < 0:
                break
            sx = _earliest(x, t, wlo, whi, has_open, optr, olo, ohi)
            fx = sx + svc[x]
            y = S[j + 1]
            sd = _earliest(d, fx + T[x, d], wlo, whi, has_open, optr, olo, ohi)
            if sd < INF and sd + svc[d] + T[d, y] <= Z[j + 1] and not (
                    blink > 0 and np.random.random() < blink):
                best, bi, bj, count = _take(base + C[x, d] + C[d, y] - C[x, y], i, j, best, bi,
                                            bj, count, rnd)
                if blink < 0:
                    return best, bi, bj
            fprev = fx
            prev = x
    return best, bi, bj


@njit(cache=True)
def apply_insert(R, L, k, p, d, i, j):  # pragma: no cover - compiled
    """Insert ``p`` after sequence position ``i`` and ``d`` after ``j`` into route ``k``.

    Route ``k``'s stops are ``R[k, :L[k]]`` (sequence position ``x`` is stop ``x - 1``).
    """
    m = L[k]
    out = np.empty(m + 2, dtype=R.dtype)
    w = 0
    # sequence positions 1..m are stops 0..m-1; inserting after position i
    if i == 0:
        out[w] = p
        w += 1
        if d >= 0 and j == 0:
            out[w] = d
            w += 1
    for s in range(m):
        out[w] = R[k, s]
        w += 1
        pos = s + 1
        if pos == i and i > 0:
            out[w] = p
            w += 1
            if d >= 0 and j == i:
                out[w] = d
                w += 1
        elif d >= 0 and pos == j and j > i:
            out[w] = d
            w += 1
    R[k, :w] = out[:w]
    L[k] = w


@njit(cache=True)
def remove_nodes(R, L, k, a, b):  # pragma: no cover - compiled
    """Remove nodes ``a`` and ``b`` (``b = -1`` for none) from route ``k``."""
    w = 0
    for s in range(L[k]):
        x = R[k, s]
        if x != a and x != b:
            R[k, w] = x
            w += 1
    L[k] = w


@njit(cache=True)
def load_seq(R, L, k, vstart, vend, S):  # pragma: no cover - compiled
    """Copy route ``k`` into ``S`` as a sequence with its depots; returns the stop count."""
    m = L[k]
    S[0] = vstart[k]
    for s in range(m):
        S[s + 1] = R[k, s]
    S[m + 1] = vend[k]
    return m


@njit(cache=True)
def _route_tasks(R, L, k, node_task, tfirst, out):  # pragma: no cover - compiled
    """Tasks of route ``k`` (each once, at its first node) into ``out``; returns the count."""
    c = 0
    for s in range(L[k]):
        x = R[k, s]
        t = node_task[x]
        if tfirst[t] == x:
            out[c] = t
            c += 1
    return c


@njit(cache=True)
def _total_cost(R, L, vmode, vstart, vend, C3):  # pragma: no cover - compiled
    c = 0
    for k in range(R.shape[0]):
        m = L[k]
        if m == 0:
            continue
        C = C3[vmode[k]]
        prev = vstart[k]
        for s in range(m):
            c += C[prev, R[k, s]]
            prev = R[k, s]
        c += C[prev, vend[k]]
    return c
