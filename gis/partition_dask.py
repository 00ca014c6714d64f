"""Partitions as Dask tasks: a ``dask.distributed`` client over a local or a remote cluster.

:func:`dask_mapper` turns a client into the ``mapper`` of
:func:`gis.partition.partitioned_coverage`: one task per saved piece (``client.map``), each
worker loading only its piece's file, only the per-piece tables travelling back. A worker that
dies mid-task has its task rescheduled by the scheduler on another worker (up to
``distributed.scheduler.allowed-failures`` times); ``retries`` also re-runs a task that raised.

With a remote scheduler (``tcp://host:8786``) the pieces' folder must be on a filesystem the
workers share (``workdir``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .coverage import CoverageResult
from .errors import BianminError
from .items import ItemCoverage, ItemTable
from .partition import PieceResult, partitioned_run, run_piece_file
from .region import Region

if TYPE_CHECKING:
    from .partition_plans import PartitionedPlan
    from .partition_siting import ProvincePlan

__all__ = ["dask_client", "dask_mapper", "dask_partitioned_coverage", "dask_partitioned_run",
           "dask_province", "dask_partitioned_plan"]

log = logging.getLogger(__name__)

#: Seconds to wait for a remote Dask scheduler to answer before giving up with a clear error.
CONNECT_TIMEOUT_S = 10.0


@contextmanager
def dask_client(scheduler: str = "local", workers: int = 2) -> Iterator:
    """A ``distributed.Client`` on a fresh ``LocalCluster`` or a remote scheduler.

    ``"local"``: ``workers`` processes, one thread each; else the scheduler's address, which
    must answer within :data:`CONNECT_TIMEOUT_S` seconds, else :class:`BianminError`
    ("cannot reach the Dask scheduler at ...").
    """
    from distributed import Client, LocalCluster

    if scheduler == "local":
        with LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            yield client
    else:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except OSError as exc:  # refused, unknown host, timed out (TimeoutError is an OSError)
            raise BianminError(f"cannot reach the Dask scheduler at {scheduler} (gave up after "
                               f"{CONNECT_TIMEOUT_S:g} s: {exc}); is it running and reachable "
                               "from here?") from None
        with client:
            yield client


def dask_mapper(client: object, *, retries: int = 2
                ) -> Callable[[Callable[[str], Any], list[str]], Iterable[Any]]:
    """A mapper running each piece as one task on ``client``, yielding results as they finish."""
    from distributed import as_completed

    def mapper(fn: Callable[[str], Any], paths: list[str]) -> Iterator[Any]:
        futures = client.map(fn, paths, pure=False, retries=retries)  # type: ignore[attr-defined]
        for fut in as_completed(futures):
            yield fut.result()
            fut.release()

    return mapper


def dask_partitioned_run(region: Region, by: str, *, items: ItemTable | None = None,
                         scheduler: str = "local", workers: int = 2,
                         task: Callable[[str], PieceResult] = run_piece_file,
                         workdir: str | Path | None = None
                         ) -> tuple[CoverageResult, ItemCoverage | None]:
    """:func:`gis.partition.partitioned_run` with the partitions as Dask tasks."""
    with dask_client(scheduler, workers) as client:
        log.info("dask: %s", client)
        return partitioned_run(region, by, items=items, mapper=dask_mapper(client), task=task,
                               workdir=workdir)


def dask_partitioned_coverage(region: Region, by: str, *, scheduler: str = "local",
                              workers: int = 2,
                              task: Callable[[str], PieceResult] = run_piece_file,
                              workdir: str | Path | None = None) -> CoverageResult:
    """:func:`dask_partitioned_run` without items."""
    return dask_partitioned_run(region, by, scheduler=scheduler, workers=workers, task=task,
                                workdir=workdir)[0]


def dask_province(region: Region, by: str, *, sites: int = 0, delegations: int = 0,
                  scheduler: str = "local", workers: int = 2,
                  workdir: str | Path | None = None
                  ) -> tuple[CoverageResult, ItemCoverage | None, ProvincePlan | None]:
    """Coverage and item coverage by county, and (``sites``/``delegations``) the province
    plan of :func:`gis.partition_siting.province_plan`, on one Dask client.
    """
    from .items import items_of_region
    from .partition_siting import province_plan

    items = items_of_region(region)
    with dask_client(scheduler, workers) as client:
        log.info("dask: %s", client)
        mapper = dask_mapper(client)
        cov, itc = partitioned_run(region, by, items=items, mapper=mapper, workdir=workdir)
        plan = None
        if sites > 0 or delegations > 0:
            plan = province_plan(region, by, sites=sites, delegations=delegations, items=items,
                                 mapper=mapper, workdir=workdir)
    return cov, itc, plan


def dask_partitioned_plan(region: Region, by: str, *, sites: int = 0, delegations: int = 0,
                          candidates: Any = None, scheduler: str = "local", workers: int = 2,
                          workdir: str | Path | None = None) -> PartitionedPlan:
    """``bianmin site`` (``sites``) or ``bianmin delegate`` (``delegations``) partitioned by
    ``by`` on one Dask client (:mod:`gis.partition_plans`).

    Raises
    ------
    gis.errors.InputError
        The areas have no column ``by``, or delegation without an item catalogue.
    """
    from .errors import InputError, InputProblem
    from .items import items_of_region
    from .partition import check_partition_field
    from .partition_plans import partitioned_delegation, partitioned_sites

    check_partition_field(region, by)
    items = None
    if delegations > 0:
        items = items_of_region(region)
        if items is None:
            raise InputError(InputProblem(str(region.path / "region.toml"), None,
                                          "files.items", "delegation needs an item catalogue: "
                                          "add `items = \"items.csv\"` under [files]"))
    with dask_client(scheduler, workers) as client:
        log.info("dask: %s", client)
        mapper = dask_mapper(client)
        if items is not None:
            return partitioned_delegation(region, by, delegations, items, mapper=mapper,
                                          workdir=workdir)
        return partitioned_sites(region, by, sites, candidates=candidates, mapper=mapper,
                                 workdir=workdir)
