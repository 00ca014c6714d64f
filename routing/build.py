"""Errands + runners + outlets + matrices -> a :class:`RoutingProblem`, and the way back.

Node layout: one depot node per base outlet in use, then the errand stops (pickup, delivery or
visit), in errand order. Hall ends of ``pickup_to_hall`` / ``hall_to_home`` errands sit at the
outlet's coordinates but are their own nodes (OR-Tools start/end nodes cannot be visits,
or-tools #1587). Errands no runner may serve (skills) are dropped here, before the solver, so
``SetAllowedVehiclesForIndex`` never sees an empty list (or-tools #4644).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gis.errors import InputError, InputProblem

from .problem import Break, RoutingProblem, to_int_matrix
from .reasons import Reason
from .tables import Errand, Runner

__all__ = ["DayProblem", "Stop", "build_day_problem", "PRIORITY_PENALTY_S", "matrix_bytes",
           "available_bytes", "MEMORY_SHARE"]

log = logging.getLogger(__name__)

#: Cost of leaving an errand out, in seconds of travel, by priority (1 = most urgent).
PRIORITY_PENALTY_S = {1: 8 * 3600 * 4, 2: 8 * 3600 * 2, 3: 8 * 3600}

NO_SKILL = "no runner with the skill"

#: Bytes per matrix entry, measured (see ``docs/benchmarks.md``): kept per mode, the int32
#: solver input and OR-Tools' own int64 copies of the time and cost matrices; passing through,
#: the float seconds with their conversion and the Python lists OR-Tools is handed.
BYTES_KEPT_PER_MODE = 4 + 2 * 8
BYTES_PASSING = 8 * 2 + 40
#: Share of the available memory a day may plan to use.
MEMORY_SHARE = 0.7


def matrix_bytes(n_nodes: int, n_modes: int) -> int:
    """Estimated peak bytes of the matrices of a day of ``n_nodes`` nodes and ``n_modes`` modes."""
    return n_nodes * n_nodes * (n_modes * BYTES_KEPT_PER_MODE + BYTES_PASSING)


def available_bytes() -> int | None:
    """Memory the system can give now (``MemAvailable``), or ``None`` where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _size(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def _check_size(n_errands: int, n_nodes: int, modes: list[str]) -> None:
    need = matrix_bytes(n_nodes, len(modes))
    have = available_bytes()
    if have is not None and need > MEMORY_SHARE * have:
        raise InputError(InputProblem(
            "errands", None, None,
            f"{n_errands:,} errands make {n_nodes:,} stops; their travel-time matrices for "
            f"{len(modes)} mode(s) ({', '.join(modes)}) need about {_size(need)}, "
            f"more than {MEMORY_SHARE:.0%} of the {_size(have)} available: plan the "
            "day in parts (by area or by hour)"))


@dataclass(frozen=True)
class Stop:
    """What a node means for people: an errand end or a base."""

    node: int
    errand_id: str  # "" for a base
    role: str  # "pickup" | "delivery" | "visit" | "base"
    lon: float
    lat: float
    place: str  # outlet name for hall ends and bases, else the errand address


@dataclass
class DayProblem:
    """A working day in solver form plus everything needed to map results back."""

    problem: RoutingProblem
    stops: list[Stop]
    errands: list[Errand]
    runners: list[Runner]
    task_errand: list[str]
    pre_dropped: dict[str, str | Reason] = field(default_factory=dict)  # a code, or a Reason
    outlet_names: dict[str, str] = field(default_factory=dict)

    @property
    def lonlat(self) -> np.ndarray:
        """``(n, 2)`` lon/lat of every node."""
        return np.array([[s.lon, s.lat] for s in self.stops])


def build_day_problem(errands: list[Errand], runners: list[Runner], outlets: pd.DataFrame,
                      matrices: Callable[[np.ndarray, list[str]], dict[str, np.ndarray]],
                      ) -> DayProblem:
    """Lay out nodes, ask for matrices, and build the solver problem.

    Parameters
    ----------
    errands, runners
        Validated records.
    outlets
        Table with ``id, name, lon, lat`` (bases and halls).
    matrices
        ``f(lonlat (n, 2), modes) -> {mode: float seconds (n, n)}``, e.g. a partial of
        :func:`routing.matrix.network_matrices` or :func:`routing.matrix.haversine_matrices`.

    Returns
    -------
    DayProblem
    """
    out = outlets.assign(id=outlets["id"].astype(str)).set_index("id")
    names = {str(k): str(v) for k, v in out["name"].items()}

    def outlet_pt(oid: str) -> tuple[float, float]:
        return float(out.at[oid, "lon"]), float(out.at[oid, "lat"])

    stops: list[Stop] = []
    base_node: dict[str, int] = {}
    for r in runners:
        if r.base_outlet_id not in base_node:
            base_node[r.base_outlet_id] = len(stops)
            lon, lat = outlet_pt(r.base_outlet_id)
            stops.append(Stop(len(stops), "", "base", lon, lat, names[r.base_outlet_id]))
    pre: dict[str, str] = {}
    allowed_of: list[tuple[int, ...] | None] = []
    kept: list[Errand] = []
    for e in errands:
        if e.skill:
            ok = tuple(k for k, r in enumerate(runners) if e.skill in r.skills)
            if not ok:
                pre[e.id] = NO_SKILL
                continue
            allowed_of.append(ok)
        else:
            allowed_of.append(None)
        kept.append(e)
    tasks: list[tuple[int, ...]] = []
    win: list[tuple[int, int]] = [(0, 24 * 3600)] * len(stops)
    svc: list[int] = [0] * len(stops)
    for e in kept:
        if e.kind == "home_visit":
            lon, lat = e.pickup  # type: ignore[misc]
            stops.append(Stop(len(stops), e.id, "visit", lon, lat, e.address))
            tasks.append((len(stops) - 1,))
            win.append(e.pickup_window)
            svc.append(e.service_s)
            continue
        if e.pickup is not None:
            p_pt, p_place = e.pickup, e.address
        else:
            p_pt, p_place = outlet_pt(e.hall_id), names[e.hall_id]
        if e.delivery is not None:
            d_pt, d_place = e.delivery, e.address if e.kind != "pickup_to_hall" else ""
        else:
            d_pt, d_place = outlet_pt(e.hall_id), names[e.hall_id]
        if e.kind == "pickup_delivery":
            d_place = e.address
        stops.append(Stop(len(stops), e.id, "pickup", p_pt[0], p_pt[1], p_place))
        stops.append(Stop(len(stops), e.id, "delivery", d_pt[0], d_pt[1], d_place))
        tasks.append((len(stops) - 2, len(stops) - 1))
        win += [e.pickup_window, e.delivery_window]
        half = e.service_s // 2  # service minutes cover both ends
        svc += [half, e.service_s - half]
    lonlat = np.array([[s.lon, s.lat] for s in stops])
    modes = sorted({r.mode for r in runners})
    _check_size(len(kept), len(stops), modes)
    travel = {m: to_int_matrix(a, dtype=np.int32) for m, a in matrices(lonlat, modes).items()}
    v = len(runners)
    breaks = tuple(None if r.lunch is None else
                   Break(r.lunch[0], r.lunch[1] - r.lunch[2], r.lunch[2]) for r in runners)
    problem = RoutingProblem(
        travel=travel,
        tasks=tuple(tasks),
        windows=np.array(win, dtype=np.int64).reshape(-1, 2),
        service=np.array(svc, dtype=np.int64),
        vehicle_mode=tuple(r.mode for r in runners),
        vehicle_start=np.array([base_node[r.base_outlet_id] for r in runners], dtype=np.int64),
        vehicle_end=np.array([base_node[r.base_outlet_id] for r in runners], dtype=np.int64),
        vehicle_shift=np.array([r.shift for r in runners], dtype=np.int64).reshape(v, 2),
        vehicle_max_tasks=np.array([r.max_errands or 10_000 for r in runners], dtype=np.int64),
        vehicle_breaks=breaks,
        task_vehicles=tuple(allowed_of),
        task_penalty=np.array([PRIORITY_PENALTY_S[e.priority] for e in kept], dtype=np.int64),
    )
    if pre:
        log.info("%d errand(s) dropped before solving: %s", len(pre), NO_SKILL)
    return DayProblem(problem, stops, kept, runners, [e.id for e in kept], pre, names)
