"""Spreadsheets as people make them: column and kind aliases in Chinese and English.

A planner's Excel says 名称, 类型, 经度, 纬度 and 邮政网点; bianmin's schemas say ``name``,
``kind``, ``lon``, ``lat`` and ``post_office``. :func:`normalise_table` is called by the reader
(:func:`gis.io.read_table`) before any validation: headers are stripped, full-width characters
made half-width (NFKC), matched case-insensitively against :data:`COLUMN_ALIASES`; outlet kinds
given as Chinese labels (:data:`KIND_ALIASES`), coordinate systems given as 高德/百度/GPS and
城乡分类代码 (urban-rural codes) are turned into the codes the schemas check.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

__all__ = ["COLUMN_ALIASES", "KIND_ALIASES", "CRS_ALIASES", "canonical_header",
           "normalise_table", "urban_from_code", "aliases_markdown", "excel_rows"]

#: Canonical column → the headers people write for it (matched after :func:`_key`).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "序号", "网点编码", "网点编号", "ID"),
    "name": ("名称", "网点名称", "站点名称", "村名", "村(社区)名称", "name"),
    "kind": ("类型", "网点类型", "类别", "type", "category"),
    "lon": ("经度", "lng", "longitude", "lon"),
    "lat": ("纬度", "latitude", "lat"),
    "crs": ("坐标系", "坐标系统", "datum", "crs"),
    "address": ("地址", "详细地址", "address"),
    "phone": ("电话", "联系电话", "咨询电话", "phone", "tel", "telephone"),
    "hours": ("办公时间", "营业时间", "服务时间", "opening_hours", "hours"),
    "services": ("可办事项", "服务事项", "办理事项", "services"),
    "capacity": ("容量", "服务能力", "capacity"),
    "cost": ("成本", "费用", "cost"),
    "population": ("人口", "人口数", "常住人口", "户籍人口", "人数", "pop", "population"),
    "area_id": ("所属区域", "所属区域编号", "区域编号", "乡镇", "乡镇(街道)", "乡镇街道",
                "area", "area_id"),
    "urban": ("城乡", "城乡属性", "是否城镇", "urban"),
    "urban_code": ("城乡分类代码", "城乡代码", "urban_rural_code", "urban_code"),
}

#: Chinese (and plain English) outlet kind labels → the kind codes of
#: :data:`gis.region.OUTLET_KINDS`.
KIND_ALIASES: dict[str, str] = {
    "政务服务中心": "service_hall", "行政服务中心": "service_hall", "市民中心": "service_hall",
    "政务大厅": "service_hall",
    "便民服务中心": "township_centre", "乡镇便民服务中心": "township_centre",
    "乡镇(街道)便民服务中心": "township_centre", "街道便民服务中心": "township_centre",
    "党群服务中心": "township_centre",
    "便民服务站": "community_station", "村(社区)便民服务站": "community_station",
    "村便民服务站": "community_station", "社区便民服务站": "community_station",
    "社区服务站": "community_station",
    "邮政网点": "post_office", "邮政": "post_office", "邮局": "post_office",
    "邮政所": "post_office",
    "营业厅": "carrier_shop", "通信运营商营业厅": "carrier_shop", "移动营业厅": "carrier_shop",
    "联通营业厅": "carrier_shop", "电信营业厅": "carrier_shop",
    "银行网点": "bank", "银行": "bank", "农商银行": "bank", "信用社": "bank",
    "其他": "other", "其它": "other",
}

#: Coordinate-system labels → the names :func:`gis.coords.to_wgs84` knows.
CRS_ALIASES: dict[str, str] = {
    "高德": "gcj02", "腾讯": "gcj02", "火星坐标": "gcj02", "国测局": "gcj02", "amap": "gcj02",
    "百度": "bd09", "baidu": "bd09", "gps": "wgs84", "wgs84": "wgs84", "gcj02": "gcj02",
    "bd09": "bd09",
}


def _key(text: object) -> str:
    """Header/label key: NFKC (full-width → half-width), no spaces, lower case."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-]+", "", s).replace("（", "(").replace("）", ")")


_HEADER = {_key(a): canon for canon, names in COLUMN_ALIASES.items() for a in (canon, *names)}
_KIND = {_key(a): code for a, code in KIND_ALIASES.items()}
_CRS = {_key(a): code for a, code in CRS_ALIASES.items()}


def canonical_header(header: object) -> str:
    """The canonical name of a header (``' 经度 '`` → ``'lon'``); unknown headers stripped."""
    return _HEADER.get(_key(header), unicodedata.normalize("NFKC", str(header)).strip())


def urban_from_code(code: object) -> str:
    """城乡分类代码 → ``'true'`` (111–122, urban) / ``'false'`` (2xx, rural), else unchanged.

    The codes of the National Bureau of Statistics: 111 主城区, 112 城乡结合区, 121 镇中心区,
    122 镇乡结合区, 123 特殊区域 (urban); 210 乡中心区, 220 村庄 (rural).
    """
    s = unicodedata.normalize("NFKC", str(code)).strip()
    if s.endswith(".0"):
        s = s[:-2]
    if re.fullmatch(r"1[12]\d", s):
        return "true"
    if re.fullmatch(r"2[12]0", s):
        return "false"
    return s


def normalise_table(df: pd.DataFrame) -> pd.DataFrame:
    """Rename aliased headers to canonical names and map Chinese kinds, datums, urban codes.

    A header whose canonical name is already taken by an earlier column is left as it is (the
    validator then sees the first one, never a silent merge). Values that are not aliases are
    left untouched, so the validator still reports them.
    """
    names: list[str] = []
    for c in df.columns:
        canon = canonical_header(c) if c != "geometry" else c
        names.append(canon if canon not in names else str(c).strip())
    out = df.copy()
    out.columns = names
    if "kind" in out:
        out["kind"] = [_KIND.get(_key(v), v) if isinstance(v, str) else v for v in out["kind"]]
    if "crs" in out:
        out["crs"] = [_CRS.get(_key(v), v) if isinstance(v, str) else v for v in out["crs"]]
    if "urban_code" in out and "urban" not in out:
        out["urban"] = [urban_from_code(v) for v in out["urban_code"]]
    return out


def excel_rows(problems: list, path: object) -> list:
    """For an XLSX file, shift data rows to Excel's own row numbers (header = row 1)."""
    from dataclasses import replace

    if str(path).lower().rsplit(".", 1)[-1] not in ("xlsx", "xlsm"):
        return problems
    fixed = []
    for p in problems:
        msg = re.sub(r"first seen in row (\d+)", lambda m: f"first seen in row {int(m[1]) + 1}",
                     p.message)
        fixed.append(replace(p, row=None if p.row is None else p.row + 1, message=msg))
    return fixed


def aliases_markdown() -> str:
    """The alias tables as Markdown, as ``docs/region-format.md`` prints them."""
    lines = ["| column | headers accepted (case, spaces and full-width forms ignored) |",
             "|---|---|"]
    for canon, names in COLUMN_ALIASES.items():
        lines.append(f"| `{canon}` | {', '.join(n for n in names if n != canon)} |")
    lines += ["", "| kind code | labels accepted |", "|---|---|"]
    by_code: dict[str, list[str]] = {}
    for label, code in KIND_ALIASES.items():
        by_code.setdefault(code, []).append(label)
    for code, labels in by_code.items():
        lines.append(f"| `{code}` | {', '.join(labels)} |")
    lines += ["", "| `crs` value | labels accepted |", "|---|---|"]
    by_crs: dict[str, list[str]] = {}
    for label, code in CRS_ALIASES.items():
        by_crs.setdefault(code, []).append(label)
    for code, labels in by_crs.items():
        lines.append(f"| `{code}` | {', '.join(labels)} |")
    return "\n".join(lines)
