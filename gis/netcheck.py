"""`bianmin region check`'s report: islands holding people, long snaps, and what would fix them.

In rural counties OSM misses roads, and every figure the tool reports rests on them. This module
says where the network fails the population: the road islands people live on (with the gap to
the main network, which a local road in ``[files] extra_roads`` would close), the points furthest
from any road, and the long detours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from .coverage import CoverageResult, coverage_of_region
from .region import Region

__all__ = ["NetworkCheck", "check_region_network"]


@dataclass(frozen=True)
class NetworkCheck:
    """What ``bianmin region check`` reports about the road network.

    ``islands``: one row per (mode, island) holding people: ``mode, part, nodes, road_km,
    points, population, has_outlet, nearest_outlet, nearest_outlet_km, gap_m, from_lon,
    from_lat, to_lon, to_lat, fix``. ``far``: the demand points furthest from their mode's
    road (``demand_id, area_id, population, mode, snap_m, reason, fix``). ``detours``: people
    flagged ``long_detour``.
    """

    islands: pd.DataFrame
    far: pd.DataFrame
    detour_population: float
    coverage: CoverageResult

    def summary(self) -> str:
        """The report as plain text, one finding a line."""
        lines = [f"{len(self.islands)} road island(s) hold people "
                 f"({self.islands['population'].sum():,.0f} people)"]
        for r in self.islands.itertuples():
            lines.append(
                f"  {r.mode} island {r.part}: {r.nodes} nodes, {r.road_km:.1f} km of road, "
                f"{r.points} points, {r.population:,.0f} people, "
                f"{'an outlet on it' if r.has_outlet else 'no outlet on it'}; nearest outlet "
                f"{r.nearest_outlet} at {r.nearest_outlet_km:.1f} km. Fix: {r.fix}")
        lines.append(f"largest snap distances (limit network.max_snap_m = "
                     f"{self.coverage.points.attrs.get('max_snap_m', 0):,.0f} m):")
        for r in self.far.itertuples():
            lines.append(f"  {r.demand_id} ({r.area_id}, {r.population:,.0f} people, {r.mode}): "
                         f"{r.snap_m:,.0f} m. Fix: {r.fix}")
        lines.append(f"{self.detour_population:,.0f} people flagged long_detour in points.csv "
                     "(see docs/guide.md, 'When the numbers look wrong')")
        return "\n".join(lines)


def check_region_network(region: Region, *, top: int = 10) -> NetworkCheck:
    """Islands holding people, the ``top`` largest snap distances, and a fix for each."""
    cov = coverage_of_region(region)
    p = cov.points
    p.attrs["max_snap_m"] = region.settings.max_snap_m
    net = region.network
    lon, lat = region.demand["lon"].to_numpy(), region.demand["lat"].to_numpy()
    olon, olat = region.outlets["lon"].to_numpy(), region.outlets["lat"].to_numpy()
    oids = region.outlets["id"].to_numpy(dtype=object)
    ox, oy = net.project(olon, olat)
    otree = cKDTree(np.column_stack([ox, oy])) if len(ox) else None
    rows = []
    for mode in sorted(set(p["mode"])):
        sel = np.flatnonzero(p["mode"].to_numpy() == mode)
        parts = net.parts(mode)
        s = net.snap(lon[sel], lat[sel], mode=mode, islands=True)
        near = s.distance_m <= region.settings.max_snap_m
        part = np.where(near, parts[s.node], -1)
        u, _, _, length = net.edges(mode)
        part_m = np.bincount(parts[u], weights=length, minlength=parts.max() + 1) / 2
        main = np.flatnonzero(parts == 0)
        mtree = cKDTree(np.column_stack([net.x[main], net.y[main]]))
        osnap = net.snap(olon, olat, mode=mode, islands=True) if len(olon) else None
        for q in sorted(set(part[part > 0].tolist())):
            pts = sel[part == q]
            nodes = np.flatnonzero(parts == q)
            d, k = mtree.query(np.column_stack([net.x[nodes], net.y[nodes]]))
            i = int(np.argmin(d))
            a, b = nodes[i], main[k[i]]
            px, py = net.project(lon[pts], lat[pts])
            cx, cy = float(px.mean()), float(py.mean())
            od, oj = otree.query([cx, cy]) if otree is not None else (np.nan, 0)
            has_outlet = osnap is not None and bool((parts[osnap.node] == q).any())
            fix = (f"a local road of about {d[i]:,.0f} m from ({net.lon[a]:.6f}, "
                   f"{net.lat[a]:.6f}) to ({net.lon[b]:.6f}, {net.lat[b]:.6f}) in [files] "
                   f"extra_roads would join it to the main {mode} network; or check in OSM the "
                   "ways between them (a missing way, foot=no / access=private / "
                   "highway=construction, a one-way tag)")
            if has_outlet:
                fix = "none needed: an outlet on the island serves it; " + fix
            rows.append({"mode": mode, "part": q, "nodes": len(nodes),
                         "road_km": round(float(part_m[q]) / 1000, 2), "points": len(pts),
                         "population": float(p["population"].to_numpy()[pts].sum()),
                         "has_outlet": has_outlet, "nearest_outlet": oids[oj] if len(oids)
                         else "", "nearest_outlet_km": round(float(od) / 1000, 2),
                         "gap_m": round(float(d[i]), 1), "from_lon": float(net.lon[a]),
                         "from_lat": float(net.lat[a]), "to_lon": float(net.lon[b]),
                         "to_lat": float(net.lat[b]), "fix": fix})
    cols = ["mode", "part", "nodes", "road_km", "points", "population", "has_outlet",
            "nearest_outlet", "nearest_outlet_km", "gap_m", "from_lon", "from_lat", "to_lon",
            "to_lat", "fix"]
    islands = pd.DataFrame(rows, columns=cols)
    islands = islands[islands["population"] > 0].sort_values("population", ascending=False)
    far = p.sort_values("snap_m", ascending=False).head(top)
    limit = region.settings.max_snap_m
    fixes = np.where(far["snap_m"] > limit,
                     "beyond the limit: draw the road to this place in [files] extra_roads, "
                     "or check the point's coordinates (datum: wgs84 / gcj02 / bd09?)",
                     "within the limit, but a long walk to the road is counted in its minutes: "
                     "a local road or a closer demand point would shorten it")
    far = pd.DataFrame({"demand_id": far["demand_id"], "area_id": far["area_id"],
                        "population": far["population"], "mode": far["mode"],
                        "snap_m": far["snap_m"], "reason": far["unreachable_reason"],
                        "fix": fixes})
    detour = float(p.loc[p["flag"] == "long_detour", "population"].sum())
    return NetworkCheck(islands=islands.reset_index(drop=True), far=far.reset_index(drop=True),
                        detour_population=detour, coverage=cov)
