"""The searches built on :mod:`routing._ges`' checked moves: the ejection pool, descent, ruin and recreate.

Split from the move kernels to keep each module one job. A numba note: ``cache=True`` does not
notice when a function *imported from another module* changes, so after editing
:mod:`routing._ges` delete ``routing/__pycache__/_ges_search*.nb*`` (a fresh checkout has no
cache and compiles both).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._ges import (
    INF,
    _route_tasks,
    _total_cost,
    apply_insert,
    best_insert,
    load_seq,
    prep,
    remove_nodes,
)


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
def _string_ruin(s0, q, R, L, where, near, node_task, tfirst, mark, ruined, removed
                 ):  # pragma: no cover - compiled
    """Tasks of strings of consecutive stops, one string per route (SISR-style ruin).

    Walks ``s0`` and then its nearest tasks; from each one's route not yet ruined it takes a
    string of random length (at most twice the tasks still wanted, in stops) that holds the
    task's first stop, and every task with a stop in it. Returns how many tasks ``removed``
    holds (at least ``s0``; at most ``removed``'s length). ``mark`` and ``ruined`` are all
    False on entry and on return.
    """
    nr = 0
    cap = removed.shape[0]
    for c in range(-1, near.shape[1]):
        if nr >= q:
            break
        t = s0 if c < 0 else near[s0, c]
        k = where[t]
        if k < 0 or ruined[k] or mark[t]:
            continue
        ruined[k] = True
        m = L[k]
        pos = 0
        for x in range(m):
            if R[k, x] == tfirst[t]:
                pos = x
                break
        ell = np.random.randint(1, min(m, 2 * (q - nr)) + 1)
        start = max(0, min(pos - np.random.randint(0, ell), m - ell))
        for x in range(start, start + ell):
            h = node_task[R[k, x]]
            if h >= 0 and not mark[h] and nr < cap:
                mark[h] = True
                removed[nr] = h
                nr += 1
    for r in range(nr):
        mark[removed[r]] = False
    ruined[:] = False
    return nr


@njit(cache=True)
def lns(R, L, active, ntask, where, near, iters, t0, t1, max_remove, blink, eject_steps,
        eject_k, string_share, T3, C3, vmode, vstart,
        vend, shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo, ohi, node_task,
        tfirst, tsecond, allowed):  # pragma: no cover - compiled
    """Ruin and recreate with simulated annealing on the cost, the routes fixed to ``active``.

    Each iteration removes a task and up to ``max_remove - 1`` of its nearest tasks (``near``:
    per task the others by relatedness) or, with probability ``string_share``, strings of
    consecutive stops from the routes of the task and its nearest (:func:`_string_ruin`), puts
    them back one by one in random order at their cheapest feasible place, and accepts the
    result when every task found a place and the cost is below the current cost plus a
    threshold ``-T ln U`` (temperature falling geometrically from ``t0`` to ``t1``). The routes
    end at the best plan seen. Returns its cost.
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
    mark = np.zeros(nt, dtype=np.bool_)
    ruined = np.zeros(R.shape[0], dtype=np.bool_)
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
        if np.random.random() < string_share:
            nr = _string_ruin(s0, q, R, L, where, near, node_task, tfirst, mark, ruined, removed)
        else:
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
                                  eject_steps * nr, eject_k, 0, T3, C3, vmode, vstart, vend,
                                  shift, vcap, vmaxt, svc, dem, wlo, whi, has_open, optr, olo,
                                  ohi, node_task, tfirst, tsecond, allowed)
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
