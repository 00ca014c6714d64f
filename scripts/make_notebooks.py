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
    "02_siting.ipynb": [
        ("markdown", "# 02 · Siting: which sites close the gaps best\n\n"
         "Candidates (here the region's banks; post offices and carrier shops in your own "
         "region), cover sets on the road network, and OR-Tools maximal-coverage models. "
         "Existing outlets are kept. The population is a proxy."),
        ("code", SETUP),
        ("code", "from gis import load_region\nfrom gis.siting.plan import plan_sites\n"
         "from gis.siting import SolveParams\n\n"
         "region = load_region(REGION)\n"
         "plan = plan_sites(region, add=5, params=SolveParams(time_limit_s=30, seed=0))\n"
         "print(plan.summary())"),
        ("markdown", "The candidates considered, with their costs (delegating a post office "
         "costs less than building a station):"),
        ("code", "plan.candidates.head(10)"),
        ("markdown", "## The budget curve\nEach point is solved to optimality for that many "
         "new sites: where the curve flattens, another site buys little."),
        ("code", "plan.curve"),
        ("code", "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n\n"
         "ax = plan.curve.plot(x='sites', y='coverage_rate', marker='o', legend=False)\n"
         "ax.set_xlabel('new sites'); ax.set_ylabel('share of people inside their circle')\n"
         "OUT.mkdir(parents=True, exist_ok=True)\nplt.savefig(OUT / 'siting_curve.png', dpi=80)"),
        ("markdown", "## Before and after, per area"),
        ("code", "plan.areas.sort_values('gain', ascending=False).head(8)"),
        ("code", "plan.chosen  # what `bianmin site --add 5` writes to OUT/siting/chosen.csv"),
    ],
    "03_service_map.ipynb": [
        ("markdown", "# 03 · The published service map (政务服务地图)\n\n"
         "Circles from the road network, then an offline map folder: outlets with popups, "
         "circles, uncovered population, areas by coverage rate, search, locate-me, legend. "
         "© OpenStreetMap contributors."),
        ("code", SETUP),
        ("code", "from gis import load_region, coverage_of_region\n"
         "from gis.circles import circles_of_region\n"
         "from maps import MapOptions, write_map\n\n"
         "region = load_region(REGION)\ncoverage = coverage_of_region(region)\n"
         "circles = circles_of_region(region)\ncircles"),
        ("markdown", "Build and save the map with no tile server at all (`tiles='none'` draws "
         "the region's own roads), in Chinese:"),
        ("code", "sm = write_map(region, coverage, circles, OUT / 'nb_map_none',"
         " options=MapOptions(tiles='none', lang='zh'))\nprint(sm.summary())\n"
         "sorted(p.name for p in (OUT / 'nb_map_none' / 'map').iterdir())"),
        ("markdown", "Switch the base map: Amap (高德) tiles are GCJ-02, so every overlay is "
         "shifted; Tianditu (天地图) needs a key (`TIANDITU_KEY`). Here in English on Amap:"),
        ("code", "sm_amap = write_map(region, coverage, circles, OUT / 'nb_map_amap',"
         " options=MapOptions(tiles='amap', lang='en'))\nprint(sm_amap.summary())"),
        ("markdown", "Open `index.html` inside the folder in a browser; it works from disk."),
    ],
    "04_runner_routes.ipynb": [
        ("markdown", "# 04 · Runner routes for the morning\n\n"
         "Illustrative errands and runners (no real people), travel times from the road "
         "network per mode, OR-Tools routing with pickup-and-delivery, time windows, shifts, "
         "breaks and skills, an independent check, then the sheets."),
        ("code", SETUP),
        ("code", "import datetime as dt\n"
         "from gis import load_region\n"
         "from routing import plan_region_routes, write_routes\n\n"
         "region = load_region(REGION)"),
        ("markdown", "One call: the region's errands and runners (here illustrative ones, drawn "
         "from the population), checked against its outlets, planned on its road network "
         "within the time limit."),
        ("code", "plan = plan_region_routes(region, day=dt.date(2026, 12, 1), time_limit=5,\n"
         "                          seed=1, n_errands=30, n_runners=5)\nprint(plan.summary())"),
        ("markdown", "The independent check recomputed every route from the matrix:"),
        ("code", "plan.check.summary()"),
        ("code", "files = write_routes(plan, OUT / 'nb_routes')\n"
         "sorted(p.name for p in (OUT / 'nb_routes' / 'sheets').iterdir())[:6]"),
        ("markdown", "Each runner's sheet (HTML for the phone, PDF to print) shows the stops "
         "in order with windows, what to carry, the contact with the phone partly masked, "
         "and a box to sign."),
        ("code", "from IPython.display import HTML\n"
         "first = sorted((OUT / 'nb_routes' / 'sheets').glob('*.html'))[0]\n"
         "HTML(first.read_text(encoding='utf-8')[:3000])"),
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
