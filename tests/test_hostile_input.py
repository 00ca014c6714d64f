"""Hostile and careless input: each case is a clear InputError (file, row, column or key) or the
right result, never a traceback or a silently wrong value."""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import gis.io
from bianmin.cli import app
from gis.errors import InputError
from gis.io import decode_text, parse_time_of_day, read_table
from gis.region import RegionSettings, load_demand, load_outlets
from gis.siting.candidates import CostTable
from routing.tables import (
    ERRAND_COLUMNS,
    RUNNER_COLUMNS,
    errands_from_frame,
    read_errands,
    runners_from_frame,
)
from tests.conftest import DATA

BBOX = (104.0, 30.6, 104.2, 30.8)
HALLS = ["H1"]
OUTLETS = "id,name,kind,lon,lat\n"
NAMES = ["成都市政务服务中心", "成华区邮政支局"]


def _errand(**kw: str) -> dict:
    row = dict.fromkeys(ERRAND_COLUMNS, "")
    row.update(id="E1", kind="pickup_to_hall", pickup_lon="104.05", pickup_lat="30.70",
               hall_id="H1", service_minutes="10", priority="2")
    row.update(kw)
    return row


def _runner(**kw: str) -> dict:
    row = dict.fromkeys(RUNNER_COLUMNS, "")
    row.update(id="R1", name="李四", base_outlet_id="H1", shift_start="08:30",
               shift_end="17:30", mode="ebike")
    row.update(kw)
    return row


def _outlets_text(names: list[str]) -> str:
    return OUTLETS + "".join(f"P{i},{n},post_office,104.07,30.67\n" for i, n in enumerate(names))


# --- 1. one reader, one time-of-day rule, one lon/lat rule ------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("08:30", 30600), ("8:30", 30600), ("08:30:15", 30615), ("24:00", 86400),
    ("24:00:00", 86400), ("00:00", 0), (" 23:59:59 ", 86399), ("１２：００", 43200),
])
def test_time_of_day_accepted(text: str, seconds: int) -> None:
    """HH:MM and HH:MM:SS are read to the second; 24:00 is the end of the day."""
    assert parse_time_of_day(text) == seconds


@pytest.mark.parametrize("text", ["25:00", "9:60", "24:01", "08:30:60", "8", "", "08:3",
                                  "-1:00", "08h30", "08:30 pm", "٠٨:٣٠"])
def test_time_of_day_refused(text: str) -> None:
    """Hours past 24, minutes or seconds past 59 and other shapes are not times."""
    with pytest.raises(ValueError):
        parse_time_of_day(text)


@pytest.mark.parametrize("kw, column, match", [
    ({"shift_start": "25:00"}, "shift_start", "'25:00' is not a time: expected HH:MM"),
    ({"shift_end": "9:60"}, "shift_end", "'9:60' is not a time"),
    ({"shift_start": ""}, "shift_start", "missing value: expected HH:MM"),
    ({"break_minutes": "nan", "break_start": "12:00", "break_end": "13:00"}, "break_minutes",
     "'nan' is not a finite number"),
    ({"max_errands": "inf"}, "max_errands", "'inf' is not a finite number"),
    ({"illustrative": "maybe"}, "illustrative", "'maybe' is not true/false"),
])
def test_runner_values_named(kw: dict, column: str, match: str) -> None:
    """Runner times, NaN/inf numbers and loose booleans name file, row 1 and column."""
    with pytest.raises(InputError, match=match) as err:
        runners_from_frame(pd.DataFrame([_runner(**kw)]), file="runners.csv", base_ids=HALLS)
    p = err.value.problems[0]
    assert (p.file, p.row, p.column) == ("runners.csv", 1, column)


def test_shift_ending_at_midnight_is_read() -> None:
    """A shift to 24:00 reads as the end of the day, with seconds kept."""
    (r,) = runners_from_frame(pd.DataFrame([_runner(shift_start="16:00:30", shift_end="24:00")]),
                              base_ids=HALLS)
    assert r.shift == (16 * 3600 + 30, 24 * 3600)


@pytest.mark.parametrize("kw, column, match", [
    ({"priority": "nan"}, "priority", "'nan' is not a finite number"),
    ({"priority": "inf"}, "priority", "'inf' is not a finite number"),
    ({"priority": "2.5"}, "priority", "not a whole number"),
    ({"service_minutes": "-1"}, "service_minutes", r"out of range: expected \[0, 480\]"),
    ({"service_minutes": "1e9"}, "service_minutes", "out of range"),
    ({"pickup_lon": "nan"}, "pickup_lon", "'nan' is not a finite number"),
    ({"pickup_lat": ""}, "pickup_lat", "missing value: expected lon and lat"),
    ({"pickup_lon": "30.70", "pickup_lat": "104.05"}, "pickup_lon", "look swapped"),
    ({"pickup_lat": "95"}, "pickup_lat", "latitude 95.0 is out of range"),
    ({"illustrative": "perhaps"}, "illustrative", "not true/false"),
    ({"kind": ""}, "kind", "missing value"),
    ({"id": ""}, "id", "missing"),
])
def test_errand_values_named(kw: dict, column: str, match: str) -> None:
    """Errand NaN/inf/absurd numbers, half a coordinate pair and blanks name their column."""
    with pytest.raises(InputError, match=match) as err:
        errands_from_frame(pd.DataFrame([_errand(**kw)]), file="errands.csv", hall_ids=HALLS,
                           bbox=BBOX)
    p = err.value.problems[0]
    assert (p.file, p.row, p.column) == ("errands.csv", 1, column)


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path: Path) -> None:
    """In an XLSX the header is row 1, so the second data row is row 3."""
    xl = tmp_path / "errands.xlsx"
    pd.DataFrame([_errand(), _errand(id="E2", priority="9")]).to_excel(xl, index=False)
    with pytest.raises(InputError, match=r"errands.xlsx, row 3, column 'priority'"):
        read_errands(xl, hall_ids=HALLS, bbox=BBOX)
    csv = tmp_path / "errands.csv"
    pd.DataFrame([_errand(), _errand(id="E2", priority="9")]).to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"errands.csv, row 2, column 'priority'"):
        read_errands(csv, hall_ids=HALLS, bbox=BBOX)


def test_same_message_from_both_readers(tmp_path: Path) -> None:
    """A duplicate id reads the same in an outlets file and an errands file."""
    o = tmp_path / "o.csv"
    o.write_text(OUTLETS + "P1,a,post_office,104.07,30.67\nP1,b,post_office,104.07,30.67\n")
    with pytest.raises(InputError) as a:
        load_outlets(o)
    with pytest.raises(InputError) as b:
        errands_from_frame(pd.DataFrame([_errand(), _errand()]), hall_ids=HALLS)
    assert a.value.problems[0].message == "duplicate id 'P1' (first seen in row 1)"
    assert b.value.problems[0].message == "duplicate id 'E1' (first seen in row 1)"


# --- 2. encodings -------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "gbk",
                                      "gb18030"])
def test_chinese_text_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    """UTF-8 (BOM or not), UTF-16 with BOM and GBK/GB18030 all keep the Chinese names."""
    f = tmp_path / "outlets.csv"
    data = _outlets_text(NAMES).encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data  # Python's utf-16-be writes no BOM; Windows tools do
    f.write_bytes(data)
    assert load_outlets(f, bbox=BBOX)["name"].tolist() == NAMES


@pytest.mark.parametrize("names", [
    ["王喆的堃镕便民服务站", "龍泉驛區政務中心"],  # GBK characters outside GB2312
    ["臺北市政府服務中心", "高雄市鳳山區戶政事務所"],  # traditional characters
    ["成都市政务服务中心", "Café 成华"],
])
def test_gbk_with_rare_characters_still_loads(tmp_path: Path, names: list[str]) -> None:
    """GBK text with rare or traditional characters is Chinese, read as such."""
    f = tmp_path / "outlets.csv"
    f.write_bytes(_outlets_text(names).encode("gbk"))
    assert load_outlets(f, bbox=BBOX)["name"].tolist() == names


@pytest.mark.parametrize("names, encoding", [
    (["Sant JuliÃ\xa0 de Lòria", "Andorra la Vella"], "cp1252"),  # decodes as GB18030
    (["Bureau de poste Sainte-Hélène", "Mairie"], "latin-1"),  # decodes as GB18030
    (["Bürgerbüro Köln", "Straße"], "latin-1"),  # decodes as GB18030
    (["Sant Julià de Lòria", "Hôtel de Ville"], "latin-1"),  # not GB18030 at all
])
def test_latin1_text_is_refused_not_garbled(tmp_path: Path, names: list[str],
                                            encoding: str) -> None:
    """Latin-1/cp1252 text is refused with a hint to save as UTF-8, never read as Chinese."""
    f = tmp_path / "outlets.csv"
    f.write_bytes(_outlets_text(names).encode(encoding))
    with pytest.raises(InputError, match="save the file as UTF-8") as err:
        load_outlets(f)
    assert err.value.problems[0].file == str(f)


def test_utf16_without_bom_and_binary_are_refused() -> None:
    """NUL bytes (UTF-16 without BOM, a binary file) are named, not decoded."""
    for raw in ("id,name\n1,a\n".encode("utf-16-le"), b"\x89PNG\r\n\x1a\n\x00\x00"):
        with pytest.raises(InputError, match="NUL bytes"):
            decode_text(raw, "x.csv")


# --- 3. region settings -------------------------------------------------------------------------

GOOD_TOML = """
name = "t"
[files]
roads = "r.osm"
outlets = "o.csv"
demand = "d.csv"
areas = "a.geojson"
[coordinates]
crs = "wgs84"
[circles.urban]
minutes = 15
mode = "walk"
[circles.rural]
minutes = 30
mode = "ebike"
[speeds]
walk_kmh = 4.5
[network]
max_snap_m = 1000
[population]
proxy = true
"""


def _settings(text: str) -> RegionSettings:
    return RegionSettings.from_toml(tomllib.loads(text), "region.toml")


@pytest.mark.parametrize("old, new, message", [
    ("proxy = true", 'proxy = "false"',
     "key 'population.proxy': expected true or false (a TOML boolean, without quotes), "
     'got "false"'),
    ("minutes = 15", 'minutes = "15"',
     "key 'circles.urban.minutes': expected a number in [1, 240], got \"15\""),
    ("minutes = 15", "minutes = 0", "key 'circles.urban.minutes': expected a number in [1, 240]"),
    ("minutes = 30", "minutes = 300", "key 'circles.rural.minutes': expected a number in"),
    ("minutes = 15", "minutes = nan", "key 'circles.urban.minutes': expected a number"),
    ('mode = "walk"', 'mode = "horse"', "key 'circles.urban.mode': expected one of 'walk'"),
    ("[circles.urban]", "[circle.urban]", "key 'circle': unknown key; did you mean 'circles'?"),
    ("walk_kmh = 4.5", "walk_khm = 4.5",
     "key 'speeds.walk_khm': unknown key; did you mean 'speeds.walk_kmh'?"),
    ("walk_kmh = 4.5", "walk_kmh = 50", "key 'speeds.walk_kmh': expected a number in [0.5, 10]"),
    ("walk_kmh = 4.5", "walk_kmh = true", "key 'speeds.walk_kmh': expected a number"),
    ("max_snap_m = 1000", "max_snap_m = -1", "key 'network.max_snap_m': expected a number"),
    ('crs = "wgs84"', 'crs = "utm50"', "key 'coordinates.crs': expected one of 'wgs84'"),
    ('crs = "wgs84"', 'crs = "wgs84"\ndatum = "gcj02"', "the old name of 'coordinates.datum'"),
    ('name = "t"', "name = 5", "key 'name': expected a text in quotes, got 5"),
    ('roads = "r.osm"', "roads = 5", "key 'files.roads': expected a text"),
    ("[speeds]", "[speeds]\nbike_kmh = 15", "did you mean 'speeds.ebike_kmh'?"),
    ("[circles.rural]\nminutes = 30\nmode = \"ebike\"\n", "", "key 'circles.rural': missing"),
    ("minutes = 30\n", "", "key 'circles.rural.minutes': missing"),
    ('name = "t"', 'name = "t"\nzzz = 1', "key 'zzz': unknown key; expected one of name, "),
])
def test_bad_setting_names_the_key(old: str, new: str, message: str) -> None:
    """Wrong types, bounds and misspelt keys are each named by their full key."""
    assert old in GOOD_TOML
    with pytest.raises(InputError) as err:
        _settings(GOOD_TOML.replace(old, new, 1))
    assert message in str(err.value)


@pytest.mark.parametrize("value", ["5", '"15 minutes"', "[15, 30]", "true"])
def test_a_value_where_a_table_belongs(value: str) -> None:
    """`circles = 5` (a value where the [circles] tables belong) is named, not a traceback."""
    text = f"circles = {value}\n" + GOOD_TOML.split("[circles.urban]")[0] + "[speeds]\n"
    with pytest.raises(InputError, match=r"key 'circles': expected a table \[circles\], got "):
        _settings(text)


def test_datum_read_under_both_names() -> None:
    """`[coordinates] datum` is read, and the old `crs` key still is."""
    assert _settings(GOOD_TOML).datum == "wgs84"
    assert _settings(GOOD_TOML.replace('crs = "wgs84"', 'datum = "GCJ-02"')).datum == "gcj02"
    assert _settings(GOOD_TOML.replace('crs = "wgs84"', 'crs = "bd09"')).datum == "bd09"


def test_every_bad_setting_at_once() -> None:
    """Three bad keys give three problems in one error."""
    text = GOOD_TOML.replace("proxy = true", 'proxy = "yes"').replace(
        "walk_kmh = 4.5", "walk_kmh = 0").replace("[network]", "[netwrok]")
    with pytest.raises(InputError) as err:
        _settings(text)
    assert len(err.value.problems) == 3


def _region(tmp_path: Path) -> Path:
    dst = tmp_path / "region"
    shutil.copytree(DATA / "chengdu", dst)
    return dst


@pytest.mark.parametrize("edit, match", [
    (lambda t: "circles = 5\n" + t.split("[circles.urban]")[0],
     "key 'circles': expected a table"),
    (lambda t: t.replace("proxy = true", 'proxy = "false"'), "key 'population.proxy'"),
    (lambda t: t.replace('roads = "roads.osm.bz2"', 'roads = "."'),
     "roads.osm.bz2|is a directory: expected a roads file"),
    (lambda t: t.replace('outlets = "outlets.csv"', 'outlets = "nope.csv"'),
     "outlets file not found"),
    (lambda t: t + "\n[[broken", "not valid TOML"),
])
def test_cli_refuses_bad_region_with_exit_2(tmp_path: Path, edit, match: str) -> None:
    """A bad region.toml or a folder given as the roads file ends in exit 2 and a message."""
    reg = _region(tmp_path)
    toml = reg / "region.toml"
    toml.write_text(edit(toml.read_text(encoding="utf-8")), encoding="utf-8")
    res = CliRunner().invoke(app, ["coverage", "--region", str(reg), "--out",
                                   str(tmp_path / "out")])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert re.search(match, res.output), res.output
    assert "region" in res.output


# --- 4. plausibility bounds ---------------------------------------------------------------------

@pytest.mark.parametrize("value, match", [
    ("-5", "out of range"), ("nan", "not a finite number"), ("inf", "not a finite number"),
    ("-inf", "not a finite number"), ("2e7", r"'2e7' out of range: expected \[0, 1e\+07\]"),
    ("1e400", "not a finite number"), ("", "missing value"),
])
def test_absurd_population_refused_with_its_row(tmp_path: Path, value: str, match: str) -> None:
    """A negative, NaN, infinite or absurd population is named by its row, not averaged in."""
    f = tmp_path / "d.csv"
    f.write_text("id,lon,lat,population,area_id\nd1,104.07,30.67,100,A\n"
                 f"d2,104.07,30.67,{value},A\n")
    with pytest.raises(InputError, match=match) as err:
        load_demand(f, bbox=BBOX)
    p = err.value.problems[0]
    assert (p.row, p.column) == (2, "population")


def test_plausible_population_is_kept(tmp_path: Path) -> None:
    """A large but plausible population (a city block of 50,000) reads exactly."""
    f = tmp_path / "d.csv"
    f.write_text("id,lon,lat,population,area_id\nd1,104.07,30.67,50000,A\n")
    assert load_demand(f, bbox=BBOX)["population"].tolist() == [50000.0]


@pytest.mark.parametrize("column, value, match", [
    ("capacity", "-1", "out of range"), ("capacity", "inf", "not a finite number"),
    ("cost", "nan", "not a finite number"), ("cost", "1e12", "out of range"),
])
def test_outlet_capacity_and_cost_bounds(tmp_path: Path, column: str, value: str,
                                         match: str) -> None:
    """Capacities and costs must be finite, non-negative and plausible."""
    f = tmp_path / "o.csv"
    f.write_text(f"id,name,kind,lon,lat,{column}\nP1,a,post_office,104.07,30.67,{value}\n")
    with pytest.raises(InputError, match=rf"row 1, column '{column}'.*{match}"):
        load_outlets(f)


@pytest.mark.parametrize("body, match", [
    ("[siting.costs]\npost_office = nan\n", "key 'siting.costs.post_office'"),
    ("[siting.costs]\npost_office = -1\n", "key 'siting.costs.post_office'"),
    ('[siting.costs]\npost_office = "cheap"\n', "key 'siting.costs.post_office'"),
    ("siting = 5\n", "key 'siting.costs': expected a table"),
    ("[siting.costs\n", "not valid TOML"),
    ("", None),
])
def test_costs_file(tmp_path: Path, body: str, match: str | None) -> None:
    """A broken costs file is an InputError naming the file; an empty one keeps the defaults."""
    f = tmp_path / "costs.toml"
    f.write_text(body)
    if match is None:
        assert CostTable.from_file(f).costs["post_office"] == 1.0
        return
    with pytest.raises(InputError, match=match) as err:
        CostTable.from_file(f)
    assert err.value.problems[0].file == str(f)


# --- 5. files that are not files ----------------------------------------------------------------

def _not_files(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "folder.csv"
    d.mkdir()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    cases = {"folder": d, "pipe": fifo, "missing": tmp_path / "nope.csv"}
    for name, text in {"empty": "", "blank": "\n\n  \n", "header": "id,name,kind,lon,lat\n",
                       "ragged": OUTLETS + "P1,a,post_office,104.07,30.67\n"
                                 "P2,b,post_office,104.07,30.67,extra\n",
                       "unnamed": "id,name,kind,lon,lat,\nP1,a,post_office,104.07,30.67,x\n",
                       "binary": "\x00\x01\x02"}.items():
        cases[name] = tmp_path / f"{name}.csv"
        cases[name].write_text(text)
    cases["badxlsx"] = tmp_path / "bad.xlsx"
    cases["badxlsx"].write_text("not a zip")
    cases["badgeojson"] = tmp_path / "bad.geojson"
    cases["badgeojson"].write_text("{not json")
    cases["suffix"] = tmp_path / "outlets.docx"
    cases["suffix"].write_text("x")
    return cases


@pytest.mark.parametrize("case, match", [
    ("folder", "is a directory: expected a file"),
    ("pipe", "not a regular file"),
    ("missing", "file not found"),
    ("empty", "empty file"),
    ("blank", "empty file"),
    ("header", "no data rows"),
    ("ragged", r"row 2: the row has 6 fields, the header 5"),
    ("unnamed", "no name in the header"),
    ("binary", "NUL bytes"),
    ("badxlsx", "cannot read the file"),
    ("badgeojson", "cannot read the file"),
    ("suffix", "unknown file type '.docx'"),
])
def test_files_that_are_not_tables(tmp_path: Path, case: str, match: str) -> None:
    """Each non-table is an InputError naming the file, for gis and routing readers alike."""
    path = _not_files(tmp_path)[case]
    for reader in (load_outlets, lambda p: read_errands(p, hall_ids=HALLS)):
        with pytest.raises(InputError, match=match) as err:
            reader(path)
        assert err.value.problems[0].file == str(path)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file the user may not read is named with the reason (simulated: tests run as root)."""
    f = tmp_path / "o.csv"
    f.write_text(_outlets_text(NAMES))

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(gis.io, "open", deny, raising=False)
    with pytest.raises(InputError, match="cannot read the file: Permission denied"):
        read_table(f)


def test_trailing_comma_header_is_harmless(tmp_path: Path) -> None:
    """An empty, unnamed last column (Excel's trailing comma) is dropped, not an error."""
    f = tmp_path / "o.csv"
    f.write_text("id,name,kind,lon,lat,\nP1,a,post_office,104.07,30.67,\n")
    assert load_outlets(f)["id"].tolist() == ["P1"]


def test_geojson_with_a_line_is_named(tmp_path: Path) -> None:
    """A GeoJSON point table with a LineString names the feature's row."""
    f = tmp_path / "o.geojson"
    f.write_text('{"type":"FeatureCollection","features":['
                 '{"type":"Feature","properties":{"id":"P1","name":"a","kind":"bank"},'
                 '"geometry":{"type":"Point","coordinates":[104.07,30.67]}},'
                 '{"type":"Feature","properties":{"id":"P2","name":"b","kind":"bank"},'
                 '"geometry":{"type":"LineString","coordinates":[[104,30],[104.1,30.1]]}}]}')
    with pytest.raises(InputError, match=r"row 2, column 'geometry'.*LineString"):
        load_outlets(f)


# --- 6. errands off the road --------------------------------------------------------------------

def test_errand_far_from_road_is_refused() -> None:
    """An errand end further than max_snap_m from every runner mode's road is named like an
    outlet; near one mode's road is enough (a runner of that mode can reach it)."""
    def distance(lon: np.ndarray, lat: np.ndarray, mode: str) -> np.ndarray:
        return np.where(lon > 104.1, 5000.0, 20.0) if mode == "walk" else np.full(len(lon), 20.)

    rows = [_errand(), _errand(id="E2", pickup_lon="104.15"),
            _errand(id="E3", kind="pickup_delivery", hall_id="", delivery_lon="104.16",
                    delivery_lat="30.7")]
    with pytest.raises(InputError) as err:
        errands_from_frame(pd.DataFrame(rows), file="e.csv", hall_ids=HALLS, bbox=BBOX,
                           road_distance=distance, road_modes=("walk",), max_snap_m=1000)
    got = [(p.row, p.column) for p in err.value.problems]
    assert got == [(2, "pickup_lon"), (3, "delivery_lon")]
    assert "5,000 m from the nearest road any runner uses (walk); expected within 1,000 m" \
        in str(err.value)
    for modes in (("drive",), ("walk", "drive")):  # a driver can reach them
        ok = errands_from_frame(pd.DataFrame(rows), hall_ids=HALLS, bbox=BBOX,
                                road_distance=distance, road_modes=modes, max_snap_m=1000)
        assert [e.id for e in ok] == ["E1", "E2", "E3"]


def test_errand_far_from_real_roads(chengdu) -> None:
    """On the Chengdu network an errand in open country 3 km from any road is refused."""
    net = chengdu.network
    lon, lat = float(net.lon.mean()), float(net.lat.mean())
    d_near = net.snap([lon], [lat], mode="walk").distance_m[0]
    far_lon = float(net.lon.max()) + 0.03  # ~2.9 km east of the easternmost node

    def distance(x: np.ndarray, y: np.ndarray, mode: str) -> np.ndarray:
        return net.snap(x, y, mode=mode).distance_m

    rows = [_errand(pickup_lon=str(lon), pickup_lat=str(lat)),
            _errand(id="E2", pickup_lon=str(far_lon), pickup_lat=str(lat))]
    with pytest.raises(InputError) as err:
        errands_from_frame(pd.DataFrame(rows), file="e.csv", hall_ids=HALLS,
                           road_distance=distance, road_modes=("walk",),
                           max_snap_m=chengdu.settings.max_snap_m)
    assert d_near < 1000
    assert [(p.row, p.column) for p in err.value.problems] == [(2, "pickup_lon")]


# --- 7. map inputs: proposals, delegation, options (one check each, in gis / maps) ---------------

PROPOSALS = "site_id,name,kind,lon,lat,added_population,rank\n"


@pytest.mark.parametrize("rows, where", [
    ("S1,站点一,community_station,1.52,42.51,abc,1\n", "row 1, column 'added_population'"),
    ("S1,站点一,community_station,1.52,42.51,100,1\nS2,站点二,x,120.5,95,50,2\n",
     "row 2, column 'lat'"),
    ("S1,站点一,community_station,1.52,42.51,100,1.5\n", "row 1, column 'rank'"),
    ("S1,站点一,community_station,1.52,42.51,100,1\nS1,b,x,1.53,42.52,5,2\n",
     "row 2, column 'site_id'"),
])
def test_cli_map_bad_proposals_exit_2(tmp_path: Path, rows: str, where: str) -> None:
    """A bad proposals file ends `bianmin map` with exit 2 naming the file, row and column."""
    props = tmp_path / "proposals.csv"
    props.write_text(PROPOSALS + rows, encoding="utf-8")
    res = CliRunner().invoke(app, ["map", "--region", str(DATA / "andorra"), "--tiles", "none",
                                   "--audience", "planning", "--proposals", str(props),
                                   "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    flat = " ".join(res.output.split())
    assert "proposals.csv" in flat and where in flat, res.output
    assert not (tmp_path / "out" / "map").exists()


def test_proposals_read_typed(tmp_path: Path) -> None:
    """A good proposals file reads with numbers typed (rank an integer), in file order."""
    from gis.siting.maptables import read_proposals

    props = tmp_path / "p.csv"
    props.write_text(PROPOSALS + "S1,a,k,1.52,42.51,120.5,2\nS2,b,k,1.53,42.52,80,1\n",
                     encoding="utf-8")
    p = read_proposals(props)
    assert p["site_id"].tolist() == ["S1", "S2"]
    assert p["added_population"].tolist() == [120.5, 80.0]
    assert p["rank"].tolist() == [2, 1] and p["rank"].dtype.kind == "i"


def test_cli_map_delegation_without_columns_exit_2(tmp_path: Path) -> None:
    """A delegation file without item_name: exit 2 naming the file and the column."""
    chosen = tmp_path / "chosen.csv"
    chosen.write_text("outlet_id,rank\nO1,1\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["map", "--region", str(DATA / "andorra"), "--tiles", "none",
                                   "--audience", "planning", "--delegation", str(chosen),
                                   "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 2, res.output
    flat = " ".join(res.output.split())
    assert "chosen.csv" in flat and "column 'item_name'" in flat, res.output


@pytest.mark.parametrize("args, column", [
    (["--lang", "fr"], "lang"), (["--tiles", "google"], "tiles"),
])
def test_cli_map_bad_options_named_by_the_library(tmp_path: Path, args: list[str],
                                                  column: str) -> None:
    """Bad map options are refused by MapOptions itself (the CLI has no check of its own)."""
    res = CliRunner().invoke(app, ["map", "--region", str(DATA / "andorra"), *args,
                                   "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 2, res.output
    assert f"map options, column '{column}'" in " ".join(res.output.split()), res.output


def test_map_option_checks_live_in_maps_only() -> None:
    """No lang/tiles/proposal-column checks are left in the CLI (one place: maps / gis)."""
    root = Path(__file__).resolve().parents[1]
    cli = (root / "bianmin" / "cmd_map.py").read_text(encoding="utf-8")
    for needle in ('"zh", "en"', '"osm", "tianditu"', "PROPOSAL_COLUMNS", "DELEGATION_COLUMNS",
                   "to_numeric", "os.environ"):
        assert needle not in cli, needle
    layers = (root / "maps" / "layers.py").read_text(encoding="utf-8")
    assert "PROPOSAL_COLUMNS = [" not in layers
