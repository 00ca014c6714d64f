"""Population from census tables and rasters: totals kept, even fallback, unmatched rows, CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from gis.population import (
    census_demand,
    largest_remainder,
    normalise_name,
    raster_demand,
    read_census,
)

LON0, LAT0 = 106.70, 31.80


@pytest.fixture()
def areas() -> gpd.GeoDataFrame:
    """Two townships side by side, about 950 m × 1,100 m each."""
    return gpd.GeoDataFrame(
        {"id": ["A", "B"], "name": ["东风村", "红星社区"], "urban": [False, True]},
        geometry=[box(LON0, LAT0, LON0 + 0.01, LAT0 + 0.01),
                  box(LON0 + 0.01, LAT0, LON0 + 0.02, LAT0 + 0.01)], crs="EPSG:4326")


def _buildings(areas) -> gpd.GeoSeries:
    """Three footprints in A of 100, 200 and 700 m², far apart (one per 100 m cell)."""
    c = areas.geometry.iloc[0].centroid
    utm = gpd.GeoSeries([c], crs=4326).estimate_utm_crs()
    p = gpd.GeoSeries([c], crs=4326).to_crs(utm).iloc[0]
    sides = [10.0, np.sqrt(200), np.sqrt(700)]
    fp = [box(p.x - 300 + 250 * k, p.y, p.x - 300 + 250 * k + s, p.y + s)
          for k, s in enumerate(sides)]
    return gpd.GeoSeries(fp, crs=utm).to_crs(4326)


def test_largest_remainder_keeps_totals():
    """Hamilton rounding: integer shares summing exactly to the total."""
    n = largest_remainder(np.array([1.0, 1.0, 1.0]), 10)
    assert n.sum() == 10 and sorted(n) == [3, 3, 4]
    assert list(largest_remainder(np.array([0.1, 0.2, 0.7]), 1000)) == [100, 200, 700]


def test_names_normalised():
    """村/社区/居委会 suffixes and full-width spaces do not stop a match."""
    assert normalise_name("东风村") == normalise_name("东风　") == "东风"
    assert normalise_name("红星社区居委会") == normalise_name("红星社区") == "红星"


def test_census_by_name_dasymetric(tmp_path, areas):
    """Totals kept to the person per area; buildings get people by footprint; B spreads evenly."""
    f = tmp_path / "census.csv"
    pd.DataFrame({"村名": ["东风", "红星社区居委会", "不存在村"],
                  "人口": [1000, 837, 5]}).to_csv(f, index=False)
    res = census_demand(read_census(f), areas, by="name", buildings=_buildings(areas),
                        file=str(f))
    d = res.demand
    sums = d.groupby("area_id")["population"].sum()
    assert sums["A"] == 1000 and sums["B"] == 837
    assert sorted(d.loc[d["area_id"] == "A", "population"]) == [100, 200, 700]
    b = d[d["area_id"] == "B"]
    # no buildings, no roads: an even spread over B's 100 m cells (about 10 × 11 of them)
    assert 90 <= len(b) <= 120 and b["population"].max() - b["population"].min() <= 1
    assert (b["method"] == "even").all()
    (p,) = res.problems
    assert p.row == 3 and "不存在村" in p.message
    assert list(res.areas["points_sum"]) == [1000, 837]


def test_road_near_cells(areas):
    """With roads only in B's west edge, B's people are all placed within 300 m of them."""
    census = pd.DataFrame({"area_id": ["B"], "population": [500.0]})
    rl = np.full(20, LON0 + 0.0101)
    rla = np.linspace(LAT0, LAT0 + 0.01, 20)
    res = census_demand(census, areas, by="area", road_lonlat=(rl, rla))
    d = res.demand
    assert d["population"].sum() == 500 and (d["method"] == "road_cells").all()
    metres_east = (d["lon"] - (LON0 + 0.0101)) * 111_320 * np.cos(np.radians(LAT0))
    assert metres_east.max() < 300 + 72  # a cell centre within 300 m, its weighted point too


def test_village_points_get_their_area(areas):
    """Rows with coordinates and no area are placed by point-in-polygon; outside → reported."""
    census = pd.DataFrame({"lon": [LON0 + 0.005, LON0 + 0.015, LON0 + 0.5],
                           "lat": [LAT0 + 0.005] * 3, "population": [40.0, 60.0, 7.0]})
    res = census_demand(census, areas)
    assert list(res.demand["area_id"]) == ["A", "B"]
    assert list(res.demand["population"]) == [40, 60]
    (p,) = res.problems
    assert p.row == 3 and p.column == "lon/lat"


def _raster(path, crs: str, areas: gpd.GeoDataFrame, cell: float, value: float) -> None:
    """A uniform raster of ``value`` per cell, covering the areas with a margin."""
    import rasterio
    from rasterio.transform import from_origin

    w, s, e, n = areas.to_crs(crs).total_bounds
    pad = 3 * cell
    width = int(np.ceil((e - w + 2 * pad) / cell))
    height = int(np.ceil((n - s + 2 * pad) / cell))
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1,
                       dtype="float32", crs=crs, nodata=-99,
                       transform=from_origin(w - pad, n + pad, cell, cell)) as ds:
        ds.write(np.full((height, width), value, dtype="float32"), 1)


@pytest.mark.parametrize("crs, cell", [("EPSG:3857", 37.0), ("EPSG:4326", 0.00037)])
def test_raster_totals_any_crs(tmp_path, areas, crs, cell):
    """A uniform raster: per-area sums = density × the area's size in the raster's CRS (0.1 %)."""
    f = tmp_path / "pop.tif"
    _raster(f, crs, areas, cell, 2.5)
    res = raster_demand(f, areas)
    expected = shapely.area(areas.to_crs(crs).geometry.to_numpy()) / cell**2 * 2.5
    t = res.areas
    np.testing.assert_allclose(t["zonal_sum"], expected, rtol=1e-3)
    np.testing.assert_allclose(t["points_sum"], t["zonal_sum"], rtol=1e-3)
    d = res.demand
    assert set(d["area_id"]) == {"A", "B"}
    inside = gpd.sjoin(d, areas[["id", "geometry"]].rename(columns={"id": "in"}),
                       predicate="within")
    assert (inside["in"] == inside["area_id"]).all() and len(inside) == len(d)
    assert res.problems and "outside every area" in res.problems[0].message


def test_raster_aggregate(tmp_path, areas):
    """Aggregating 4 × 4 cells makes fewer points with the same per-area totals."""
    f = tmp_path / "pop.tif"
    _raster(f, "EPSG:3857", areas, 37.0, 1.0)
    fine, coarse = raster_demand(f, areas), raster_demand(f, areas, aggregate=4)
    assert len(coarse.demand) < len(fine.demand) / 8
    np.testing.assert_allclose(coarse.areas["points_sum"], fine.areas["points_sum"], rtol=1e-3)


def test_cli_population_unmatched_and_totals(tmp_path):
    """`bianmin population --census` on Andorra: totals kept per area, unmatched row listed."""
    from pathlib import Path

    from typer.testing import CliRunner

    from bianmin.cli import app

    data = Path(__file__).resolve().parents[1] / "data" / "andorra"
    names = gpd.read_file(data / "areas.geojson")["name"].tolist()[:3]
    f = tmp_path / "普查.xlsx"
    pd.DataFrame({"名称": names + ["Nowhere村"], "人口数": [1234, 56, 7, 9]}).to_excel(f, index=False)
    res = CliRunner().invoke(app, ["population", "--region", str(data), "--census", str(f),
                                   "--by", "name", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "row 5" in res.output and "Nowhere" in res.output  # Excel row (header = row 1)
    d = pd.read_csv(tmp_path / "out" / "population" / "demand.csv")
    assert d.groupby("area_id")["population"].sum().to_dict() == \
        {"A001": 1234, "A002": 56, "A003": 7}
    assert (d["population"] == d["population"].round()).all()
