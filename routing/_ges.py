"""Guided ejection search kernels (route minimisation for pickup and delivery), numba.

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
    for i in range(0, m + 1):
        a = S[i]
        b = S[i + 1]
        la = LD[i] + q
        if la > cap or la < 0:
            if d < 0:
                continue
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
            delta = C[a, p] + C[p, b] - C[a, b]
            if blink > 0 and np.random.random() < blink:
                continue
            if rnd:
                count += 1
                if np.random.randint(0, count) == 0:
                    best, bi, bj = delta, i, i
            elif delta < best:
                best, bi, bj = delta, i, i
            if blink < 0:
                return best, bi, bj
            continue
        # delivery right after the pickup
        sd = _earliest(d, fp + T[p, d], wlo, whi, has_open, optr, olo, ohi)
        if sd < INF and sd + svc[d] + T[d, b] <= Z[i + 1] and not (
                blink > 0 and np.random.random() < blink):
            delta = C[a, p] + C[p, d] + C[d, b] - C[a, b]
            if rnd:
                count += 1
                if np.random.randint(0, count) == 0:
                    best, bi, bj = delta, i, i
            elif delta < best:
                best, bi, bj = delta, i, i
            if blink < 0:
                return best, bi, bj
        base = C[a, p] + C[p, b] - C[a, b]
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
                delta = base + C[x, d] + C[d, y] - C[x, y]
                if rnd:
                    count += 1
                    if np.random.randint(0, count) == 0:
                        best, bi, bj = delta, i, j
                elif delta < best:
                    best, bi, bj = delta, i, j
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
def _insert_anywhere(h, R, L, active, ntask, where, rnd, blink, S, F, Z, LD, T3, C3, vmode, vstart,
                     vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi,
                     tfirst, tsecond, allowed):  # pragma: no cover - compiled
    """Insert task ``h`` at its cheapest feasible place over the active routes (True if done)."""
    p = tfirst[h]
    d = tsecond[h]
    best = INF
    bk = -1
    bi = -1
    bj = -1
    for k in range(R.shape[0]):
        if not active[k] or not allowed[h, k] or ntask[k] >= vmaxt[k]:
            continue
        md = vmode[k]
        m = load_seq(R, L, k, vstart, vend, S)
        prep(S, m, k, T3[md], svc, dem, wlo, whi, has_open, optr, olo, ohi, shift, F, Z, LD)
        delta, i, j = best_insert(S, m, F, Z, LD, p, d, C3[md], T3[md], svc, dem, wlo, whi,
                                  has_open, optr, olo, ohi, vcap[k], rnd, blink)
        if delta < best:
            best, bk, bi, bj = delta, k, i, j
    if bk < 0:
        return False
    apply_insert(R, L, bk, p, d, bi, bj)
    ntask[bk] += 1
    where[h] = bk
    return True


@njit(cache=True)
def _try_without(k, e0, e1, e2, p, d, R, L, S, F, Z, LD, T, C, vstart, vend, shift, cap, svc,
                 dem, wlo, whi, has_open, optr, olo, ohi, node_task):  # pragma: no cover
    """A feasible place for ``(p, d)`` in route ``k`` without tasks ``e0, e1, e2`` (the first found)."""
    S[0] = vstart[k]
    m = 0
    for s in range(L[k]):
        x = R[k, s]
        t = node_task[x]
        if t != e0 and t != e1 and t != e2:
            m += 1
            S[m] = x
    S[m + 1] = vend[k]
    if not prep(S, m, k, T, svc, dem, wlo, whi, has_open, optr, olo, ohi, shift, F, Z, LD):
        return INF, -1, -1
    return best_insert(S, m, F, Z, LD, p, d, C, T, svc, dem, wlo, whi, has_open, optr, olo,
                       ohi, cap, False, -1.0)


@njit(cache=True)
def _eject_insert(h, R, L, active, ntask, where, pen, kmax, EP, ep_n, S, F, Z, LD, tk,
                  T3, C3, vmode, vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi,
                  has_open, optr, olo, ohi, node_task, tfirst, tsecond,
                  allowed):  # pragma: no cover - compiled
    """Insert ``h`` after ejecting at most ``kmax`` (1–3) tasks of one route.

    The ejected set minimises the sum of its tasks' penalty counters, then the cost delta of
    the first feasible place found for ``h``.
    Returns the new pool size, or -1 when no ejection of at most ``kmax`` tasks makes room.
    """
    p = tfirst[h]
    d = tsecond[h]
    best_p = INF
    best_c = INF
    bk = -1
    be0 = -1
    be1 = -1
    be2 = -1
    bi = -1
    bj = -1
    for size in range(1, kmax + 1):
        for k in range(R.shape[0]):
            if not active[k] or not allowed[h, k] or ntask[k] - size + 1 > vmaxt[k]:
                continue
            mt = _route_tasks(R, L, k, node_task, tfirst, tk)
            if mt < size:
                continue
            md = vmode[k]
            T = T3[md]
            C = C3[md]
            for a in range(mt):
                pa = pen[tk[a]]
                if size == 1:
                    if pa > best_p:
                        continue
                    delta, i, j = _try_without(k, tk[a], -1, -1, p, d, R, L, S, F, Z, LD, T, C,
                                               vstart, vend, shift, vcap[k], svc, dem, wlo,
                                               whi, has_open, optr, olo, ohi, node_task)
                    if delta < INF and (pa < best_p or delta < best_c):
                        best_p, best_c, bk, bi, bj = pa, delta, k, i, j
                        be0, be1, be2 = tk[a], -1, -1
                    continue
                if pa >= best_p:
                    continue
                for b in range(a + 1, mt):
                    pb = pa + pen[tk[b]]
                    if size == 2:
                        if pb > best_p:
                            continue
                        delta, i, j = _try_without(k, tk[a], tk[b], -1, p, d, R, L, S, F, Z,
                                                   LD, T, C, vstart, vend, shift, vcap[k], svc,
                                                   dem, wlo, whi, has_open, optr, olo, ohi,
                                                   node_task)
                        if delta < INF and (pb < best_p or delta < best_c):
                            best_p, best_c, bk, bi, bj = pb, delta, k, i, j
                            be0, be1, be2 = tk[a], tk[b], -1
                        continue
                    if pb >= best_p:
                        continue
                    for c in range(b + 1, mt):
                        pc = pb + pen[tk[c]]
                        if pc > best_p:
                            continue
                        delta, i, j = _try_without(k, tk[a], tk[b], tk[c], p, d, R, L, S, F,
                                                   Z, LD, T, C, vstart, vend, shift, vcap[k],
                                                   svc, dem, wlo, whi, has_open, optr, olo,
                                                   ohi, node_task)
                        if delta < INF and (pc < best_p or delta < best_c):
                            best_p, best_c, bk, bi, bj = pc, delta, k, i, j
                            be0, be1, be2 = tk[a], tk[b], tk[c]
        if bk >= 0 and best_p <= size + 1:  # no larger set has a smaller counter sum
            break
    if bk < 0:
        return -1
    for t in (be0, be1, be2):
        if t >= 0:
            remove_nodes(R, L, bk, tfirst[t], tsecond[t])
            ntask[bk] -= 1
            where[t] = -1
            EP[ep_n] = t
            ep_n += 1
    apply_insert(R, L, bk, p, d, bi, bj)
    ntask[bk] += 1
    where[h] = bk
    return ep_n


@njit(cache=True)
def _perturb(n_moves, R, L, active, ntask, where, S, F, Z, LD, tk, keep, T3, C3, vmode,
             vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi,
             node_task, tfirst, tsecond, allowed):  # pragma: no cover - compiled
    """``n_moves`` random feasible relocations of one task to another route."""
    V = R.shape[0]
    for _ in range(n_moves):
        k = np.random.randint(0, V)
        if not active[k] or L[k] == 0:
            continue
        mt = _route_tasks(R, L, k, node_task, tfirst, tk)
        h = tk[np.random.randint(0, mt)]
        k2 = np.random.randint(0, V)
        if k2 == k or not active[k2] or not allowed[h, k2] or ntask[k2] >= vmaxt[k2]:
            continue
        md = vmode[k2]
        m = load_seq(R, L, k2, vstart, vend, S)
        prep(S, m, k2, T3[md], svc, dem, wlo, whi, has_open, optr, olo, ohi, shift, F, Z, LD)
        delta, i, j = best_insert(S, m, F, Z, LD, tfirst[h], tsecond[h], C3[md], T3[md], svc,
                                  dem, wlo, whi, has_open, optr, olo, ohi, vcap[k2], True, 0.0)
        if delta >= INF:
            continue
        # removing a task keeps a route feasible only under the triangle inequality: check
        n0 = L[k]
        keep[:n0] = R[k, :n0]
        remove_nodes(R, L, k, tfirst[h], tsecond[h])
        m1 = load_seq(R, L, k, vstart, vend, S)
        mk = vmode[k]
        if not prep(S, m1, k, T3[mk], svc, dem, wlo, whi, has_open, optr, olo, ohi, shift,
                    F, Z, LD):
            R[k, :n0] = keep[:n0]
            L[k] = n0
            continue
        apply_insert(R, L, k2, tfirst[h], tsecond[h], i, j)
        ntask[k] -= 1
        ntask[k2] += 1
        where[h] = k2


@njit(cache=True)
def ges_run(R, L, active, ntask, where, EP, ep_n, pen, max_iters, kmax, n_perturb,
            T3, C3, vmode, vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open,
            optr, olo, ohi, node_task, tfirst, tsecond, allowed):  # pragma: no cover
    """Up to ``max_iters`` pool steps; returns ``(pool size, steps made)``.

    Each step takes the task on top of the pool ``EP[:ep_n]``: cheapest feasible insertion, or
    (counter + 1) an ejection of at most ``kmax`` tasks and ``n_perturb`` random relocations.
    A task that fits nowhere even after ejections goes to the bottom of the pool.
    """
    width = R.shape[1] + 2
    S = np.empty(width, dtype=np.int64)
    F = np.empty(width, dtype=np.int64)
    Z = np.empty(width, dtype=np.int64)
    LD = np.empty(width, dtype=np.int64)
    tk = np.empty(width, dtype=np.int64)
    keep = np.empty(width, dtype=np.int64)
    it = 0
    while ep_n > 0 and it < max_iters:
        it += 1
        ep_n -= 1
        h = EP[ep_n]
        if _insert_anywhere(h, R, L, active, ntask, where, False, 0.0, S, F, Z, LD, T3, C3, vmode,
                            vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open,
                            optr, olo, ohi, tfirst, tsecond, allowed):
            continue
        pen[h] += 1
        r = _eject_insert(h, R, L, active, ntask, where, pen, kmax, EP, ep_n, S, F, Z, LD, tk,
                          T3, C3, vmode, vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi,
                          has_open, optr, olo, ohi, node_task, tfirst, tsecond, allowed)
        if r < 0:
            for s in range(ep_n, 0, -1):  # to the bottom of the pool
                EP[s] = EP[s - 1]
            EP[0] = h
            ep_n += 1
        else:
            ep_n = r
        _perturb(n_perturb, R, L, active, ntask, where, S, F, Z, LD, tk, keep, T3, C3, vmode,
                 vstart, vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo,
                 ohi, node_task, tfirst, tsecond, allowed)
    return ep_n, it


@njit(cache=True)
def _seq_cost(S, m, C):  # pragma: no cover - compiled
    c = 0
    for j in range(m + 1):
        c += C[S[j], S[j + 1]]
    return c


@njit(cache=True)
def descend(R, L, active, ntask, where, max_passes, T3, C3, vmode, vstart, vend, shift, vcap,
            vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi, node_task, tfirst, tsecond,
            allowed):  # pragma: no cover - compiled
    """Best-improvement relocation of single tasks (pickup with its delivery) until none helps.

    For each task in turn: the saving of taking it out of its route against its cheapest
    feasible insertion anywhere (its own route included); moves when that is cheaper. Returns
    the total cost saved.
    """
    width = R.shape[1] + 2
    S = np.empty(width, dtype=np.int64)
    F = np.empty(width, dtype=np.int64)
    Z = np.empty(width, dtype=np.int64)
    LD = np.empty(width, dtype=np.int64)
    nt = tfirst.shape[0]
    saved = 0
    for _ in range(max_passes):
        moved = 0
        order = np.random.permutation(nt)
        for h in order:
            k = where[h]
            if k < 0:
                continue
            p = tfirst[h]
            d = tsecond[h]
            mk = vmode[k]
            m0 = load_seq(R, L, k, vstart, vend, S)
            before = _seq_cost(S, m0, C3[mk])
            # own route without h
            m = 0
            for s in range(L[k]):
                x = R[k, s]
                if x != p and x != d:
                    m += 1
                    S[m] = x
            S[m + 1] = vend[k]
            if not prep(S, m, k, T3[mk], svc, dem, wlo, whi, has_open, optr, olo, ohi, shift,
                        F, Z, LD):
                continue
            gain = before - _seq_cost(S, m, C3[mk])
            best, bi, bj = best_insert(S, m, F, Z, LD, p, d, C3[mk], T3[mk], svc, dem, wlo,
                                       whi, has_open, optr, olo, ohi, vcap[k], False, 0.0)
            bk = k
            for k2 in range(R.shape[0]):
                if k2 == k or not active[k2] or L[k2] == 0 or not allowed[h, k2] \
                        or ntask[k2] >= vmaxt[k2]:
                    continue
                md = vmode[k2]
                m2 = load_seq(R, L, k2, vstart, vend, S)
                prep(S, m2, k2, T3[md], svc, dem, wlo, whi, has_open, optr, olo, ohi, shift,
                     F, Z, LD)
                delta, i, j = best_insert(S, m2, F, Z, LD, p, d, C3[md], T3[md], svc, dem, wlo,
                                          whi, has_open, optr, olo, ohi, vcap[k2], False,
                                          0.0)
                if delta < best:
                    best, bk, bi, bj = delta, k2, i, j
            if best < gain:
                remove_nodes(R, L, k, p, d)
                apply_insert(R, L, bk, p, d, bi, bj)
                ntask[k] -= 1
                ntask[bk] += 1
                where[h] = bk
                saved += gain - best
                moved += 1
        if moved == 0:
            break
    return saved


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


@njit(cache=True)
def lns(R, L, active, ntask, where, near, iters, t0, t1, max_remove, blink, eject_steps, T3, C3,
        vmode, vstart,
        vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi, node_task,
        tfirst, tsecond, allowed):  # pragma: no cover - compiled
    """Ruin and recreate with simulated annealing on the cost, the routes fixed to ``active``.

    Each iteration removes a task and up to ``max_remove - 1`` of its nearest tasks (``near``:
    per task the others by relatedness), puts them back one by one in random order at their
    cheapest feasible place, and accepts the result when every task found a place and the cost
    is below the current cost plus a threshold ``-T ln U`` (temperature falling geometrically
    from ``t0`` to ``t1``). The routes end at the best plan seen. Returns its cost.
    """
    width = R.shape[1] + 2
    S = np.empty(width, dtype=np.int64)
    F = np.empty(width, dtype=np.int64)
    Z = np.empty(width, dtype=np.int64)
    LD = np.empty(width, dtype=np.int64)
    nt = tfirst.shape[0]
    served = np.zeros(nt, dtype=np.int64)
    ns = 0
    for t in range(nt):
        if where[t] >= 0:
            served[ns] = t
            ns += 1
    cur = _total_cost(R, L, vmode, vstart, vend, C3)
    best = cur
    bR, bL, bn, bw = R.copy(), L.copy(), ntask.copy(), where.copy()
    sR, sL, sn, sw = R.copy(), L.copy(), ntask.copy(), where.copy()
    removed = np.empty(max(1, max_remove), dtype=np.int64)
    ep = np.empty(nt, dtype=np.int64)
    pen = np.ones(nt, dtype=np.int64)
    if ns < 2 or iters <= 0:
        return cur
    ratio = (t1 / t0) ** (1.0 / iters) if t0 > 0 and t1 > 0 else 1.0
    temp = t0
    for _ in range(iters):
        temp *= ratio
        sR[:, :] = R
        sL[:] = L
        sn[:] = ntask
        sw[:] = where
        q = np.random.randint(1, max_remove + 1)
        s0 = served[np.random.randint(0, ns)]
        nr = 0
        removed[nr] = s0
        nr += 1
        for c in range(near.shape[1]):
            if nr >= q:
                break
            t = near[s0, c]
            if where[t] >= 0:
                removed[nr] = t
                nr += 1
        for r in range(nr):
            t = removed[r]
            k = where[t]
            remove_nodes(R, L, k, tfirst[t], tsecond[t])
            ntask[k] -= 1
            where[t] = -1
        # random order, or (half the time) the tightest pickup windows first
        for r in range(nr - 1, 0, -1):
            j = np.random.randint(0, r + 1)
            removed[r], removed[j] = removed[j], removed[r]
        if np.random.random() < 0.5:
            for r in range(1, nr):
                x = removed[r]
                wx = whi[tfirst[x]] - wlo[tfirst[x]]
                j = r - 1
                while j >= 0 and whi[tfirst[removed[j]]] - wlo[tfirst[removed[j]]] > wx:
                    removed[j + 1] = removed[j]
                    j -= 1
                removed[j + 1] = x
        ok = True
        for r in range(nr):
            if not _insert_anywhere(removed[r], R, L, active, ntask, where, False, blink, S, F, Z,
                                    LD, T3, C3, vmode, vstart, vend, shift, vcap, vmaxt, svc, dem,
                                    wlo, whi, has_open, optr, olo, ohi, tfirst, tsecond,
                                    allowed):
                if eject_steps <= 0:
                    ok = False
                    break
                # the rest through the ejection pool (a bounded ejection chain)
                ep_n = 0
                for r2 in range(r, nr):
                    ep[ep_n] = removed[r2]
                    ep_n += 1
                pen[:] = 1
                left, _ = ges_run(R, L, active, ntask, where, ep, ep_n, pen,
                                  eject_steps * nr, 2, 0, T3, C3, vmode, vstart, vend, shift,
                                  vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi,
                                  node_task, tfirst, tsecond, allowed)
                ok = left == 0
                break
        if ok:
            new = _total_cost(R, L, vmode, vstart, vend, C3)
            if new < cur - temp * np.log(np.random.random() + 1e-300):
                cur = new
                if new < best:
                    best = new
                    bR[:, :] = R
                    bL[:] = L
                    bn[:] = ntask
                    bw[:] = where
                continue
        R[:, :] = sR
        L[:] = sL
        ntask[:] = sn
        where[:] = sw
    R[:, :] = bR
    L[:] = bL
    ntask[:] = bn
    where[:] = bw
    return best
