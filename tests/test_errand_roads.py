"""Errands beyond max_snap_m of every runner mode's road are refused like outlets (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gis.errors import InputError
from gis.region import load_region
from routing.demo import demo_errands, demo_runners
from routing.region_day import errand_bbox, plan_region_routes, region_outlets

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def chengdu():
    """The bundled default region."""
    return load_region(DATA / "chengdu")


def test_an_errand_far_from_every_road_is_refused_with_its_row(chengdu):
    """A pickup inside the errands' box but ~2 km from the nearest road: row and column named."""
    outlets, bases = region_outlets(chengdu)
    errands = demo_errands(outlets, chengdu.demand, n=4, seed=1)
    runners = demo_runners(bases, n=2, seed=1, modes=tuple(chengdu.network.modes))
    w, s, _e, _n = errand_bbox(chengdu)
    lon, lat = w + 0.002, s + 0.002  # inside the padded box, beyond the extract's roads
    snap = min(chengdu.network.snap([lon], [lat], mode=m).distance_m[0]
               for m in chengdu.network.modes)
    assert snap > chengdu.settings.max_snap_m  # the premise, measured independently
    errands = errands.copy()
    row = 2  # the third data row
    kind = errands.at[row, "kind"]
    col = "delivery" if kind == "hall_to_home" else "pickup"
    errands.at[row, f"{col}_lon"], errands.at[row, f"{col}_lat"] = str(lon), str(lat)
    with pytest.raises(InputError) as err:
        plan_region_routes(chengdu, errands=errands, runners=runners, time_limit=2)
    text = str(err.value)
    assert f"row {row + 1}" in text and f"'{col}_lon'" in text
    assert "from the nearest road any runner uses" in text


def test_errands_near_roads_pass_the_check(chengdu):
    """The demo errands (drawn from demand points near roads) are all accepted."""
    outlets, bases = region_outlets(chengdu)
    errands = demo_errands(outlets, chengdu.demand, n=6, seed=2)
    runners = demo_runners(bases, n=2, seed=2, modes=tuple(chengdu.network.modes))
    plan = plan_region_routes(chengdu, errands=pd.DataFrame(errands), runners=runners,
                              time_limit=3)
    assert plan.check.ok
