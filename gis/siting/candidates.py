"""Candidate sites: existing places of chosen kinds, optionally a regular grid of network
nodes, each with a cost; existing outlets are required unless re-planning from scratch.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gis.errors import InputError, InputProblem
from gis.io import read_toml

__all__ = ["CostTable", "DEFAULT_COSTS", "CANDIDATE_COLUMNS", "build_candidates",
           "grid_candidates"]

log = logging.getLogger(__name__)

#: Relative cost of opening a site of each kind (1 = delegating services to a post office).
DEFAULT_COSTS: dict[str, float] = {
    "post_office": 1.0,
    "carrier_shop": 1.0,
    "bank": 1.5,
    "community_station": 2.0,
    "other": 2.0,
    "township_centre": 5.0,
    "new_station": 5.0,
    "service_hall": 10.0,
}

CANDIDATE_COLUMNS = ["site_id", "name", "kind", "lon", "lat", "address", "cost", "capacity",
                     "required", "forbidden", "source"]


@dataclass(frozen=True)
class CostTable:
    """Cost per kind of site; a ``cost`` column on a row overrides its kind's cost."""

    costs: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_COSTS))
    default: float = 2.0

    def __post_init__(self) -> None:
        bad = [f"{k}={v}" for k, v in self.costs.items() if not (np.isfinite(v) and v >= 0)]
        if bad or not self.default >= 0:
            raise ValueError(f"Expected costs >= 0, got {', '.join(bad) or self.default}.")

    @classmethod
    def from_file(cls, path: str | Path) -> CostTable:
        """Read ``[siting.costs]`` (kind = cost) from a TOML file."""
        data = read_toml(path, what="costs file")  # missing, a folder, bad TOML: InputError
        siting = data.get("siting", {})
        table = siting.get("costs", data.get("costs", {})) if isinstance(siting, dict) else None
        if not isinstance(table, dict):
            raise InputError(InputProblem(str(path), None, None, "key 'siting.costs': expected a "
                                          "table of kind = cost"))
        bad = [InputProblem(str(path), None, None, f"key 'siting.costs.{k}': expected a number "
                            f"in [0, 1e9], got {v!r}") for k, v in table.items()
               if isinstance(v, bool) or not isinstance(v, int | float)
               or not 0 <= v <= 1e9]  # NaN fails the bound too
        if bad:
            raise InputError(bad)
        return cls({**DEFAULT_COSTS, **{str(k): float(v) for k, v in table.items()}})

    def of(self, kinds: pd.Series) -> np.ndarray:
        """Cost per row from its kind."""
        return kinds.map(lambda k: self.costs.get(k, self.default)).to_numpy(dtype=float)


def grid_candidates(network, *, spacing_m: float, mode: str) -> pd.DataFrame:
    """One network node per ``spacing_m`` square cell: the node nearest the cell centre.

    Returns a table with ``site_id`` ``G00001``…, ``kind`` ``new_station``, ``lon``, ``lat``
    and ``node``.
    """
    if not spacing_m > 0:
        raise ValueError(f"`spacing_m` must be > 0, got {spacing_m}.")
    idx = np.flatnonzero(network.nodes_in(mode))
    x, y = network.x[idx], network.y[idx]
    cx = np.floor((x - x.min()) / spacing_m).astype(np.int64)
    cy = np.floor((y - y.min()) / spacing_m).astype(np.int64)
    d = np.hypot(x - (x.min() + (cx + 0.5) * spacing_m), y - (y.min() + (cy + 0.5) * spacing_m))
    cell = cx * (cy.max() + 1) + cy
    order = np.lexsort((d, cell))
    first = np.ones(len(order), dtype=bool)
    first[1:] = cell[order][1:] != cell[order][:-1]
    pick = idx[order[first]]
    return pd.DataFrame({
        "site_id": [f"G{i + 1:05d}" for i in range(len(pick))],
        "name": [f"新站点候选 grid {i + 1}" for i in range(len(pick))],
        "kind": "new_station", "lon": network.lon[pick], "lat": network.lat[pick],
        "node": pick,
    })


def _table(df: pd.DataFrame | None, source: str) -> pd.DataFrame:
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=["site_id", "name", "kind", "lon", "lat", "address",
                                     "source"])
    out = pd.DataFrame({
        "site_id": df["site_id" if "site_id" in df else "id"].astype(str).to_numpy(),
        "name": df["name"].astype(str).to_numpy() if "name" in df else "",
        "kind": df["kind"].astype(str).to_numpy() if "kind" in df else "other",
        "lon": df["lon"].to_numpy(dtype=float), "lat": df["lat"].to_numpy(dtype=float),
        "address": (df["address"].fillna("").astype(str).str.strip().to_numpy()
                    if "address" in df else ""),
    })
    for col in ("cost", "capacity"):
        if col in df:
            out[col] = pd.to_numeric(df[col], errors="coerce").to_numpy()
    out["source"] = source
    return out


def build_candidates(existing: pd.DataFrame | None, candidates: pd.DataFrame | None = None, *,
                     kinds: Collection[str] | None = None, replan: bool = False,
                     grid: pd.DataFrame | None = None, costs: CostTable | None = None,
                     forbid: Collection[str] = (), require: Collection[str] = ()) -> pd.DataFrame:
    """The candidate table a siting model runs on.

    Parameters
    ----------
    existing
        Existing outlets (``id, name, kind, lon, lat`` [, ``cost``, ``capacity``]). They are
        required (kept, free) unless ``replan``; then they compete like any candidate.
    candidates
        Places that could become outlets (a region's candidates file, any outlet file).
    kinds
        Keep only candidates of these kinds (existing outlets are kept regardless unless
        ``replan``); ``None`` keeps all.
    replan
        Plan from scratch: existing outlets are ordinary candidates.
    grid
        Extra new-station sites, e.g. from :func:`grid_candidates`.
    costs
        Cost per kind; a row's own ``cost`` wins.
    forbid, require
        Site ids that may not be chosen / must be kept.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CANDIDATE_COLUMNS`; existing outlets first.
    """
    costs = costs or CostTable()
    ex = _table(existing, "existing")
    ca = _table(candidates, "candidate")
    gr = _table(grid, "grid")
    if kinds is not None:
        kinds = set(kinds)
        ca = ca[ca["kind"].isin(kinds)]
        gr = gr[gr["kind"].isin(kinds | {"new_station"})]
        if replan:
            ex = ex[ex["kind"].isin(kinds)]
    parts = [p for p in (ex, ca, gr) if len(p)]
    table = (pd.concat(parts, ignore_index=True) if parts
             else pd.DataFrame(columns=["site_id", "name", "kind", "lon", "lat", "address",
                                        "source"]))
    problems = []
    dup = table["site_id"].duplicated(keep="first")
    for sid in table.loc[dup, "site_id"]:
        problems.append(InputProblem("candidates", None, "site_id",
                                f"site id {sid!r} appears in more than one table"))
    known = set(table["site_id"])
    for name, ids in (("--forbid", forbid), ("--require", require)):
        for sid in ids:
            if sid not in known:
                problems.append(InputProblem(name, None, None, f"unknown site id {sid!r}"))
    both = set(forbid) & set(require)
    if both:
        problems.append(InputProblem("--forbid/--require", None, None,
                                f"sites both forbidden and required: {sorted(both)}"))
    if problems:
        raise InputError(problems)
    own = table["cost"] if "cost" in table else pd.Series(np.nan, index=table.index)
    table["cost"] = np.where(own.notna(), own, costs.of(table["kind"]))
    cap = table["capacity"] if "capacity" in table else pd.Series(np.nan, index=table.index)
    table["capacity"] = cap.fillna(np.inf).to_numpy(dtype=float)
    table["required"] = ((table["source"] == "existing") & (not replan)) | table["site_id"].isin(
        set(require))
    table["forbidden"] = table["site_id"].isin(set(forbid))
    log.info("candidates: %d existing kept, %d free, %d forbidden", int(table["required"].sum()),
             int((~table["required"] & ~table["forbidden"]).sum()), int(table["forbidden"].sum()))
    return table[CANDIDATE_COLUMNS].reset_index(drop=True)
