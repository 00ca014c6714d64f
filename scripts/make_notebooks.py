"""Write the notebooks in notebooks/ from the cell sources below (outputs stripped).

    python scripts/make_notebooks.py

Notebooks call only the public API; no logic lives in them. Edit the cells here, not in Jupyter,
so the notebooks stay reviewable and free of outputs in git.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parents[1] / "notebooks"

SETUP = """\
import os
from pathlib import Path

# run from the repository root (the test suite does); outputs go to $BIANMIN_OUT or out/
ROOT = Path.cwd() if (Path.cwd() / "data").exists() else Path.cwd().parent
OUT = Path(os.environ.get("BIANMIN_OUT", ROOT / "out"))
REGION = ROOT / "data" / "chengdu"
"""

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {
    "01_coverage.ipynb": [
        ("markdown", "# 01 · Coverage: who lives inside the 15/30-minute circle\n\n"
         "Load the bundled North-east Chengdu region (real OpenStreetMap data, © OpenStreetMap "
         "contributors), compute the time from every demand point to its nearest outlet, and "
         "read the per-area table. The population is a **proxy** built from OSM."),
        ("code", SETUP),
        ("code", "from gis import load_region, coverage_of_region\n\n"
         "region = load_region(REGION)\nprint(region.summary())\n"
         "region.settings.circles"),
        ("code", "result = coverage_of_region(region)\nprint(result.summary())\n"
         "result.areas.sort_values('coverage_rate')"),
        ("markdown", "The uncovered points are the gaps the siting notebook tries to close."),
        ("code", "gaps = result.uncovered\n"
         "print(len(gaps), 'demand points outside their circle,',"
         " int(gaps['population'].sum()), 'people')\n"
         "gaps.sort_values('population', ascending=False).head()"),
        ("code", "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n\n"
         "areas = region.areas.merge(result.areas[['area_id', 'coverage_rate']],"
         " left_on='id', right_on='area_id')\n"
         "ax = areas.plot(column='coverage_rate', cmap='RdYlGn', vmin=0, vmax=1, legend=True,"
         " edgecolor='grey', figsize=(7, 7))\n"
         "region.outlets.plot(ax=ax, color='black', markersize=12)\n"
         "ax.set_title('Share of people inside their circle (population proxy)')\n"
         "OUT.mkdir(parents=True, exist_ok=True)\n"
         "plt.savefig(OUT / 'coverage.png', dpi=80)"),
        ("markdown", "The same on the command line: `bianmin coverage --region data/chengdu "
         "--out out` writes `out/coverage/points.csv`, `areas.csv` and `coverage.gpkg`."),
    ],
}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        for i, (kind, src) in enumerate(cells):
            cell = (nbformat.v4.new_markdown_cell(src) if kind == "markdown"
                    else nbformat.v4.new_code_cell(src))
            cell["id"] = f"{Path(name).stem}-{i:02d}"  # stable ids: clean diffs
            nb.cells.append(cell)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
