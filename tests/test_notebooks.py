"""Every notebook in notebooks/ runs top to bottom on the bundled regions."""

from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_exist():
    """The four notebooks of the guide are there."""
    names = {p.name for p in NOTEBOOKS}
    assert names >= {"01_coverage.ipynb", "02_siting.ipynb", "03_service_map.ipynb",
                     "04_runner_routes.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    """The notebook executes without error (a failing cell fails the test)."""
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "outputs must be stripped in git"
    monkeypatch.setenv("BIANMIN_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=dict(os.environ))
