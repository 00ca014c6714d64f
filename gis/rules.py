"""The service-circle rule, in one place: which circle a demand point has, and "within it".

:mod:`gis.coverage` (the coverage table), :mod:`gis.circles` (the map's population counts) and
:mod:`gis.siting.coversets` (what siting counts as covered) all ask this module, so that
"covered ⇔ counted on the map ⇔ counted by siting" cannot drift apart.

The rule
--------
* A demand point has the circle of its kind: ``urban`` or ``rural``. The kind comes from the
  area the point lies in (``areas.urban``); the demand table's own ``urban`` column (or a
  城乡分类代码, see :mod:`gis.aliases`), where filled, takes precedence: a township's 镇区 and
  its villages can have different promises. Blank cells fall back to the area.
* Time = walking access leg + network time + walking egress leg, in seconds.
* A point is *within* its circle when its minutes, rounded to two decimals as every table shows
  them, are at most the circle's minutes: ``round(t / 60, 2) <= minutes``. At 15 minutes,
  899.4 s (14.99) and 900.29 s (15.00) are within, 900.6 s (15.01) is not.
* A search that must find every point within the circle therefore runs up to
  :func:`search_limit_s` (``minutes × 60 + ROUND_SLACK_S``), never just ``minutes × 60``; the
  rule above then decides.
* A point further than ``max_snap_m`` from its mode's network is unreachable: never within.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, overload

import numpy as np
import pandas as pd

from .errors import InputError, InputProblem

__all__ = ["ROUND_DECIMALS", "ROUND_SLACK_S", "CircleLike", "shown_minutes", "within_circle",
           "search_limit_s", "snapped", "point_is_urban", "point_circles"]

#: Minutes are shown, and judged, to this many decimals.
ROUND_DECIMALS = 2
#: Seconds past ``minutes × 60`` that still round down to ``minutes`` (0.005 min = 0.3 s).
ROUND_SLACK_S = 0.3


class CircleLike(Protocol):
    """A service circle: ``minutes`` and ``mode`` (:class:`gis.region.Circle`)."""

    @property
    def minutes(self) -> float:
        """The circle's minutes."""

    @property
    def mode(self) -> str:
        """The circle's travel mode."""


def shown_minutes(seconds: np.ndarray) -> np.ndarray:
    """Seconds → minutes as every table shows them (two decimals); NaN stays NaN."""
    return np.round(np.asarray(seconds, dtype=float) / 60.0, ROUND_DECIMALS)


def within_circle(seconds: np.ndarray, minutes: np.ndarray | float) -> np.ndarray:
    """Whether door-to-door ``seconds`` are within a circle of ``minutes`` (bool array).

    ``inf`` or NaN seconds (unreachable) are never within.
    """
    with np.errstate(invalid="ignore"):
        return np.asarray(shown_minutes(seconds) <= np.asarray(minutes, dtype=float))


@overload
def search_limit_s(minutes: float) -> float: ...
@overload
def search_limit_s(minutes: np.ndarray) -> np.ndarray: ...
def search_limit_s(minutes: np.ndarray | float) -> np.ndarray | float:
    """The seconds a bounded search must reach to find every time within ``minutes``."""
    if np.ndim(minutes):
        return np.asarray(minutes, dtype=float) * 60.0 + ROUND_SLACK_S
    return float(minutes) * 60.0 + ROUND_SLACK_S


def snapped(distance_m: np.ndarray, max_snap_m: float) -> np.ndarray:
    """Whether points this far from their network node can use the network at all."""
    return np.asarray(distance_m) <= max_snap_m


def point_is_urban(demand: pd.DataFrame, areas: pd.DataFrame | None, *,
                   flag_column: str | None = "urban", file: str = "demand") -> np.ndarray:
    """Urban (``True``) or rural per demand point.

    Parameters
    ----------
    demand
        Demand points with ``area_id``.
    areas
        Areas with ``id`` and ``urban``; ``None``: every point is urban.
    flag_column
        The per-point urban flag column of ``demand``, used where it is filled (blank cells
        and a missing column fall back to the area's flag); ``"urban"`` by default, so that
        coverage, circles and siting all honour it. ``None``: areas only.
    file
        The demand table's name, for the error message.

    Raises
    ------
    gis.errors.InputError
        A demand point names an area that is not in ``areas`` (and has no flag of its own).
    """
    n = len(demand)
    own = np.full(n, np.nan)
    if flag_column is not None and flag_column in demand:
        col = demand[flag_column]
        filled = col.notna().to_numpy()
        own[filled] = col[filled].astype(bool).to_numpy(dtype=float)
    need = np.isnan(own)
    if areas is None:
        own[need] = 1.0
        return own.astype(bool)
    if need.any():
        pos = pd.Index(areas["id"]).get_indexer(demand["area_id"].to_numpy()[need])
        if (pos < 0).any():
            rows = np.flatnonzero(need)[pos < 0]
            raise InputError([InputProblem(file, int(r) + 1, "area_id",
                                           f"area {demand['area_id'].iloc[r]!r} is not in the "
                                           "areas table") for r in rows])
        own[need] = areas["urban"].to_numpy(dtype=bool)[pos]
    return own.astype(bool)


def point_circles(urban: np.ndarray, circles: Mapping[str, CircleLike]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each point's circle from its kind: ``(minutes, mode)`` arrays."""
    urban = np.asarray(urban, dtype=bool)
    minutes = np.empty(len(urban), dtype=float)
    modes = np.empty(len(urban), dtype=object)
    for kind, circle in circles.items():
        sel = urban if kind == "urban" else ~urban
        minutes[sel] = circle.minutes
        modes[sel] = circle.mode
    return minutes, modes
