"""A region: its ``region.toml``, its road network and its validated tables.

See ``docs/region-format.md`` for the format. Everything a user hands in is checked here, at the
edge, and every problem is reported at once naming the file, the row and the column.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .defaults import CIRCLES, DRIVE_FACTOR, EBIKE_KMH, MAX_SNAP_M, MODES, WALK_KMH
from .errors import InputError, InputProblem
from .io import Column, read_points, read_table, validate_table
from .network import RoadNetwork, Speeds

__all__ = ["Circle", "RegionSettings", "Region", "load_region", "OUTLET_KINDS",
           "OUTLET_COLUMNS", "DEMAND_COLUMNS", "load_outlets", "load_demand", "load_areas"]

log = logging.getLogger(__name__)

#: Outlet kinds bianmin knows, with their Chinese names.
OUTLET_KINDS: dict[str, str] = {
    "service_hall": "政务服务中心",
    "township_centre": "乡镇(街道)便民服务中心",
    "community_station": "村(社区)便民服务站",
    "post_office": "邮政网点",
    "carrier_shop": "通信运营商营业厅",
    "bank": "银行网点",
    "other": "其他",
}

OUTLET_COLUMNS = [
    Column("id"), Column("name"), Column("kind", choices=tuple(OUTLET_KINDS)),
    Column("address", required=False), Column("phone", required=False),
    Column("hours", required=False), Column("services", required=False),
    Column("capacity", "float", required=False, minimum=0),
    Column("cost", "float", required=False, minimum=0),
    Column("illustrative", "bool", required=False),
]
DEMAND_COLUMNS = [
    Column("id"), Column("population", "float", minimum=0), Column("area_id"),
]


@dataclass(frozen=True)
class Circle:
    """A service circle: reach an outlet within ``minutes`` by ``mode``."""

    minutes: float
    mode: str

    def __post_init__(self) -> None:
        if not 0 < self.minutes <= 240:
            raise ValueError(f"Expected circle minutes in (0, 240], got {self.minutes}.")
        if self.mode not in MODES:
            raise ValueError(f"Expected circle mode in {MODES}, got {self.mode!r}.")


@dataclass(frozen=True)
class RegionSettings:
    """The settings part of ``region.toml``."""

    name: str = "region"
    circles: dict[str, Circle] = field(default_factory=lambda: {
        k: Circle(m, mode) for k, (m, mode) in CIRCLES.items()})
    speeds: Speeds = Speeds()
    crs: str = "wgs84"
    max_snap_m: float = MAX_SNAP_M
    population_note: str = ""
    population_is_proxy: bool = False
    attribution: str = "© OpenStreetMap contributors, ODbL 1.0"

    def __post_init__(self) -> None:
        if set(self.circles) != {"urban", "rural"}:
            raise ValueError("Expected circles for exactly 'urban' and 'rural'.")
        if self.crs.lower().replace("-", "") not in ("wgs84", "gcj02", "bd09"):
            raise ValueError(f"Expected crs wgs84, gcj02 or bd09, got {self.crs!r}.")
        if not 10 <= self.max_snap_m <= 100_000:
            raise ValueError(f"Expected max_snap_m in [10, 100000], got {self.max_snap_m}.")

    @classmethod
    def from_toml(cls, data: dict, file: str) -> RegionSettings:
        """Build from parsed TOML; a bad value becomes an :class:`InputError` naming the key."""
        try:
            circles = {k: Circle(float(v.get("minutes")), str(v.get("mode")))
                       for k, v in data.get("circles", {}).items()} or None
            sp = data.get("speeds", {})
            speeds = Speeds(float(sp.get("walk_kmh", WALK_KMH)),
                            float(sp.get("ebike_kmh", EBIKE_KMH)),
                            float(sp.get("drive_factor", DRIVE_FACTOR)))
            pop = data.get("population", {})
            kw = dict(name=str(data.get("name", Path(file).parent.name)), speeds=speeds,
                      crs=str(data.get("coordinates", {}).get("crs", "wgs84")),
                      max_snap_m=float(data.get("network", {}).get("max_snap_m", MAX_SNAP_M)),
                      population_note=str(pop.get("note", "")),
                      population_is_proxy=bool(pop.get("proxy", False)),
                      attribution=str(data.get("attribution", cls.attribution)))
            if circles is not None:
                kw["circles"] = circles
            return cls(**kw)
        except (TypeError, ValueError) as exc:
            raise InputError(InputProblem(file, None, None, f"bad setting: {exc}")) from exc


@dataclass(frozen=True, eq=False)
class Region:
    """A loaded, validated region."""

    path: Path
    settings: RegionSettings
    network: RoadNetwork
    outlets: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    files: dict[str, Path]

    @property
    def name(self) -> str:
        """The region's display name."""
        return self.settings.name

    @property
    def errands_path(self) -> Path | None:
        """The region's own errands file, if it names one."""
        return self.files.get("errands")

    @property
    def runners_path(self) -> Path | None:
        """The region's own runners file, if it names one."""
        return self.files.get("runners")

    def bbox(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the road network, WGS-84."""
        return (float(self.network.lon.min()), float(self.network.lat.min()),
                float(self.network.lon.max()), float(self.network.lat.max()))

    def summary(self) -> str:
        """One paragraph: what the region holds."""
        return (f"{self.name}: {self.network.n_nodes} road nodes "
                f"({', '.join(self.network.modes)}), {len(self.outlets)} outlets, "
                f"{len(self.demand)} demand points ({self.demand['population'].sum():,.0f} "
                f"people{' — population proxy' if self.settings.population_is_proxy else ''}), "
                f"{len(self.areas)} areas")


def _padded(bbox: tuple[float, float, float, float], metres: float) -> tuple:
    w, s, e, n = bbox
    dlat = metres / 111_320
    dlon = metres / (111_320 * max(np.cos(np.radians((s + n) / 2)), 0.1))
    return (w - dlon, s - dlat, e + dlon, n + dlat)


def load_outlets(path: str | os.PathLike, *, crs: str = "wgs84",
                 bbox: tuple | None = None) -> gpd.GeoDataFrame:
    """Read and validate an outlets table."""
    gdf = read_points(path, OUTLET_COLUMNS, crs=crs, bbox=bbox)
    for col in ("address", "phone", "hours", "services"):
        if col not in gdf:
            gdf[col] = ""
        gdf[col] = gdf[col].fillna("").astype(str)
    if "illustrative" not in gdf:
        gdf["illustrative"] = False
    gdf["illustrative"] = gdf["illustrative"].fillna(False).astype(bool)
    return gdf


def load_demand(path: str | os.PathLike, *, crs: str = "wgs84",
                bbox: tuple | None = None) -> gpd.GeoDataFrame:
    """Read and validate a demand (population) table."""
    return read_points(path, DEMAND_COLUMNS, crs=crs, bbox=bbox)


def load_areas(path: str | os.PathLike) -> gpd.GeoDataFrame:
    """Read and validate the areas (townships / sub-districts) layer."""
    file = str(path)
    df = read_table(path)
    if not isinstance(df, gpd.GeoDataFrame):
        raise InputError(InputProblem(file, None, "geometry",
                                 "areas need polygons: expected GeoJSON or GeoPackage"))
    if df.crs is None:
        raise InputError(InputProblem(file, None, "geometry", "the layer has no CRS"))
    cols = [Column("id"), Column("name"), Column("urban", "bool")]
    plain = pd.DataFrame(df.drop(columns="geometry")).astype(object)
    plain = plain.where(plain.notna(), "").astype(str)
    out, problems = validate_table(plain, file, cols)
    geom = df.geometry.to_crs(4326)
    for i, g in enumerate(geom, start=1):
        if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(InputProblem(file, i, "geometry", "expected a Polygon or MultiPolygon"))
    if problems:
        raise InputError(problems)
    out["urban"] = out["urban"].astype(bool)
    extra = [c for c in ("approximate", "note", "parish") if c in out]
    return gpd.GeoDataFrame(out[["id", "name", "urban", *extra]], geometry=geom.make_valid(),
                            crs="EPSG:4326")


def load_region(path: str | os.PathLike = "data/chengdu", *,
                demand_path: str | os.PathLike | None = None,
                outlets_path: str | os.PathLike | None = None,
                cache_dir: str | os.PathLike | None = None) -> Region:
    """Load a region folder (or its ``region.toml``), validating every file.

    ``demand_path`` / ``outlets_path`` replace the region's own tables (for example a user's
    own population table in place of the bundled proxy).
    """
    path = Path(path)
    toml_path = path if path.suffix == ".toml" else path / "region.toml"
    if not toml_path.exists():
        raise InputError(InputProblem(str(toml_path), None, None, "region.toml not found"))
    try:
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(InputProblem(str(toml_path), None, None, f"not valid TOML: {exc}")) from exc
    settings = RegionSettings.from_toml(data, str(toml_path))
    base = toml_path.parent
    files: dict[str, Path] = {}
    problems = []
    for key, value in data.get("files", {}).items():
        files[key] = (base / str(value)).resolve()
    for key in ("roads", "outlets", "demand", "areas"):
        if key not in files:
            problems.append(InputProblem(str(toml_path), None, f"files.{key}", "missing entry"))
    if problems:
        raise InputError(problems)
    if demand_path is not None:
        files["demand"] = Path(demand_path)
        settings = RegionSettings(**{**settings.__dict__, "population_is_proxy": False,
                                     "population_note": f"from {demand_path}"})
    if outlets_path is not None:
        files["outlets"] = Path(outlets_path)
    network = RoadNetwork.from_osm_file(files["roads"], speeds=settings.speeds,
                                        cache_dir=cache_dir)
    bbox = _padded((float(network.lon.min()), float(network.lat.min()),
                    float(network.lon.max()), float(network.lat.max())), 2000)
    areas = load_areas(files["areas"])
    outlets = load_outlets(files["outlets"], crs=settings.crs, bbox=bbox)
    demand = load_demand(files["demand"], crs=settings.crs, bbox=bbox)
    problems = []
    known = set(areas["id"])
    for i, a in enumerate(demand["area_id"], start=1):
        if a not in known:
            problems.append(InputProblem(str(files["demand"]), i, "area_id",
                                    f"unknown area {a!r}; the areas file has "
                                    f"{sorted(known)[:5]}{'...' if len(known) > 5 else ''}"))
    modes = {c.mode for c in settings.circles.values()}
    for mode in sorted(modes):
        if mode not in network.modes:
            problems.append(InputProblem(str(toml_path), None, "circles",
                                    f"mode {mode!r} has no roads in {files['roads'].name}"))
            continue
        snap = network.snap(outlets["lon"], outlets["lat"], mode=mode)
        far = np.flatnonzero(snap.distance_m > settings.max_snap_m)
        for i in far:
            problems.append(InputProblem(str(files["outlets"]), int(i) + 1, "lon/lat",
                                    f"outlet {outlets['id'].iloc[i]!r} is "
                                    f"{snap.distance_m[i]:,.0f} m from the nearest {mode} road; "
                                    f"expected within {settings.max_snap_m:,.0f} m "
                                    "(network.max_snap_m)"))
    if problems:
        raise InputError(problems)
    region = Region(path=base, settings=settings, network=network, outlets=outlets,
                    demand=demand, areas=areas, files=files)
    log.info("%s", region.summary())
    return region
