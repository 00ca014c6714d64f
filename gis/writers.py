"""Writers for coverage results: the tables and the GeoPackage a planner opens."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np

from .coverage import CoverageResult
from .io import write_csv, write_gpkg
from .items import ITEM_TABLE_COLUMNS, ItemCoverage
from .region import Region

__all__ = ["POINT_COLUMNS", "write_coverage", "write_item_coverage"]

#: Columns of ``points.csv`` (and the GeoPackage's points layer, plus geometry).
POINT_COLUMNS = ["demand_id", "area_id", "population", "mode", "minutes", "threshold_minutes",
                 "covered", "reachable", "outlet_id", "snap_m", "unreachable_reason",
                 "unreachable_detail", "detour_ratio", "flag", "flag_detail"]


def write_coverage(result: CoverageResult, region: Region, folder: str | os.PathLike,
                   *, items: ItemCoverage | None = None) -> dict[str, Path]:
    """Write ``points.csv``, ``areas.csv`` and ``coverage.gpkg`` into ``folder`` (created).

    ``coverage.gpkg`` has the layers ``points``, ``areas``, ``outlets`` and ``unreachable``
    (the points that reach no outlet, with ``unreachable_reason`` and ``unreachable_detail``).

    With the region's item coverage (``items``), ``points.csv`` gains ``weighted_coverage``
    and ``items.csv``, ``items_matrix.csv`` and an ``items`` layer are written too.

    Parameters
    ----------
    result
        Coverage of the region.
    region
        The region (areas' geometry, outlets).
    items
        Coverage per service item (:func:`gis.items.item_coverage_of_region`), or ``None``.
    folder
        Destination folder; usually a staging folder (see :mod:`gis.outdir`).

    Returns
    -------
    dict
        ``points``, ``areas``, ``gpkg`` -> path written.
    """
    d = Path(folder)
    pts = result.points
    cols = list(POINT_COLUMNS)
    if items is not None:
        pts = pts.assign(weighted_coverage=np.round(items.point_weighted, 4))
        cols.append("weighted_coverage")
    files = {
        "points": write_csv(pts[cols], d / "points.csv"),
        "areas": write_csv(result.areas, d / "areas.csv"),
    }
    areas = region.areas[["id", "name", "urban", "geometry"]].merge(
        result.areas.drop(columns=["name", "urban"]), left_on="id", right_on="area_id")
    # the unreachable layer: every point that reaches no outlet, with its reason (even empty,
    # so that a planner finds the layer and sees that nothing is lost)
    files["gpkg"] = write_gpkg({"points": pts[[*POINT_COLUMNS, "geometry"]],
                                "areas": areas, "outlets": region.outlets,
                                "unreachable": result.unreachable}, d / "coverage.gpkg")
    if items is not None:
        files.update(write_item_coverage(items, region.areas, d))
    return files


def write_item_coverage(result: ItemCoverage, areas: gpd.GeoDataFrame,
                        folder: str | os.PathLike) -> dict[str, Path]:
    """Write ``items.csv``, ``items_matrix.csv`` and an ``items`` layer in ``coverage.gpkg``.

    The layer is the areas with one rate column per item and the weighted rate; it is added to
    an existing ``coverage.gpkg`` (written by the plain coverage writer) or creates it.
    """
    from .io import write_csv

    d = Path(folder)
    files = {"items": write_csv(result.table[ITEM_TABLE_COLUMNS], d / "items.csv"),
             "items_matrix": write_csv(result.matrix, d / "items_matrix.csv")}
    layer = areas[["id", "name", "geometry"]].merge(
        result.weighted.drop(columns="population"), left_on="id", right_on="area_id").merge(
        result.matrix.rename(columns={c: f"rate_{c}" for c in result.matrix.columns
                                      if c != "area_id"}), on="area_id")
    gpkg = d / "coverage.gpkg"
    layer.drop(columns="area_id").to_file(gpkg, layer="items", driver="GPKG", engine="pyogrio")
    files["gpkg"] = gpkg
    return files
