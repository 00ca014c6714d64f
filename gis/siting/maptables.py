"""The siting tables a planning map shows, each with one column schema and one reader.

Proposed sites
    ``site_id, name, kind, lon, lat, added_population, rank`` (``bianmin site``'s chosen sites,
    or a planner's own list): :data:`PROPOSAL_SCHEMA`.
Item delegations
    ``outlet_id, item_name`` (+ optional ``rank``): the ``chosen.csv`` of ``bianmin delegate``
    (:data:`gis.siting.delegation_plan.CHOSEN_COLUMNS`): :data:`DELEGATION_SCHEMA`.

Both are checked by :func:`gis.schema.check_table`, so a bad cell is reported with its file,
row and column like every other input; the maps and the CLI ask these functions and check
nothing themselves.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from gis.io import read_table
from gis.schema import Column, check_table

__all__ = ["PROPOSAL_COLUMNS", "PROPOSAL_SCHEMA", "DELEGATION_COLUMNS", "DELEGATION_SCHEMA",
           "check_proposals", "read_proposals", "check_delegation", "read_delegation"]

PROPOSAL_COLUMNS = ["site_id", "name", "kind", "lon", "lat", "added_population", "rank"]
PROPOSAL_SCHEMA = (
    Column("site_id", "id"),
    Column("name", blank_ok=True),
    Column("kind", blank_ok=True),
    Column("lon", "lonlat", lat="lat"),
    Column("added_population", "float", minimum=0),
    Column("rank", "int", minimum=1),
)
#: Columns of ``chosen.csv`` a map needs.
DELEGATION_COLUMNS = ["outlet_id", "item_name"]
DELEGATION_SCHEMA = (
    Column("outlet_id"),
    Column("item_name"),
    Column("rank", "int", required=False, minimum=1),
)


def check_proposals(df: pd.DataFrame, file: str = "proposals") -> pd.DataFrame:
    """Check a proposed-sites table against :data:`PROPOSAL_SCHEMA`; the typed table.

    Parameters
    ----------
    df
        The table (strings as read, or typed values).
    file
        Name used in problem messages.

    Returns
    -------
    pandas.DataFrame
        ``lon``, ``lat``, ``added_population`` as floats, ``rank`` as integers; other columns
        kept.

    Raises
    ------
    gis.errors.InputError
        Every bad cell, named by file, row and column.
    """
    c = check_table(pd.DataFrame(df), file, PROPOSAL_SCHEMA, id_column="site_id")
    c.raise_if_any()
    out = c.frame
    out["rank"] = out["rank"].to_numpy(dtype=float).astype(np.int64)
    return out


def read_proposals(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a proposed-sites file (CSV/XLSX) as :func:`check_proposals`."""
    return check_proposals(read_table(path), str(path))


def check_delegation(df: pd.DataFrame, file: str = "delegation") -> pd.DataFrame:
    """Check an item-delegation table against :data:`DELEGATION_SCHEMA`; the typed table.

    Parameters
    ----------
    df
        The table (``chosen.csv`` of a delegation, as read or in memory).
    file
        Name used in problem messages.

    Raises
    ------
    gis.errors.InputError
        Missing columns or bad cells, named by file, row and column.
    """
    c = check_table(pd.DataFrame(df), file, DELEGATION_SCHEMA, id_column=None)
    c.raise_if_any()
    return c.frame


def read_delegation(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read and check a delegation file (``chosen.csv``) as :func:`check_delegation`."""
    return check_delegation(read_table(path), str(path))
