"""A region: its ``region.toml``, its road network and its validated tables.

See ``docs/region-format.md`` for the format. Everything a user hands in is checked here, at the
edge, and every problem is reported at once naming the file, the row and the column.
"""

from __future__ import annotations

import difflib
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .defaults import CIRCLES, EBIKE_KMH, MAX_SNAP_M, MODES, WALK_KMH
from .errors import InputError, InputProblem
from .io import Column, check_file, read_points, read_table, read_toml, validate_table
from .network import RoadNetwork, Speeds
from .schema import DATUMS, normalise_datum

__all__ = ["Circle", "RegionSettings", "SETTINGS_SCHEMA", "Setting", "check_settings", "Region",
           "load_region", "OUTLET_KINDS", "OUTLET_COLUMNS", "DEMAND_COLUMNS", "load_outlets",
           "load_demand", "load_areas"]

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

#: Plausibility bounds: one demand point holding more people than this is a typo (a whole
#: prefecture is ~10^7); capacities in errands a day; siting costs in the unit of the costs table.
MAX_POPULATION = 1e7
MAX_CAPACITY = 1e6
MAX_COST = 1e9

OUTLET_COLUMNS = [
    Column("id"), Column("name"), Column("kind", choices=tuple(OUTLET_KINDS)),
    Column("address", required=False), Column("phone", required=False),
    Column("hours", "hours", required=False), Column("services", required=False),
    Column("capacity", "float", required=False, minimum=0, maximum=MAX_CAPACITY),
    Column("cost", "float", required=False, minimum=0, maximum=MAX_COST),
    Column("illustrative", "bool", required=False),
]
DEMAND_COLUMNS = [
    Column("id"), Column("population", "float", minimum=0, maximum=MAX_POPULATION),
    Column("area_id"),
    Column("urban", "bool", required=False),  # per point, overrides its area (城乡分类代码 too)
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
class Setting:
    """One key of ``region.toml``: its kind (``str``, ``number``, ``bool``, ``enum``) and bounds."""

    kind: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def expected(self) -> str:
        """What a good value looks like, for messages."""
        if self.kind == "number":
            return f"a number in [{self.minimum:g}, {self.maximum:g}]"
        if self.kind == "bool":
            return "true or false (a TOML boolean, without quotes)"
        if self.kind == "enum":
            return f"one of {', '.join(repr(c) for c in self.choices)}"
        return "a text in quotes"


_CIRCLE = {"minutes": Setting("number", 1, 240), "mode": Setting("enum", choices=MODES)}
FILE_KEYS = ("roads", "outlets", "candidates", "demand", "areas", "errands", "runners", "items",
             "outlet_items", "extra_roads")
REQUIRED_FILES = ("roads", "outlets", "demand", "areas")
#: The keys ``region.toml`` may hold (nested dicts are TOML tables). See docs/region-format.md.
SETTINGS_SCHEMA: dict[str, Any] = {
    "name": Setting("str"),
    "attribution": Setting("str"),
    "files": {k: Setting("str") for k in FILE_KEYS},
    "coordinates": {"datum": Setting("enum", choices=DATUMS),
                    "crs": Setting("enum", choices=DATUMS)},  # the old name of datum
    "circles": {"urban": _CIRCLE, "rural": _CIRCLE},
    "speeds": {"walk_kmh": Setting("number", 0.5, 10), "ebike_kmh": Setting("number", 3, 40),
               "drive_factor": Setting("number", 0.1, 2)},
    "network": {"max_snap_m": Setting("number", 10, 100_000)},
    "population": {"proxy": Setting("bool"), "total": Setting("number", 0, 2e9),
                   "note": Setting("str")},
}


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _check_value(spec: Setting, value: object) -> str | None:
    """Why ``value`` does not fit ``spec``, or ``None``."""
    if spec.kind == "number":
        ok = (isinstance(value, int | float) and not isinstance(value, bool)
              and math.isfinite(value) and spec.minimum <= value <= spec.maximum)  # type: ignore[operator]
    elif spec.kind == "enum":
        ok = isinstance(value, str) and normalise_enum(value, spec.choices) is not None
    else:
        ok = isinstance(value, bool if spec.kind == "bool" else str)
    return None if ok else f"expected {spec.expected()}, got {_shown(value)}"


def normalise_enum(value: str, choices: tuple[str, ...]) -> str | None:
    """``'WGS-84'`` → ``'wgs84'`` for datums; other choices as written (case-insensitive)."""
    v = normalise_datum(value) if choices == DATUMS else value.strip().lower()
    return v if v in choices else None


def check_settings(data: dict[str, Any], file: str,
                   schema: dict[str, Any] = SETTINGS_SCHEMA, prefix: str = "") -> list[InputProblem]:
    """Every problem with parsed ``region.toml`` data: unknown keys (with the closest known
    one), values of the wrong type or out of bounds, tables where a value belongs and back.
    """
    problems: list[InputProblem] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        if key not in schema:
            near = difflib.get_close_matches(key, list(schema), n=1, cutoff=0.6)
            hint = (f"did you mean '{prefix}{near[0]}'?" if near else
                    f"expected one of {', '.join(prefix + k for k in schema)}")
            problems.append(InputProblem(file, None, None, f"key '{path}': unknown key; {hint}"))
            continue
        spec = schema[key]
        if isinstance(spec, dict):
            if not isinstance(value, dict):
                problems.append(InputProblem(file, None, None, f"key '{path}': expected a table "
                                             f"[{path}], got {_shown(value)}"))
            else:
                problems += check_settings(value, file, spec, f"{path}.")
        else:
            why = _check_value(spec, value)
            if why:
                problems.append(InputProblem(file, None, None, f"key '{path}': {why}"))
    return problems


@dataclass(frozen=True)
class RegionSettings:
    """The settings part of ``region.toml``; ``datum`` is the datum of CSV lon/lat."""

    name: str = "region"
    circles: dict[str, Circle] = field(default_factory=lambda: {
        k: Circle(m, mode) for k, (m, mode) in CIRCLES.items()})
    speeds: Speeds = Speeds()
    datum: str = "wgs84"
    max_snap_m: float = MAX_SNAP_M
    population_note: str = ""
    population_is_proxy: bool = False
    attribution: str = "© OpenStreetMap contributors, ODbL 1.0"

    def __post_init__(self) -> None:
        if set(self.circles) != {"urban", "rural"}:
            raise ValueError("Expected circles for exactly 'urban' and 'rural'.")
        if normalise_datum(self.datum) is None:
            raise ValueError(f"Expected datum wgs84, gcj02 or bd09, got {self.datum!r}.")
        if not 10 <= self.max_snap_m <= 100_000:
            raise ValueError(f"Expected max_snap_m in [10, 100000], got {self.max_snap_m}.")

    @classmethod
    def from_toml(cls, data: dict, file: str) -> RegionSettings:
        """Build from parsed TOML, checked against :data:`SETTINGS_SCHEMA`.

        Raises
        ------
        InputError
            Every problem found, each naming the key (``circles.urban.minutes``).
        """
        problems = check_settings(data, file)
        circles_in = data.get("circles")
        if isinstance(circles_in, dict) and circles_in:
            for kind in ("urban", "rural"):
                table = circles_in.get(kind)
                if table is None:
                    problems.append(InputProblem(file, None, None, f"key 'circles.{kind}': "
                                                 "missing; expected both [circles.urban] and "
                                                 "[circles.rural]"))
                elif isinstance(table, dict):
                    problems += [InputProblem(file, None, None, f"key 'circles.{kind}.{k}': "
                                              f"missing; expected {_CIRCLE[k].expected()}")
                                 for k in _CIRCLE if k not in table]
        coords = data.get("coordinates", {})
        if isinstance(coords, dict) and "crs" in coords and "datum" in coords:
            problems.append(InputProblem(file, None, None, "key 'coordinates.crs': the old name "
                                         "of 'coordinates.datum'; expected one of the two"))
        if problems:
            raise InputError(problems)
        kw: dict[str, Any] = {"name": data.get("name", Path(file).parent.name)}
        if circles_in:
            kw["circles"] = {k: Circle(float(v["minutes"]),
                                       str(normalise_enum(v["mode"], MODES)))
                             for k, v in circles_in.items()}
        sp = data.get("speeds", {})
        kw["speeds"] = Speeds(float(sp.get("walk_kmh", WALK_KMH)), float(sp.get("ebike_kmh", EBIKE_KMH)),
                              float(sp.get("drive_factor", 1.0)))
        kw["datum"] = normalise_datum(coords.get("datum", coords.get("crs", "wgs84")))
        kw["max_snap_m"] = float(data.get("network", {}).get("max_snap_m", MAX_SNAP_M))
        pop = data.get("population", {})
        kw["population_note"] = pop.get("note", "")
        kw["population_is_proxy"] = pop.get("proxy", False)
        kw["attribution"] = data.get("attribution", cls.attribution)
        return cls(**kw)


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


def load_outlets(path: str | os.PathLike, *, datum: str = "wgs84", bbox: tuple | None = None,
                 crs: str | None = None) -> gpd.GeoDataFrame:
    """Read and validate an outlets table (``crs``: the old name of ``datum``)."""
    gdf = read_points(path, OUTLET_COLUMNS, datum=crs or datum, bbox=bbox)
    for col in ("address", "phone", "hours", "services"):
        if col not in gdf:
            gdf[col] = ""
        gdf[col] = gdf[col].fillna("").astype(str)
    if "illustrative" not in gdf:
        gdf["illustrative"] = False
    gdf["illustrative"] = gdf["illustrative"].fillna(False).astype(bool)
    return gdf


def load_demand(path: str | os.PathLike, *, datum: str = "wgs84", bbox: tuple | None = None,
                crs: str | None = None) -> gpd.GeoDataFrame:
    """Read and validate a demand (population) table (``crs``: the old name of ``datum``)."""
    return read_points(path, DEMAND_COLUMNS, datum=crs or datum, bbox=bbox)


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
    toml_path = path if path.suffix == ".toml" or path.is_file() else path / "region.toml"
    data = read_toml(toml_path, what="region.toml")
    settings = RegionSettings.from_toml(data, str(toml_path))
    base = toml_path.parent
    files: dict[str, Path] = {
        key: (base / value).resolve() for key, value in data.get("files", {}).items()}
    problems = [InputProblem(str(toml_path), None, None, f"key 'files.{key}': missing; expected "
                             "the path of the region's "
                             f"{key} file") for key in REQUIRED_FILES if key not in files]
    if problems:
        raise InputError(problems)
    if demand_path is not None:
        files["demand"] = Path(demand_path)
        settings = RegionSettings(**{**settings.__dict__, "population_is_proxy": False,
                                     "population_note": f"from {demand_path}"})
    if outlets_path is not None:
        files["outlets"] = Path(outlets_path)
    for key in (*REQUIRED_FILES, "candidates", "errands", "runners", "items", "outlet_items",
                "extra_roads"):
        if key in files:
            try:
                check_file(files[key], what=f"{key} file")
            except InputError as exc:
                problems += exc.problems
    if problems:
        raise InputError(problems)
    network = RoadNetwork.from_osm_file(files["roads"], speeds=settings.speeds,
                                        cache_dir=cache_dir, extra_roads=files.get("extra_roads"))
    bbox = _padded((float(network.lon.min()), float(network.lat.min()),
                    float(network.lon.max()), float(network.lat.max())), 2000)
    areas = load_areas(files["areas"])
    outlets = load_outlets(files["outlets"], datum=settings.datum, bbox=bbox)
    demand = load_demand(files["demand"], datum=settings.datum, bbox=bbox)
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
        for i in far.tolist():
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
