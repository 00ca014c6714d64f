"""Partitions as Dask tasks on a LocalCluster of 2 worker processes; a killed worker is retried."""

from __future__ import annotations

import functools
import os
import sys

import cloudpickle
import pytest

from gis.coverage import coverage_of_region
from gis.partition import partitioned_coverage, run_piece_file
from gis.partition_dask import dask_client, dask_mapper
from gis.region import load_region
from gis.synthetic import province
from tests.test_partition import frames_equal

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import tests/


def die_once(path: str, *, marker: str):
    """Kill this worker process the first time any piece runs; later runs are normal."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return run_piece_file(path)
    os.close(fd)
    os._exit(1)


@pytest.fixture(scope="module")
def client():
    """One LocalCluster (2 processes, 1 thread each) for the module."""
    with dask_client("local", workers=2) as c:
        yield c


def test_province_with_a_killed_worker(client, tmp_path):
    """A worker dies mid-run; Dask reruns its piece elsewhere and the tables equal the whole."""
    reg = province(4, 400, 100, seed=3)
    marker = tmp_path / "killed"
    task = functools.partial(die_once, marker=str(marker))
    res = partitioned_coverage(reg, "county", mapper=dask_mapper(client), task=task,
                               workdir=tmp_path)
    assert marker.exists()  # a worker really was killed
    frames_equal(res, coverage_of_region(reg))


def test_chengdu_by_area_on_dask(client, tmp_path):
    """Chengdu, one partition per area, as Dask tasks: equal to the whole-region run."""
    reg = load_region("data/chengdu")
    res = partitioned_coverage(reg, "id", mapper=dask_mapper(client), workdir=tmp_path)
    frames_equal(res, coverage_of_region(reg))


def test_spills_planned_by_the_tasks(client, tmp_path, monkeypatch):
    """The driver never computes a spill region: the tasks plan and write the spill specs."""
    import gis.partition_spill as ps

    def refuse(*args, **kwargs):
        raise AssertionError("the driver planned a spill region")

    monkeypatch.setattr(ps, "spill_region", refuse)
    monkeypatch.setattr(ps, "plan_spills", refuse)
    reg = province(4, 2000, 300, seed=3)
    inner = dask_mapper(client)
    seen: list = []

    def mapper(fn, paths):
        for r in inner(fn, paths):
            seen.append((r.key, r.spill_specs))
            yield r

    res = partitioned_coverage(reg, "county", mapper=mapper, workdir=tmp_path)
    frames_equal(res, coverage_of_region(reg))
    spills = [k for k, _ in seen if k.endswith("+exact")]
    assert len(spills) == 4  # one exact spill piece per county, run after their round 1
    assert sum(len(s) for k, s in seen if "+" not in k) == 4  # written by the round-1 tasks
