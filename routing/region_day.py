"""Region -> matrices -> day: the one bridge from a :class:`gis.region.Region` to a day plan.

Used alike by the command line, the notebooks and (later) the web app: the errands and runners
(a user's files, the region's own, or illustrative demo ones) are validated against the
region's outlets, modes and extent, and planned on the region's road network.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from gis.crs import pad_bbox, simplify_lonlat
from gis.errors import InputError, InputProblem
from gis.network import RoadNetwork
from gis.region import Region
from gis.workdays import next_working_day

from .day import plan_day
from .deadline import Deadline
from .demo import demo_errands, demo_runners
from .matrix import network_matrices
from .plan import DayPlan, RunnerRoute
from .solver import DEFAULT_TIME_LIMIT_S, SolveParams
from .tables import errands_from_frame, read_table, runners_from_frame

__all__ = ["BASE_KINDS", "BBOX_PAD_M", "errand_bbox", "PATH_SIMPLIFY_M", "plan_region_routes",
           "region_outlets", "road_legs"]

log = logging.getLogger(__name__)

#: Outlet kinds a runner may be based at (if the region has any of them).
BASE_KINDS = ("service_hall", "community_station", "post_office")
#: Margin around the region's extent inside which errands are accepted (degrees).
BBOX_PAD_M = 2000.0  #: metres around the region within which errands may lie
#: Douglas–Peucker tolerance for the road paths drawn on the sheets' maps (metres).
PATH_SIMPLIFY_M = 8.0


def region_outlets(reg: Region) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The region's outlets as ``id, name, kind, lon, lat`` (string ids) and the bases among them."""
    outlets = reg.outlets[["id", "name", "kind", "lon", "lat", "hours"]].copy()
    outlets["id"] = outlets["id"].astype(str)
    bases = outlets[outlets["kind"].isin(BASE_KINDS)]
    return outlets, (bases if len(bases) else outlets)


def errand_bbox(reg: Region) -> tuple[float, float, float, float]:
    """The lon/lat box errands must lie in: the region's, grown by :data:`BBOX_PAD_M` metres."""
    return pad_bbox(reg.bbox(), BBOX_PAD_M)


def plan_region_routes(reg: Region, *, errands: str | os.PathLike | pd.DataFrame | None = None,
                       runners: str | os.PathLike | pd.DataFrame | None = None, day: dt.date | None = None,
                       time_limit: float = DEFAULT_TIME_LIMIT_S,
                       deadline: Deadline | None = None, seed: int = 0, n_errands: int = 60,
                       n_runners: int = 8) -> DayPlan:
    """Errands and runners -> a validated day plan on the region's road network.

    Parameters
    ----------
    reg
        The region.
    errands, runners
        Tables (CSV/XLSX paths, or tables already read, e.g. from the ledger); default the
        region's own, else illustrative demo ones.
    day
        The day (default the next working day).
    time_limit
        Seconds for the whole run (reading, matrices, solve, repair, check), when no
        ``deadline`` is given.
    deadline
        The run's deadline, if the caller started the clock earlier.
    seed, n_errands, n_runners
        The illustrative errands and runners, when there are no files.

    Returns
    -------
    DayPlan

    Raises
    ------
    InputError
        Every problem in the errands and the runners at once, or a day too large to plan.
    """
    deadline = deadline or Deadline.after(time_limit)
    day = day or next_working_day(dt.date.today())
    outlets, bases = region_outlets(reg)
    bbox = errand_bbox(reg)
    e_frame = errands if isinstance(errands, pd.DataFrame) else None
    r_frame = runners if isinstance(runners, pd.DataFrame) else None
    e_path = None if e_frame is not None else errands or reg.errands_path
    r_path = None if r_frame is not None else runners or reg.runners_path
    modes = tuple(reg.network.modes)
    if e_frame is not None:
        e_df, e_name = e_frame, "ledger errands"
    elif e_path is not None:
        e_df, e_name = read_table(Path(e_path)), str(e_path)
    else:
        e_df = demo_errands(outlets, reg.demand, n=n_errands, seed=seed)
        e_name = "demo errands"
    if r_frame is not None:
        r_df, r_name = r_frame, "ledger runners"
    elif r_path is not None:
        r_df, r_name = read_table(Path(r_path)), str(r_path)
    else:
        r_df = demo_runners(bases, n=n_runners, seed=seed, modes=modes)
        r_name = "demo runners"
    problems: list[InputProblem] = []
    errs, runs = [], []
    try:
        runs = runners_from_frame(r_df, file=r_name, base_ids=outlets["id"], modes=modes)
    except InputError as exc:
        problems += exc.problems
    net = reg.network
    try:  # errand ends beyond max_snap_m of every runner mode's road are refused, like outlets
        errs = errands_from_frame(
            e_df, file=e_name, hall_ids=outlets["id"], bbox=bbox,
            road_distance=lambda lon, lat, mode: net.snap(lon, lat, mode=mode).distance_m,
            road_modes={r.mode for r in runs} or set(modes),
            max_snap_m=reg.settings.max_snap_m)
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    log.info("solving %d errands for %d runners", len(errs), len(runs))
    plan = plan_day(errs, runs, outlets, matrices=partial(network_matrices, reg.network),
                    date=day, region=reg.name,
                    params=SolveParams(time_limit_s=min(deadline.limit_s, 1e9)),
                    deadline=deadline)
    for route in plan.routes:  # the sheets' maps follow the roads (drawn after the time limit)
        if route.stops:
            route.legs = road_legs(reg.network, route)
    return plan


def _leg_nodes(network: RoadNetwork, mode: str, a: int, b: int, limit_s: float) -> list[int]:
    """Node indices of the shortest ``mode`` path from node ``a`` to node ``b`` (``[]``: none)."""
    if a == b:
        return [a]
    g = network.graph(mode)
    for limit in (limit_s, np.inf):
        _, pred = dijkstra(g, directed=True, indices=a, return_predecessors=True, limit=limit)
        if pred[b] >= 0:
            path = [b]
            while path[-1] != a:
                path.append(int(pred[path[-1]]))
            return path[::-1]
    return []


def road_legs(network: RoadNetwork, route: RunnerRoute, *,
              tolerance_m: float = PATH_SIMPLIFY_M) -> list[np.ndarray]:
    """The road path of each leg of a route, as plain lon/lat arrays for the sheet's map.

    Base → stop 1 → … → last stop → base, each leg the shortest path of the runner's mode
    through the network between the points' snapped nodes (the same snapping as the travel
    times), with the straight access and egress legs at its ends, simplified by
    Douglas–Peucker in metres (:func:`gis.crs.simplify_lonlat`). A leg without a road path is
    the straight line between its ends.

    Returns
    -------
    list of ndarray
        ``len(route.stops) + 1`` arrays of shape ``(k, 2)``, lon/lat, ``k >= 2``.
    """
    pts = np.array([(route.base_lon, route.base_lat),
                    *[(s.lon, s.lat) for s in route.stops], (route.base_lon, route.base_lat)],
                   dtype=float)
    if route.mode not in network.modes:
        return [pts[i:i + 2] for i in range(len(pts) - 1)]
    snap = network.snap(pts[:, 0], pts[:, 1], mode=route.mode)
    nodes = np.asarray(snap.node, dtype=np.int64)
    dist = np.hypot(*(np.subtract(network.project(pts[1:, 0], pts[1:, 1]),
                                  network.project(pts[:-1, 0], pts[:-1, 1]))))
    lines = []
    for i in range(len(pts) - 1):
        # a generous search radius: four times the straight line at walking speed
        limit = 4 * float(dist[i]) / network.speeds.walk_ms + 600.0
        path = _leg_nodes(network, route.mode, int(nodes[i]), int(nodes[i + 1]), limit)
        if path:
            xy = np.column_stack([network.lon[path], network.lat[path]])
            lines.append(np.vstack([pts[i], xy, pts[i + 1]]))
        else:
            lines.append(pts[i:i + 2])
    geoms = shapely.linestrings(np.vstack(lines), indices=np.repeat(
        np.arange(len(lines)), [len(x) for x in lines]))
    simple = simplify_lonlat(geoms, tolerance_m)
    out = []
    for line, g in zip(lines, simple, strict=True):
        xy = np.asarray(shapely.get_coordinates(g))
        out.append(xy if len(xy) >= 2 else line)
    return out
