"""The solver's input: plain integer arrays, checked once on construction.

Everything here is in solver units (integers). For a working day the unit is seconds; for the
Li & Lim / Solomon benchmarks it is the instance distance times :data:`SCALE`. Scaling happens
once, in whoever builds the problem (``routing.build`` or the benchmark reader), never inside the
solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["UNREACHABLE", "Break", "RoutingProblem", "to_int_matrix"]

#: Travel time used for "no path" (about 115 days in seconds): larger than any horizon.
UNREACHABLE = 10_000_000


def to_int_matrix(seconds: np.ndarray, *, scale: float = 1.0,
                  dtype: type[np.signedinteger] = np.int64) -> np.ndarray:
    """Scale a float matrix once and round it to integers; ``inf``/``nan`` become UNREACHABLE.

    Parameters
    ----------
    seconds
        Square float matrix (``inf`` where unreachable).
    scale
        Multiplier applied before rounding (e.g. 1 for seconds, 100 for benchmark distances).
    dtype
        Integer type of the result; ``int32`` holds every value (``UNREACHABLE`` < 2**31) in
        half the memory, which is what a day of thousands of errands needs.

    Returns
    -------
    numpy.ndarray
        Integer matrix, values clipped to ``[0, UNREACHABLE]``.
    """
    if (scale == 1.0 and isinstance(seconds, np.ndarray) and seconds.dtype == dtype
            and (seconds.size == 0 or (seconds.min() >= 0 and seconds.max() <= UNREACHABLE))):
        return seconds  # already whole seconds in range (routing.matrix.network_matrices)
    a = np.array(seconds, dtype=float)  # a copy: worked on in place below
    if scale != 1.0:
        a *= scale
    a[~np.isfinite(a)] = UNREACHABLE
    np.rint(a, out=a)
    np.clip(a, 0, UNREACHABLE, out=a)
    return a.astype(dtype)


@dataclass(frozen=True)
class Break:
    """A break a vehicle must take: start in ``[earliest, latest]``, lasting ``duration``."""

    earliest: int
    latest: int
    duration: int

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError("Expected break duration >= 0.")
        if self.latest < self.earliest:
            raise ValueError("Expected break latest start >= earliest start.")


@dataclass(frozen=True)
class RoutingProblem:
    """A pickup-and-delivery problem with time windows, many depots, modes, skills and breaks.

    Nodes ``0..n-1`` index every matrix. A *task* is either a pickup-delivery pair of nodes or a
    single visit node; depots (vehicle start/end nodes) must not be task nodes.

    Parameters
    ----------
    travel
        Mode name -> ``(n, n)`` int travel time matrix (same units as the windows).
    tasks
        Per task, a tuple ``(pickup, delivery)`` or ``(visit,)`` of node indices.
    windows
        ``(n, 2)`` earliest/latest *arrival* (service start) per node.
    service
        ``(n,)`` service duration per node.
    vehicle_mode
        Per vehicle, a key of ``travel``.
    vehicle_start, vehicle_end
        Per vehicle, depot node indices.
    vehicle_shift
        ``(v, 2)`` earliest departure / latest return per vehicle.
    cost
        Optional mode -> ``(n, n)`` arc cost matrix (e.g. distance); defaults to ``travel``.
    demand
        ``(n,)`` load change at each node (pickup positive, delivery negative); default zero.
    vehicle_capacity
        Per vehicle load capacity; default unlimited.
    vehicle_max_tasks
        Per vehicle maximum number of tasks; default unlimited.
    vehicle_breaks
        Per vehicle ``Break`` or ``None``.
    task_vehicles
        Per task the allowed vehicle indices, or ``None`` for all. Must not be empty lists:
        the builder drops such tasks before (they have no vehicle).
    task_penalty
        Per task the cost of leaving it out; ``None`` makes every task mandatory.
    vehicle_fixed_cost
        Cost added per used vehicle.
    node_open
        Optional node -> sorted, disjoint ``(lo, hi)`` intervals the node's service may *start*
        in (e.g. a hall's open hours less the service time; see :mod:`routing.halls`), on top
        of its window.
    """

    travel: dict[str, np.ndarray]
    tasks: tuple[tuple[int, ...], ...]
    windows: np.ndarray
    service: np.ndarray
    vehicle_mode: tuple[str, ...]
    vehicle_start: np.ndarray
    vehicle_end: np.ndarray
    vehicle_shift: np.ndarray
    cost: dict[str, np.ndarray] | None = None
    demand: np.ndarray | None = None
    vehicle_capacity: np.ndarray | None = None
    vehicle_max_tasks: np.ndarray | None = None
    vehicle_breaks: tuple[Break | None, ...] | None = None
    task_vehicles: tuple[tuple[int, ...] | None, ...] | None = None
    task_penalty: np.ndarray | None = None
    vehicle_fixed_cost: int = 0
    node_open: dict[int, tuple[tuple[int, int], ...]] | None = None
    node_task: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = self.n_nodes
        problems: list[str] = []
        for mode, m in self.travel.items():
            if m.shape != (n, n) or not np.issubdtype(m.dtype, np.integer):
                problems.append(f"travel[{mode!r}] must be an integer ({n}, {n}) matrix.")
            elif (m < 0).any():
                problems.append(f"travel[{mode!r}] has negative entries.")
        for mode, m in (self.cost or {}).items():
            if m.shape != (n, n) or not np.issubdtype(m.dtype, np.integer):
                problems.append(f"cost[{mode!r}] must be an integer ({n}, {n}) matrix.")
        if self.windows.shape != (n, 2):
            problems.append(f"windows must be ({n}, 2).")
        elif (self.windows[:, 1] < self.windows[:, 0]).any():
            problems.append("windows: latest before earliest.")
        if self.service.shape != (n,):
            problems.append(f"service must be ({n},).")
        v = self.n_vehicles
        for name in ("vehicle_start", "vehicle_end"):
            a = getattr(self, name)
            if a.shape != (v,) or (a < 0).any() or (a >= n).any():
                problems.append(f"{name} must be {v} node indices.")
        if self.vehicle_shift.shape != (v, 2):
            problems.append(f"vehicle_shift must be ({v}, 2).")
        for mode in set(self.vehicle_mode):
            if mode not in self.travel:
                problems.append(f"vehicle mode {mode!r} has no travel matrix.")
        node_task = np.full(n, -1, dtype=np.int64)
        depots = set(self.vehicle_start.tolist()) | set(self.vehicle_end.tolist())
        for t, nodes in enumerate(self.tasks):
            if len(nodes) not in (1, 2):
                problems.append(f"task {t} must have 1 or 2 nodes.")
            for k in nodes:
                if not 0 <= k < n:
                    problems.append(f"task {t} node {k} out of range.")
                elif node_task[k] >= 0:
                    problems.append(f"node {k} belongs to two tasks.")
                elif k in depots:
                    problems.append(f"node {k} is both a depot and a task node.")
                else:
                    node_task[k] = t
        if self.task_vehicles is not None:
            if len(self.task_vehicles) != len(self.tasks):
                problems.append("task_vehicles must have one entry per task.")
            for t, allowed in enumerate(self.task_vehicles):
                if allowed is not None and len(allowed) == 0:
                    problems.append(f"task {t} has an empty allowed-vehicle list.")
        if self.task_penalty is not None and self.task_penalty.shape != (len(self.tasks),):
            problems.append("task_penalty must have one entry per task.")
        if self.vehicle_breaks is not None and len(self.vehicle_breaks) != v:
            problems.append("vehicle_breaks must have one entry per vehicle.")
        for k, ivs in (self.node_open or {}).items():
            if not 0 <= k < n or node_task[k] < 0:
                problems.append(f"node_open: node {k} is not a task node.")
            elif any(a > b for a, b in ivs) or any(
                    ivs[i][1] >= ivs[i + 1][0] for i in range(len(ivs) - 1)):
                problems.append(f"node_open[{k}]: expected sorted, disjoint intervals.")
        if problems:
            raise ValueError("Invalid RoutingProblem: " + " ".join(problems))
        object.__setattr__(self, "node_task", node_task)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (rows of every matrix)."""
        return int(self.windows.shape[0])

    @property
    def n_vehicles(self) -> int:
        """Number of vehicles."""
        return len(self.vehicle_mode)

    def demand_or_zero(self) -> np.ndarray:
        """Per-node load change (zeros when the problem has no capacity)."""
        if self.demand is None:
            return np.zeros(self.n_nodes, dtype=np.int64)
        return np.asarray(self.demand, dtype=np.int64)

    def cost_matrix(self, mode: str) -> np.ndarray:
        """Arc cost matrix for a mode (the travel matrix when no separate cost is given)."""
        if self.cost is not None and mode in self.cost:
            return self.cost[mode]
        return self.travel[mode]

    def allowed(self, task: int) -> tuple[int, ...]:
        """Vehicles allowed to serve a task."""
        if self.task_vehicles is None or self.task_vehicles[task] is None:
            return tuple(range(self.n_vehicles))
        return tuple(self.task_vehicles[task])  # type: ignore[arg-type]

    def with_vehicles(self, keep: list[int]) -> RoutingProblem:
        """The same problem restricted to the vehicles in ``keep`` (in that order)."""
        idx = np.asarray(keep, dtype=np.int64)
        remap = {old: new for new, old in enumerate(keep)}
        tv = None
        if self.task_vehicles is not None:
            kept = [None if a is None else tuple(remap[x] for x in a if x in remap)
                    for a in self.task_vehicles]
            if any(a == () for a in kept):
                raise ValueError("Restricting vehicles leaves a task with no allowed vehicle.")
            tv = tuple(kept)
        return RoutingProblem(
            travel=self.travel,
            tasks=self.tasks,
            windows=self.windows,
            service=self.service,
            vehicle_mode=tuple(self.vehicle_mode[i] for i in keep),
            vehicle_start=self.vehicle_start[idx],
            vehicle_end=self.vehicle_end[idx],
            vehicle_shift=self.vehicle_shift[idx],
            cost=self.cost,
            demand=self.demand,
            vehicle_capacity=None if self.vehicle_capacity is None else self.vehicle_capacity[idx],
            vehicle_max_tasks=None
            if self.vehicle_max_tasks is None
            else self.vehicle_max_tasks[idx],
            vehicle_breaks=None
            if self.vehicle_breaks is None
            else tuple(self.vehicle_breaks[i] for i in keep),
            task_vehicles=tv,
            task_penalty=self.task_penalty,
            vehicle_fixed_cost=self.vehicle_fixed_cost,
            node_open=self.node_open,
        )
