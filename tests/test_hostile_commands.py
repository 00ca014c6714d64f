"""Hostile input against the commands added after issue 10's first pass (issue 10, wave 2).

Every case ends in exit 2 with a message naming the file, row and column (or the argument), or
in the correct result; never a traceback, never a half-written output.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from tests.hostile_data import copy_region, errands_frame, run_cli, runners_frame

FORMULA = '=HYPERLINK("http://evil.example","x")'
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def region(tmp_path_factory) -> Path:
    """One Andorra copy shared by the read-only cases."""
    return copy_region(tmp_path_factory.mktemp("h2") / "andorra")


def _file(tmp: Path, name: str, data: str | bytes, enc: str = "utf-8") -> Path:
    p = tmp / name
    p.write_bytes(data if isinstance(data, bytes) else data.encode(enc))
    return p


def refused(res, *words: str) -> None:
    """Exit 2, no traceback, and the message names every word (file, row, column, flag)."""
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 2, res.output
    for w in words:
        assert w in res.output, (w, res.output)


# ---------------------------------------------------------------------------- population
CENSUS = [  # (case, file text, encoding, words the refusal names)
    ("empty", "", "utf-8", ["c.csv", "empty"]),
    ("binary", os.urandom(64).replace(b",", b"") + b"\xff\xfe\x00", None, ["c.csv"]),
    ("latin-1", "area_id,population,note\nA001,5,Café élève\n", "latin-1", ["c.csv", "UTF-8"]),
    ("no population column", "area_id,people\nA001,5\n", "utf-8", ["c.csv", "population"]),
    ("NaN", "area_id,population\nA001,nan\n", "utf-8", ["row 1", "'population'"]),
    ("inf", "area_id,population\nA001,inf\n", "utf-8", ["row 1", "'population'"]),
    ("negative", "area_id,population\nA001,-5\n", "utf-8", ["row 1", "'population'"]),
    ("huge", "area_id,population\nA001,1e15\n", "utf-8", ["row 1", "'population'"]),
    ("ragged", "area_id,population\nA001,5,7,8\nA002\n", "utf-8", ["row 2", "'population'"]),
    ("lon is text", "lon,lat,population\nabc,42.5,5\n", "utf-8", ["row 1", "'lon'"]),
    ("no join column for --by area", f"name,population\n{FORMULA},5\n", "utf-8",
     ["c.csv", "area_id", "--by name"]),
]


@pytest.mark.parametrize(("case", "text", "enc", "words"), CENSUS, ids=[c[0] for c in CENSUS])
def test_census_refused(region, tmp_path, case, text, enc, words):
    """A broken census table is refused naming its file, row and column; nothing is written."""
    c = _file(tmp_path, "c.csv", text if enc is None else text.encode(enc))
    res = run_cli(["population", "--region", str(region), "--census", str(c),
                   "--out", str(tmp_path / "o")])
    refused(res, *words)
    assert not (tmp_path / "o" / "population").exists()


POP_ARGS = [  # (case, extra arguments, words)
    ("neither census nor raster", [], ["--census", "--raster"]),
    ("census is a folder", ["--census", "{tmp}"], ["is a directory"]),
    ("census missing", ["--census", "{tmp}/nope.csv"], ["nope.csv", "not found"]),
    ("--by foo", ["--census", "{ok}", "--by", "foo"], ["--by", "foo"]),
    ("raster is text", ["--raster", "{txt}"], ["r.tif", "cannot read the raster"]),
    ("--aggregate 0", ["--raster", "{txt}", "--aggregate", "0"], ["--aggregate"]),
    ("--out is a file", ["--census", "{ok}", "--out", "{txt}"], ["--out"]),
]


@pytest.mark.parametrize(("case", "args", "words"), POP_ARGS, ids=[c[0] for c in POP_ARGS])
def test_population_arguments(region, tmp_path, case, args, words):
    """Absurd `population` arguments end in exit 2 naming the argument or file."""
    ok = _file(tmp_path, "ok.csv", "area_id,population\nA001,5\n")
    txt = _file(tmp_path, "r.tif", "hello")
    args = [a.format(tmp=tmp_path, ok=ok, txt=txt) for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "o")]
    refused(run_cli(["population", "--region", str(region), *args]), *words)


def _raster(path: Path, values: np.ndarray, crs: str | None) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0],
                       count=1, dtype="float32", crs=crs,
                       transform=from_origin(1.5, 42.6, 0.01, 0.01)) as w:
        w.write(values.astype("float32")[None])
    return path


def test_raster_without_crs(region, tmp_path):
    """A raster with no CRS is refused naming the file."""
    r = _raster(tmp_path / "nocrs.tif", np.ones((4, 4)), None)
    refused(run_cli(["population", "--region", str(region), "--raster", str(r),
                     "--out", str(tmp_path / "o")]), "nocrs.tif", "no CRS")


def test_raster_absurd_cell(region, tmp_path):
    """One cell holding 1e30 people is refused with its row and column, not published."""
    a = np.ones((4, 4))
    a[2, 3] = 1e30
    r = _raster(tmp_path / "huge.tif", a, "EPSG:4326")
    refused(run_cli(["population", "--region", str(region), "--raster", str(r),
                     "--out", str(tmp_path / "o")]), "huge.tif", "row 3, column 4")


def test_raster_nan_inf_negative_are_nobody(region, tmp_path):
    """NaN, inf and negative cells count as nobody: only the one 100-person cell is placed."""
    a = np.full((4, 4), np.nan)
    a[0, 0], a[1, 1], a[2, 2] = np.inf, -5, 100
    r = _raster(tmp_path / "nan.tif", a, "EPSG:4326")
    res = run_cli(["population", "--region", str(region), "--raster", str(r),
                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    demand = (tmp_path / "o" / "population" / "demand.csv").read_text(encoding="utf-8")
    total = sum(float(line.split(",")[3]) for line in demand.splitlines()[1:])
    assert total == pytest.approx(100.0, abs=0.01)  # split cells are rounded to 4 decimals


def test_census_gbk_duplicate_area_rows_add_up(region, tmp_path):
    """A GBK census with one area named twice is read, and the area's two rows add up."""
    c = _file(tmp_path, "c.csv", "area_id,population,备注\nA001,500,某某村\nA001,300,又一村\n",
              "gbk")
    res = run_cli(["population", "--region", str(region), "--census", str(c),
                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "800 people" in res.output


# ------------------------------------------------------------------ region check: items, roads
ITEMS_HDR = "id,name,name_en,category,delegable_to,weight,in_person,runner_can_carry,illustrative"
ITEMS = [  # (case, file, text, words)
    ("items empty", "items.csv", "", ["items.csv", "empty"]),
    ("items missing column", "items.csv", "id,foo\nI01,x\n", ["items.csv", "name"]),
    ("items weight NaN", "items.csv", f"{ITEMS_HDR}\nI99,新,x,c,post_office,nan,true,true,true\n",
     ["row 1", "'weight'"]),
    ("items weight negative", "items.csv",
     f"{ITEMS_HDR}\nI99,新,x,c,post_office,-3,true,true,true\n", ["row 1", "'weight'"]),
    ("items bool", "items.csv", f"{ITEMS_HDR}\nI99,新,x,c,post_office,1,maybe,true,true\n",
     ["row 1", "'in_person'"]),
    ("items unknown kind", "items.csv",
     f"{ITEMS_HDR}\nI99,新,x,c,rocket_base,1,true,true,true\n", ["row 1", "delegable_to"]),
    ("outlet_items unknown outlet", "outlet_items.csv", "outlet_id,item_id\nZZZ,I02\n",
     ["outlet_items.csv", "row 1", "outlet_id"]),
    ("outlet_items unknown item", "outlet_items.csv", "outlet_id,item_id\nP002,I999\n",
     ["outlet_items.csv", "row 1", "item_id"]),
    ("outlet_items missing column", "outlet_items.csv", "outlet,item\nP002,I02\n",
     ["outlet_items.csv", "outlet_id"]),
]


@pytest.mark.parametrize(("case", "name", "text", "words"), ITEMS, ids=[c[0] for c in ITEMS])
def test_region_check_items(tmp_path, case, name, text, words):
    """`region check` validates the items catalogue and outlet_items like every other file."""
    reg = copy_region(tmp_path / "r")
    (reg / name).write_text(text, encoding="utf-8")
    refused(run_cli(["region", "check", str(reg)]), *words)


HOURS = [("25:00-26:00", "25:00"), ("whenever", "whenever"), (SCRIPT, "hours"),
         ("Mo-Fr 17:00-09:00", "ends before it starts"), ("Mo-Fr 09:00-12:00,11:00-13:00",
                                                          "overlap")]


@pytest.mark.parametrize(("hours", "word"), HOURS, ids=[h[0] for h in HOURS])
def test_region_check_hours(tmp_path, hours, word):
    """Impossible opening hours are refused with the outlet's row and the 'hours' column."""
    reg = copy_region(tmp_path / "r")
    from tests.hostile_data import edit_csv

    edit_csv(reg / "outlets.csv", hours=hours)
    refused(run_cli(["region", "check", str(reg)]), "outlets.csv", "row 1", "'hours'", word)


LINE = shapely.LineString([(1.53, 42.51), (1.535, 42.512)])
EXTRA = [  # (case, frame or raw text, extension, words)
    ("points", gpd.GeoDataFrame({"highway": ["track"]}, geometry=[shapely.Point(1.53, 42.51)],
                                crs=4326), "geojson", ["row 1", "'geometry'", "Point"]),
    ("plain table", "highway,lon,lat\ntrack,1.5,42.5\n", "csv", ["extra.csv", "LineStrings"]),
    ("empty", "", "geojson", ["extra.geojson", "empty"]),
    ("not json", "{nope", "geojson", ["extra.geojson", "cannot read"]),
    ("no features", '{"type":"FeatureCollection","features":[]}', "geojson", ["extra.geojson"]),
    ("bad oneway", gpd.GeoDataFrame({"highway": ["track"], "oneway": ["sometimes"]},
                                    geometry=[LINE], crs=4326), "geojson", ["row 1", "oneway"]),
    ("far away", gpd.GeoDataFrame({"highway": ["track"]}, geometry=[shapely.LineString(
        [(100.0, 30.0), (100.1, 30.1)])], crs=4326), "geojson", ["row 1", "'geometry'", "km"]),
    ("lon/lat swapped", gpd.GeoDataFrame({"highway": ["track"]}, geometry=[shapely.LineString(
        [(42.51, 1.53), (42.512, 1.535)])], crs=4326), "geojson", ["row 1", "swapped"]),
]


@pytest.mark.parametrize(("case", "data", "ext", "words"), EXTRA, ids=[c[0] for c in EXTRA])
def test_extra_roads_refused(tmp_path, case, data, ext, words):
    """A broken [files] extra_roads file is refused naming file, row and column."""
    reg = copy_region(tmp_path / "r")
    p = reg / f"extra.{ext}"
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        data.to_file(p)
    toml = (reg / "region.toml").read_text(encoding="utf-8")
    (reg / "region.toml").write_text(toml.replace("[files]\n", f'[files]\nextra_roads = '
                                                  f'"extra.{ext}"\n', 1), encoding="utf-8")
    refused(run_cli(["region", "check", str(reg)]), *words)


def test_template_out_is_a_file(tmp_path):
    """`region template` into a file, or a non-empty folder without --force, is refused."""
    f = _file(tmp_path, "f.txt", "x")
    refused(run_cli(["region", "template", str(f)]), "f.txt")
    refused(run_cli(["region", "template", str(tmp_path)]), "--force")


# -------------------------------------------------------------------------------- ledger
def _text(field: str, i: int) -> str:
    return {"contact_name": f"{FORMULA}张三", "contact_phone": "13800138000",
            "address": f"{SCRIPT}成华路1号", "note": "身份证110101199003071234",
            "items": ""}[field]


PERSONAL = ("张三", "13800138000", "成华路", "110101199003071234")


@pytest.fixture(scope="module")
def ledger(region, tmp_path_factory):
    """A ledger with four hostile errands and two hostile runners on 2026-03-02."""
    tmp = tmp_path_factory.mktemp("ledger")
    errands_frame(_text).to_csv(tmp / "errands.csv", index=False)
    runners_frame(["r1", "r2"], ["=cmd|' /C calc'!A0", "<b>李四</b>"]).to_csv(
        tmp / "runners.csv", index=False)
    db = f"sqlite:///{tmp}/l.db"
    assert run_cli(["ledger", "init", "--db", db]).exit_code == 0
    res = run_cli(["ledger", "import", "--db", db, "--region", str(region), "--date",
                   "2026-03-02", "--runners", str(tmp / "runners.csv"), "--errands",
                   str(tmp / "errands.csv")])
    assert res.exit_code == 0, res.output
    return tmp, db


LEDGER = [  # (case, arguments after `ledger`, words)
    ("db is a folder", ["init", "--db", "sqlite:///{tmp}"], ["--db", "folder"]),
    ("db folder missing", ["init", "--db", "sqlite:///{tmp}/no/x.db"], ["--db"]),
    ("db not a URL", ["init", "--db", "notaurl"], ["--db"]),
    ("db mysql", ["init", "--db", "mysql://x/y"], ["--db"]),
    ("export from a typo'd db", ["export", "--db", "sqlite:///{tmp}/typo.db", "--month",
                                 "2026-03", "--out", "{tmp}/o"], ["--db", "typo.db"]),
    ("month 13", ["export", "--db", "{db}", "--month", "2026-13", "--out", "{tmp}/o"],
     ["--month"]),
    ("month 00", ["export", "--db", "{db}", "--month", "2026-00", "--out", "{tmp}/o"],
     ["--month"]),
    ("month text", ["export", "--db", "{db}", "--month", "abc", "--out", "{tmp}/o"],
     ["--month"]),
    ("export --out file", ["export", "--db", "{db}", "--month", "2026-03", "--out",
                           "{tmp}/errands.csv"], ["--out"]),
    ("unknown errand", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand", "NOPE",
                        "--kind", "delivered"], ["--errand NOPE", "no errand"]),
    ("unknown kind", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand", "E1",
                      "--kind", "exploded"], ["exploded"]),
    ("rating 9", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand", "E1",
                  "--kind", "rated", "--rating", "9"], ["1 to 5"]),
    ("rating on assigned", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand", "E1",
                            "--kind", "assigned", "--runner", "r1", "--rating", "3"],
     ["--rating"]),
    ("unknown runner", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand", "E1",
                        "--kind", "assigned", "--runner", "ghost"], ["--runner", "ghost"]),
    ("delivered before assigned", ["event", "--db", "{db}", "--date", "2026-03-02", "--errand",
                                   "E2", "--kind", "delivered"], ["E2", "cannot record"]),
    ("date 02-30", ["event", "--db", "{db}", "--date", "2026-02-30", "--errand", "E1",
                    "--kind", "delivered"], ["--date"]),
    ("replan --at 25:00", ["replan", "--db", "{db}", "--date", "2026-03-02", "--region",
                           "{region}", "--at", "25:00", "--out", "{tmp}/o"], ["--at"]),
    ("replan --at 24:00", ["replan", "--db", "{db}", "--date", "2026-03-02", "--region",
                           "{region}", "--at", "24:00", "--out", "{tmp}/o"],
     ["--at", "the day is over at 24:00"]),
    ("replan with no plan", ["replan", "--db", "{db}", "--date", "2026-03-02", "--region",
                             "{region}", "--at", "12:00", "--out", "{tmp}/o"],
     ["no plan stored"]),
    ("plan a day with no errands", ["plan", "--db", "{db}", "--date", "2027-01-04", "--region",
                                    "{region}", "--out", "{tmp}/o"], ["--date", "no errands"]),
    ("plan time limit NaN", ["plan", "--db", "{db}", "--date", "2026-03-02", "--region",
                             "{region}", "--time-limit", "nan", "--out", "{tmp}/o"],
     ["--time-limit"]),
]


@pytest.mark.parametrize(("case", "args", "words"), LEDGER, ids=[c[0] for c in LEDGER])
def test_ledger_refused(ledger, region, case, args, words):
    """Absurd ledger requests end in exit 2 naming the argument; no empty ledger is made."""
    tmp, db = ledger
    args = [a.format(tmp=tmp, db=db, region=region) for a in args]
    refused(run_cli(["ledger", *args]), *words)
    assert not (tmp / "typo.db").exists()
    assert not (tmp / "o").exists() or not any((tmp / "o").iterdir())  # nothing half-written


def test_ledger_import_refusals(ledger, region):
    """Errands already in the ledger, or swapped lon/lat, are refused with row and column."""
    tmp, db = ledger
    base = ["ledger", "import", "--db", db, "--region", str(region), "--date", "2026-03-02"]
    refused(run_cli([*base, "--errands", str(tmp / "errands.csv")]), "'id'", "already")
    e = errands_frame(_text)
    e["id"] = ["Y1", "Y2", "Y3", "Y4"]
    e["pickup_lon"], e["pickup_lat"] = e["pickup_lat"], e["pickup_lon"]
    e.to_csv(tmp / "swap.csv", index=False)
    refused(run_cli([*base, "--errands", str(tmp / "swap.csv")]), "row 1", "swapped")


def test_ledger_export_text_stays_text(ledger, region, tmp_path):
    """The 台账 keeps formula text as text and no citizen's data outside the dispatcher's
    errands sheet; a month written 2026-3 is the file taizhang-2026-03.xlsx."""
    tmp, db = ledger
    assert run_cli(["ledger", "event", "--db", db, "--date", "2026-03-02", "--errand", "E3",
                    "--kind", "failed", "--reason", FORMULA]).exit_code == 0
    res = run_cli(["ledger", "export", "--db", db, "--month", "2026-3", "--region",
                   str(region), "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "ledger" / "taizhang-2026-03.xlsx")
    seen_reason = False
    for ws in wb:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (ws.title, c.coordinate, c.value)
                seen_reason |= c.value == FORMULA
                if ws.title != wb.sheetnames[0]:  # only the first is the dispatcher's list
                    assert not any(p in str(c.value or "") for p in PERSONAL), (ws.title, c.value)
    assert seen_reason


# ---------------------------------------------------------------------- routes replan, dask
@pytest.mark.parametrize(("case", "plan"), [
    ("not JSON", "{nope"), ("a list", "[1, 2]"),
    ("routes not a list", '{"routes": 5, "date": "2026-03-02"}'),
    ("impossible date", '{"routes": [], "date": "2026-99-99"}')])
def test_replan_broken_plan_json(region, tmp_path, case, plan):
    """A plan.json that `routes` did not write is refused naming the file, before any work."""
    p = _file(tmp_path, "plan.json", plan)
    s = _file(tmp_path, "STATUS.csv", "errand_id,status\nE1,done\n")
    refused(run_cli(["routes", "replan", "--region", str(region), "--plan", str(p), "--status",
                     str(s), "--at", "12:00", "--out", str(tmp_path / "o")]), "plan.json")


@pytest.mark.parametrize("scheduler", ["http://x:1", "ftp://x", "tcp://", "tcp://host",
                                       "tcp://host:port"])
def test_coverage_scheduler_not_tcp(region, tmp_path, scheduler):
    """A Dask scheduler that is not 'local' or tcp://HOST:PORT is refused naming --scheduler."""
    refused(run_cli(["coverage", "--region", str(region), "--out", str(tmp_path / "o"), "-q",
                     "--partition-by", "id", "--scheduler", scheduler]), "--scheduler")


def test_province_scheduler_not_tcp(region, tmp_path):
    """`province --scheduler ftp://x` is refused naming --scheduler, before any work."""
    refused(run_cli(["province", "--region", str(region), "--out", str(tmp_path / "o"), "-q",
                     "--scheduler", "ftp://x"]), "--scheduler", "ftp://x")
    assert not (tmp_path / "o").exists()


def test_coverage_scheduler_unreachable(region, tmp_path, monkeypatch):
    """A scheduler with nothing listening ends in exit 1 'cannot reach the Dask scheduler at
    ...' after the stated connect timeout, not an OSError traceback."""
    import time

    import gis.partition_dask

    monkeypatch.setattr(gis.partition_dask, "CONNECT_TIMEOUT_S", 2.0)
    t0 = time.monotonic()
    res = run_cli(["coverage", "--region", str(region), "--out", str(tmp_path / "o"), "-q",
                   "--partition-by", "id", "--scheduler", "tcp://127.0.0.1:1"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert res.exit_code == 1, res.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in res.output
    assert "after 2 s" in res.output
    assert time.monotonic() - t0 < 30  # the stated timeout, not distributed's 30 s default
    assert not (tmp_path / "o" / "coverage").exists()


def _xlsx_bytes(tmp: Path) -> bytes:
    import pandas as pd

    pd.DataFrame({"area_id": ["A001"], "population": ["5"]}).to_excel(tmp / "ok.xlsx",
                                                                      index=False)
    return (tmp / "ok.xlsx").read_bytes()


XLSX = [  # (case, bytes maker, words)
    ("csv renamed", lambda t: b"area_id,population\nA001,5\n", ["not an Excel .xlsx file",
                                                                "ZIP/XLSX", ".csv"]),
    ("random bytes", lambda t: os.urandom(256).replace(b"PK", b"pk"),
     ["not an Excel .xlsx file"]),
    ("encrypted / old xls", lambda t: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
     ["password-protected", "save it as .xlsx or .csv"]),
    ("truncated", lambda t: _xlsx_bytes(t)[:200], ["broken Excel .xlsx", ".csv"]),
    ("zip not a workbook", lambda t: _zip_of_text(t), ["broken Excel .xlsx"]),
]


def _zip_of_text(tmp: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(tmp / "z.zip", "w") as z:
        z.writestr("hello.txt", "hi")
    return (tmp / "z.zip").read_bytes()


@pytest.mark.parametrize(("case", "make", "words"), XLSX, ids=[c[0] for c in XLSX])
def test_xlsx_not_a_workbook(region, tmp_path, case, make, words):
    """A '.xlsx' that is not a readable workbook is refused naming the file and saying why."""
    c = _file(tmp_path, "c.xlsx", make(tmp_path))
    refused(run_cli(["population", "--region", str(region), "--census", str(c),
                     "--out", str(tmp_path / "o")]), "c.xlsx", *words)


def test_xlsx_census_is_read(region, tmp_path):
    """A real .xlsx census is read (the check does not refuse a good workbook)."""
    _xlsx_bytes(tmp_path)
    res = run_cli(["population", "--region", str(region), "--census", str(tmp_path / "ok.xlsx"),
                   "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "5 people" in res.output


# --------------------------------------------------------------------- STATUS.csv, --at 24:00
def test_status_new_row_without_priority(tmp_path):
    """A STATUS.csv with no priority column gives its new errand the middle priority 2."""
    from routing.replan import NEW_PRIORITY, read_status

    s = _file(tmp_path, "STATUS.csv", "errand_id,status,kind,pickup_lon,pickup_lat,"
              "service_minutes\nE1,done,,,,\nN1,new,home_visit,1.52,42.51,15\n")
    states, new = read_status(str(s))
    assert states == {"E1": "done", "N1": "new"}
    assert [(e.id, e.priority, e.service_s) for e in new] == [("N1", NEW_PRIORITY, 900)]
    assert NEW_PRIORITY == 2


def test_status_missing_column_named_as_written(region, tmp_path):
    """A new row without service_minutes is refused listing STATUS.csv's own columns
    (errand_id, status ...), not the renamed 'id' without 'status'."""
    p = _file(tmp_path, "plan.json", '{"routes": [], "date": "2026-03-02"}')
    s = _file(tmp_path, "STATUS.csv", "errand_id,status,kind,pickup_lon,pickup_lat\n"
              "N1,new,home_visit,1.52,42.51\n")
    res = run_cli(["routes", "replan", "--region", str(region), "--plan", str(p), "--status",
                   str(s), "--at", "12:00", "--out", str(tmp_path / "o")])
    refused(res, "STATUS.csv", "'service_minutes'", "missing column",
            "['errand_id', 'status', 'kind', 'pickup_lon', 'pickup_lat']")
    assert "'id'" not in res.output


@pytest.mark.parametrize("at", ["24:00", "24:00:00"])
def test_replan_at_end_of_day(region, tmp_path, at):
    """A re-plan at 24:00 has nothing left to plan: refused naming --at, before any work."""
    p = _file(tmp_path, "plan.json", '{"routes": [], "date": "2026-03-02"}')
    s = _file(tmp_path, "STATUS.csv", "errand_id,status\nE1,done\n")
    refused(run_cli(["routes", "replan", "--region", str(region), "--plan", str(p), "--status",
                     str(s), "--at", at, "--out", str(tmp_path / "o")]),
            "--at", "the day is over at 24:00")
    assert not (tmp_path / "o").exists()


# -------------------------------------------------------------------------------- delegate
def test_delegate_add_more_than_exist(region, tmp_path):
    """`delegate --add 100000` says how many pairs could help and were all chosen, with the
    summary; the count is chosen.csv's, and asking for exactly that many gives the same plan."""
    import pandas as pd

    res = run_cli(["delegate", "--region", str(region), "--out", str(tmp_path / "o"),
                   "--add", "100000"])
    assert res.exit_code == 0, res.output
    chosen = pd.read_csv(tmp_path / "o" / "delegation" / "chosen.csv")
    n = len(chosen)
    assert 0 < n < 100000
    assert "item delegation(s)" in res.output  # the summary
    assert f"asked for 100000 pair(s); only {n} delegable" in res.output
    assert (chosen["added_population"] > 0).all()  # every chosen pair reaches someone new
    exact = run_cli(["delegate", "--region", str(region), "--out", str(tmp_path / "p"),
                     "--add", str(n)])
    assert exact.exit_code == 0, exact.output
    assert "asked for" not in exact.output
    again = pd.read_csv(tmp_path / "p" / "delegation" / "chosen.csv")
    assert set(zip(again["outlet_id"], again["item_id"], strict=True)) == set(
        zip(chosen["outlet_id"], chosen["item_id"], strict=True))
