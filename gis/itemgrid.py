"""The nearest outlet for an item, in network minutes, on a coarse grid over the region.

The citizens' map answers "where is the nearest outlet that handles this item, and how many
minutes away" without a routing engine in the browser: this module precomputes, for square
cells of about ``cell_m`` metres that contain a road node, and for every *item group* (items
handled by the same outlet set, :meth:`gis.items.ItemTable.outlet_sets`), the nearest outlet of
the group and its travel minutes by the mode of the cell's circle (the circle of the area the
cell's centre lies in; urban outside every area). One nearest-source search per group and mode,
the rule of :mod:`gis.coverage`: walk from the cell's centre to the network (access leg), the
network time, and the outlet's own egress leg.

Cells are on a lon/lat grid (``dlon``, ``dlat`` about ``cell_m`` at the region's centre
latitude), so a page finds the cell of a position with two divisions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .items import ItemTable, items_of_region
from .network import RoadNetwork
from .region import Region, RegionSettings
from .rules import snapped

__all__ = ["ItemGrid", "item_grid", "item_grid_of_region", "NO_OUTLET", "MAX_MINUTES"]

log = logging.getLogger(__name__)

#: ``nearest`` of a cell and group with no outlet within :data:`MAX_MINUTES`.
NO_OUTLET = -1
#: Searches stop at this many minutes (beyond: no answer from the grid).
MAX_MINUTES = 120.0
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True, eq=False)
class ItemGrid:
    """Nearest outlet and its minutes per grid cell and item group.

    Attributes
    ----------
    lon0, lat0
        South-west corner of cell ``(0, 0)``.
    dlon, dlat
        Cell size in degrees.
    nx, ny
        Columns and rows of the full grid; only cells near roads are kept.
    cells
        Flat index ``iy * nx + ix`` of each kept cell, ascending.
    nearest
        ``(n_cells, n_groups)`` position of the nearest outlet (row of the outlets table) of
        the group, or :data:`NO_OUTLET`.
    minutes
        ``(n_cells, n_groups)`` minutes to it (``nan`` when none).
    mode
        Travel mode of each cell (its circle's mode).
    item_group
        Group of each catalogue item (``[0]``: the one group of all outlets without one).
    cell_m
        Nominal cell size in metres.
    """

    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nx: int
    ny: int
    cells: np.ndarray
    nearest: np.ndarray
    minutes: np.ndarray
    mode: np.ndarray
    item_group: np.ndarray
    cell_m: float

    @property
    def n_groups(self) -> int:
        """Number of item groups (distinct outlet sets)."""
        return int(self.nearest.shape[1])

    def cell_of(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row in :attr:`cells` of each position, ``-1`` outside every kept cell."""
        lon, lat = np.atleast_1d(np.asarray(lon, float)), np.atleast_1d(np.asarray(lat, float))
        ix = np.floor((lon - self.lon0) / self.dlon).astype(np.int64)
        iy = np.floor((lat - self.lat0) / self.dlat).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        flat = np.where(inside, iy * self.nx + ix, -1)
        pos = np.searchsorted(self.cells, flat)
        pos = np.minimum(pos, max(len(self.cells) - 1, 0))
        ok = inside & (self.cells[pos] == flat) if len(self.cells) else np.zeros_like(inside)
        return np.where(ok, pos, -1)

    def summary(self) -> str:
        """One line: cells, groups, cell size."""
        return (f"item grid: {len(self.cells)} cells of ~{self.cell_m:g} m near roads, "
                f"{self.n_groups} item group(s)")


def _cell_modes(centres: np.ndarray, areas: gpd.GeoDataFrame,
                settings: RegionSettings) -> np.ndarray:
    """The circle mode of each cell centre (its area's circle; urban outside every area)."""
    modes = np.full(len(centres), settings.circles["urban"].mode, dtype=object)
    if len(areas) == 0 or len(centres) == 0:
        return modes
    geoms = areas.geometry
    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs(4326)
    pts = shapely.points(centres)
    tree = shapely.STRtree(np.asarray(geoms.values))
    p_idx, a_idx = tree.query(pts, predicate="within")
    urban = areas["urban"].to_numpy(dtype=bool)
    rural = settings.circles["rural"].mode
    first = np.unique(p_idx, return_index=True)[1]  # a point on a shared edge: first area
    p_idx, a_idx = p_idx[first], a_idx[first]
    modes[p_idx[~urban[a_idx]]] = rural
    return modes


def item_grid(network: RoadNetwork, settings: RegionSettings, outlets: pd.DataFrame,
              areas: gpd.GeoDataFrame, items: ItemTable | None, *,
              cell_m: float = 200.0, max_minutes: float = MAX_MINUTES) -> ItemGrid:
    """Nearest outlet of every item group from every cell near a road.

    Parameters
    ----------
    network
        The region's roads.
    settings
        Circles (the mode of each cell), speeds, snapping distance.
    outlets
        Outlets with ``lon``/``lat`` (positions in ``nearest`` index its rows).
    areas
        Areas with ``urban`` and geometry (the circle of each cell).
    items
        The catalogue's item table; ``None``: one group, every outlet.
    cell_m
        Cell size in metres (100–250 keeps the default region well under a megabyte).
    max_minutes
        Searches stop here; beyond it a cell has no outlet for the group.

    Returns
    -------
    ItemGrid
    """
    if not 20 <= cell_m <= 5000:
        raise ValueError(f"Expected cell_m in [20, 5000], got {cell_m}.")
    n_out = len(outlets)
    if items is None:
        masks = np.ones((n_out, 1), dtype=bool)
        item_group = np.zeros(1, dtype=np.int64)
    else:
        masks, item_group = items.outlet_sets()
    node_lon, node_lat = np.asarray(network.lon, float), np.asarray(network.lat, float)
    lat_c = float(np.nanmean(node_lat)) if len(node_lat) else 0.0
    dlat = cell_m / _M_PER_DEG_LAT
    dlon = cell_m / (_M_PER_DEG_LON_EQ * max(np.cos(np.radians(lat_c)), 0.05))
    modes_used = [m for m in {c.mode for c in settings.circles.values()} if m in network.modes]
    have = np.zeros(len(node_lon), dtype=bool)
    for mode in modes_used:
        have[network.nodes_in(mode)] = True
    lon0 = float(np.floor(node_lon[have].min() / dlon) * dlon) if have.any() else 0.0
    lat0 = float(np.floor(node_lat[have].min() / dlat) * dlat) if have.any() else 0.0
    ix = np.floor((node_lon[have] - lon0) / dlon).astype(np.int64)
    iy = np.floor((node_lat[have] - lat0) / dlat).astype(np.int64)
    nx = int(ix.max()) + 1 if len(ix) else 0
    ny = int(iy.max()) + 1 if len(iy) else 0
    cells = np.unique(iy * nx + ix) if nx else np.zeros(0, np.int64)
    cx = lon0 + (cells % max(nx, 1) + 0.5) * dlon
    cy = lat0 + (cells // max(nx, 1) + 0.5) * dlat
    cell_mode = _cell_modes(np.column_stack([cx, cy]), areas, settings)
    n_groups = masks.shape[1]
    nearest = np.full((len(cells), n_groups), NO_OUTLET, dtype=np.int32)
    minutes = np.full((len(cells), n_groups), np.nan)
    olon = outlets["lon"].to_numpy(float)
    olat = outlets["lat"].to_numpy(float)
    limit = max_minutes * 60.0
    searches = 0
    for mode in sorted(set(cell_mode.tolist())):
        if mode not in network.modes:
            continue
        sel = np.flatnonzero(cell_mode == mode)
        csnap = network.snap(cx[sel], cy[sel], mode=mode)
        far = ~snapped(csnap.distance_m, settings.max_snap_m)
        osnap = network.snap(olon, olat, mode=mode) if n_out else None
        for g in range(n_groups):
            who = np.flatnonzero(masks[:, g])
            if len(who) == 0 or osnap is None:
                continue
            node_s, src = network.times_to_nearest(osnap.node[who], mode=mode,
                                                   offsets_s=osnap.access_s[who], limit_s=limit)
            searches += 1
            t = csnap.access_s + node_s[csnap.node]
            s = src[csnap.node]
            ok = np.isfinite(t) & (s >= 0) & ~far & (t <= limit)
            nearest[sel[ok], g] = who[s[ok]]
            minutes[sel[ok], g] = t[ok] / 60.0
    log.info("item grid: %d cells, %d groups, %d searches", len(cells), n_groups, searches)
    return ItemGrid(lon0=lon0, lat0=lat0, dlon=dlon, dlat=dlat, nx=nx, ny=ny, cells=cells,
                    nearest=nearest, minutes=minutes, mode=cell_mode,
                    item_group=np.asarray(item_group, dtype=np.int64), cell_m=float(cell_m))


def item_grid_of_region(region: Region, items: ItemTable | None = None, *,
                        cell_m: float = 200.0) -> ItemGrid:
    """The item grid of a loaded region (its catalogue when it has one)."""
    items = items_of_region(region) if items is None else items
    return item_grid(region.network, region.settings, region.outlets, region.areas, items,
                     cell_m=cell_m)
