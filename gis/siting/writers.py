"""Writers for a siting plan: the chosen sites, the coverage curve, the areas before/after."""

from __future__ import annotations

import os
from pathlib import Path

from ..io import write_csv
from .plan import SitingPlan

__all__ = ["write_siting"]


def write_siting(plan: SitingPlan, folder: str | os.PathLike) -> dict[str, Path]:
    """Write ``chosen.csv``, ``curve.csv`` and ``areas_after.csv`` into ``folder`` (created).

    Parameters
    ----------
    plan
        The siting plan.
    folder
        Destination folder; usually a staging folder (see :mod:`gis.outdir`).

    Returns
    -------
    dict
        ``chosen``, ``curve``, ``areas`` -> path written.
    """
    d = Path(folder)
    return {
        "chosen": write_csv(plan.chosen, d / "chosen.csv"),
        "curve": write_csv(plan.curve[plan.curve_columns], d / "curve.csv"),
        "areas": write_csv(plan.areas, d / "areas_after.csv"),
    }
