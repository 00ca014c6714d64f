"""A small region copy with hostile text planted in every text field, for tests/test_hostile_*.

Andorra (2 outlets, 368 demand points) is copied into a temporary folder; the outlets,
candidates, areas and region name are edited, and errands and runners files are added and named
in ``region.toml`` so that `routes` and `demo` use them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd

from tests.conftest import DATA

#: Near the two Andorra outlets (P002 in Andorra la Vella, H007 in Canillo).
P002 = (1.5283929, 42.5073187)
H007 = (1.6011914, 42.5664831)


def copy_region(dst: Path, *, name: str | None = None) -> Path:
    """Copy Andorra into ``dst`` (a new folder); optionally rename the region."""
    shutil.copytree(DATA / "andorra", dst)
    if name is not None:
        toml = (dst / "region.toml").read_text(encoding="utf-8")
        toml = re.sub(r'(?m)^name = ".*"$', lambda _: f"name = {json.dumps(name)}", toml)
        (dst / "region.toml").write_text(toml, encoding="utf-8")
    return dst


def edit_csv(path: Path, **columns: object) -> pd.DataFrame:
    """Overwrite whole columns of a region CSV (a scalar, or a callable of the row index)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for col, value in columns.items():
        df[col] = [value(i) if callable(value) else value for i in range(len(df))]
    df.to_csv(path, index=False, encoding="utf-8")
    return df


def edit_area_names(path: Path, name) -> None:
    """Rename every area (``name(i)``)."""
    gj = json.loads(path.read_text(encoding="utf-8"))
    for i, f in enumerate(gj["features"]):
        f["properties"]["name"] = name(i)
    path.write_text(json.dumps(gj, ensure_ascii=False), encoding="utf-8")


def errands_frame(text, *, coords: int = 4) -> pd.DataFrame:
    """Four errands, one of each kind, every text field ``text(field, i)``.

    Home coordinates carry ``coords`` decimals (the tests plant 6 to find them again).
    """
    rows = []
    homes = [(P002[0] + 0.002113, P002[1] + 0.001347), (P002[0] - 0.001731, P002[1] + 0.002519),
             (P002[0] + 0.001259, P002[1] - 0.002163), (P002[0] - 0.002377, P002[1] - 0.001181)]
    kinds = ["home_visit", "pickup_to_hall", "hall_to_home", "pickup_delivery"]
    for i, (kind, (lon, lat)) in enumerate(zip(kinds, homes, strict=True)):
        lon, lat = round(lon, coords), round(lat, coords)
        row = {"id": f"E{i + 1}", "kind": kind, "pickup_lon": lon, "pickup_lat": lat,
               "delivery_lon": "", "delivery_lat": "", "hall_id": "",
               "pickup_earliest": "09:00", "pickup_latest": "16:00",
               "delivery_earliest": "09:00", "delivery_latest": "17:00",
               "service_minutes": 10, "skill": "", "priority": 2}
        if kind == "pickup_to_hall":
            row["hall_id"] = "P002"
        elif kind == "hall_to_home":
            row.update(hall_id="P002", pickup_lon="", pickup_lat="", delivery_lon=lon,
                       delivery_lat=lat)
        elif kind == "pickup_delivery":
            row.update(delivery_lon=round(lon + 0.0031, coords),
                       delivery_lat=round(lat + 0.0017, coords))
        else:
            row.update(delivery_earliest="", delivery_latest="")
        for field in ("contact_name", "contact_phone", "address", "note", "items"):
            row[field] = text(field, i)
        rows.append(row)
    return pd.DataFrame(rows)


def runners_frame(ids: list[str], names: list[str]) -> pd.DataFrame:
    """Runners based at P002 on foot, one per id."""
    return pd.DataFrame({"id": ids, "name": names, "base_outlet_id": "P002",
                         "shift_start": "08:30", "shift_end": "18:00", "mode": "walk"})


def add_day_files(region: Path, errands: pd.DataFrame, runners: pd.DataFrame) -> None:
    """Write errands.csv and runners.csv into the region and name them in region.toml."""
    errands.to_csv(region / "errands.csv", index=False, encoding="utf-8")
    runners.to_csv(region / "runners.csv", index=False, encoding="utf-8")
    toml = (region / "region.toml").read_text(encoding="utf-8")
    toml = toml.replace("[files]\n", '[files]\nerrands = "errands.csv"\n'
                        'runners = "runners.csv"\n', 1)
    (region / "region.toml").write_text(toml, encoding="utf-8")


def run_cli(args: list[str]):
    """``bianmin <args>`` in-process; returns the typer result (output and exit code)."""
    from typer.testing import CliRunner

    from bianmin.cli import app

    return CliRunner().invoke(app, args)
