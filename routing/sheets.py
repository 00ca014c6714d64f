"""Route sheets per runner: phone-friendly HTML and print-ready PDF (WeasyPrint, CJK font)."""

from __future__ import annotations

import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gis.io import atomic_path

from .plan import DayPlan, RunnerRoute
from .svgmap import route_svg
from .tables import fmt_hhmm

__all__ = ["render_sheet_html", "write_sheets", "MODE_LABEL", "ROLE_LABEL"]

log = logging.getLogger(__name__)

MODE_LABEL = {"walk": "步行 walk", "ebike": "电动车 e-bike", "drive": "汽车 car"}
ROLE_LABEL = {"pickup": "取件 Pickup", "delivery": "送达 Delivery", "visit": "上门 Home visit"}
_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


def render_sheet_html(plan: DayPlan, route: RunnerRoute) -> str:
    """HTML of one runner's sheet (bilingual labels, inline SVG map, masked phones)."""
    svg = route_svg((route.base_lon, route.base_lat),
                    [(s.lon, s.lat, s.role) for s in route.stops])
    return _ENV.get_template("sheet.html.j2").render(
        r=route, date=plan.date.isoformat(), region=plan.region, svg=svg,
        mode_label=MODE_LABEL.get(route.mode, route.mode), role_label=ROLE_LABEL,
        hhmm=fmt_hhmm, illustrative=plan.illustrative or route.illustrative,
    )


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name) or "runner"


def write_sheets(plan: DayPlan, folder: str | Path, *, pdf: bool = True,
                 only_used: bool = False) -> list[Path]:
    """Write ``<runner_id>.html`` (and ``.pdf``) per runner, atomically.

    Parameters
    ----------
    plan
        The validated plan.
    folder
        Output folder (created).
    pdf
        Also render PDFs with WeasyPrint.
    only_used
        Skip runners without stops.

    Returns
    -------
    list of Path
        Files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for route in plan.routes:
        if only_used and not route.stops:
            continue
        html = render_sheet_html(plan, route)
        stem = _safe(route.runner_id)
        target = folder / f"{stem}.html"
        with atomic_path(target) as tmp:
            tmp.write_text(html, encoding="utf-8")
        written.append(target)
        if pdf:
            from weasyprint import HTML  # heavy import, only when writing PDFs

            target = folder / f"{stem}.pdf"
            with atomic_path(target) as tmp:
                HTML(string=html, base_url=str(folder)).write_pdf(str(tmp))
            written.append(target)
    log.info("wrote %d sheet files to %s", len(written), folder)
    return written
