"""Reproducible illustrative errands and runners for a region (labelled illustrative everywhere).

The tables come out in the input file format (strings) so they pass through exactly the same
validation as a user's files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import ERRAND_COLUMNS, RUNNER_COLUMNS, fmt_hhmm

__all__ = ["demo_errands", "demo_runners", "DEMO_SKILLS"]

DEMO_SKILLS = ("不动产", "工程建设", "社保", "户籍")
_ITEMS = {
    "pickup_to_hall": ["营业执照申请材料 business licence papers", "社保卡补办材料 social "
                       "security card papers", "户口迁移材料 household registration papers"],
    "hall_to_home": ["不动产权证书 property certificate", "营业执照 business licence",
                     "居住证 residence permit"],
    "pickup_delivery": ["签字文件 signed documents", "委托书 power of attorney"],
    "home_visit": ["上门核验 home verification", "适老化评估 ageing-at-home assessment"],
}
_KIND_P = {"pickup_to_hall": 0.35, "hall_to_home": 0.3, "pickup_delivery": 0.15,
           "home_visit": 0.2}


def _near(outlets: pd.DataFrame, lon: float, lat: float, rng: np.random.Generator) -> str:
    d = (outlets["lon"].to_numpy() - lon) ** 2 + (outlets["lat"].to_numpy() - lat) ** 2
    k = min(3, len(outlets))
    return str(outlets["id"].iloc[int(rng.choice(np.argsort(d)[:k]))])


def demo_errands(outlets: pd.DataFrame, demand: pd.DataFrame, *, n: int = 60,
                 seed: int = 0) -> pd.DataFrame:
    """Illustrative errands: citizens drawn from demand points weighted by population.

    Parameters
    ----------
    outlets
        ``id, name, kind, lon, lat``: halls for hall ends.
    demand
        ``id, lon, lat, population``.
    n
        Number of errands.
    seed
        Random seed (same seed, same table).

    Returns
    -------
    pandas.DataFrame
        Errands table in the input format, ``illustrative`` = ``yes``.
    """
    rng = np.random.default_rng(seed)
    pop = demand["population"].to_numpy(dtype=float)
    w = pop / pop.sum() if pop.sum() > 0 else None
    kinds = list(_KIND_P)
    rows = []
    for i in range(n):
        j = int(rng.choice(len(demand), p=w))
        lon = float(demand["lon"].iloc[j]) + rng.normal(0, 0.0015)
        lat = float(demand["lat"].iloc[j]) + rng.normal(0, 0.0015)
        kind = str(rng.choice(kinds, p=[_KIND_P[k] for k in kinds]))
        start = int(rng.integers(8 * 6 + 3, 15 * 6)) * 600  # 08:30 .. 14:50, 10-min steps
        p_len = int(rng.integers(6, 19)) * 600  # 1 .. 3 h
        d0 = start + 1800
        d1 = min(start + p_len + int(rng.integers(6, 19)) * 600, 18 * 3600)
        row = dict.fromkeys(ERRAND_COLUMNS, "")
        row.update(id=f"E{i + 1:03d}", kind=kind, pickup_earliest=fmt_hhmm(start),
                   pickup_latest=fmt_hhmm(start + p_len), service_minutes=str(
                       int(rng.integers(1, 5)) * 5),
                   skill=str(rng.choice(DEMO_SKILLS)) if rng.random() < 0.3 else "",
                   priority=str(int(rng.choice([1, 2, 3], p=[0.2, 0.5, 0.3]))),
                   contact_name=f"示例居民{i + 1:03d}",
                   contact_phone=f"1{int(rng.integers(30, 90))}{int(rng.integers(0, 10**8)):08d}",
                   address=f"示例地址 illustrative address near {demand['id'].iloc[j]}",
                   note="示例数据 illustrative", items=str(rng.choice(_ITEMS[kind])),
                   illustrative="yes")
        here = (f"{lon:.6f}", f"{lat:.6f}")
        if kind == "home_visit":
            row.update(pickup_lon=here[0], pickup_lat=here[1])
        elif kind == "pickup_to_hall":
            row.update(pickup_lon=here[0], pickup_lat=here[1],
                       hall_id=_near(outlets, lon, lat, rng),
                       delivery_earliest=fmt_hhmm(d0), delivery_latest=fmt_hhmm(d1))
        elif kind == "hall_to_home":
            row.update(delivery_lon=here[0], delivery_lat=here[1],
                       hall_id=_near(outlets, lon, lat, rng),
                       delivery_earliest=fmt_hhmm(d0), delivery_latest=fmt_hhmm(d1))
        else:
            k = int(rng.choice(len(demand), p=w))
            row.update(pickup_lon=here[0], pickup_lat=here[1],
                       delivery_lon=f"{float(demand['lon'].iloc[k]):.6f}",
                       delivery_lat=f"{float(demand['lat'].iloc[k]):.6f}",
                       delivery_earliest=fmt_hhmm(d0), delivery_latest=fmt_hhmm(d1))
        rows.append(row)
    return pd.DataFrame(rows, columns=[*ERRAND_COLUMNS, "illustrative"])


def demo_runners(outlets: pd.DataFrame, *, n: int = 8, seed: int = 0,
                 modes: tuple[str, ...] = ("walk", "ebike", "drive")) -> pd.DataFrame:
    """Illustrative runners spread over the outlets, mixed modes, some with a lunch break.

    Parameters
    ----------
    outlets
        ``id, name, lon, lat``: bases.
    n
        Number of runners.
    seed
        Random seed.
    modes
        Modes to draw from (those the region's network has).

    Returns
    -------
    pandas.DataFrame
        Runners table in the input format, ``illustrative`` = ``yes``.
    """
    rng = np.random.default_rng(seed + 1)
    p_mode = {"walk": 0.2, "ebike": 0.55, "drive": 0.25}
    ms = [m for m in modes if m in p_mode] or ["walk"]
    pw = np.array([p_mode[m] for m in ms])
    rows = []
    for i in range(n):
        base = outlets["id"].iloc[i % len(outlets)]
        early = rng.random() < 0.5
        skills = sorted(set(rng.choice(DEMO_SKILLS, size=int(rng.integers(1, 3)))))
        row = dict.fromkeys(RUNNER_COLUMNS, "")
        row.update(id=f"R{i + 1:02d}", name=f"示例跑手{i + 1:02d}", base_outlet_id=str(base),
                   shift_start="08:30" if early else "09:00",
                   shift_end="17:30" if early else "18:00",
                   mode=str(rng.choice(ms, p=pw / pw.sum())), skills=";".join(skills),
                   max_errands=str(int(rng.integers(8, 15))), illustrative="yes")
        if rng.random() < 0.7:
            row.update(break_start="11:30", break_end="13:30", break_minutes="45")
        rows.append(row)
    return pd.DataFrame(rows, columns=[*RUNNER_COLUMNS, "illustrative"])
