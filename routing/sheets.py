"""Route sheets per runner: phone-friendly HTML and print-ready PDF (WeasyPrint, CJK font).

Every text from the errands and runners files is HTML-escaped (Jinja autoescape is on for every
template, whatever its name); WeasyPrint fetches nothing but inline ``data:`` URLs. File names
and workbook sheet names come from :func:`sheet_names`: one per runner, never two alike (also
not on a case-insensitive disk), safe on Windows, macOS and Linux.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

from jinja2 import Environment, FileSystemLoader

from gis.io import atomic_path

from .navlinks import amap_url, baidu_url, qr_data_url, tel_url
from .plan import DayPlan, PlannedStop, RunnerRoute
from .svgmap import route_svg
from .tables import fmt_hhmm

__all__ = ["render_sheet_html", "write_sheets", "sheet_names", "SheetName", "mask_numbers",
           "stop_links", "StopLinks", "MODE_LABEL", "ROLE_LABEL"]

log = logging.getLogger(__name__)

MODE_LABEL = {"walk": "步行 walk", "ebike": "电动车 e-bike", "drive": "汽车 car"}
ROLE_LABEL = {"pickup": "取件 Pickup", "delivery": "送达 Delivery", "visit": "上门 Home visit"}
_ENV = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                   autoescape=True)


#: A phone, ID-card or account number in free text: 7 or more digits (an ID may end in X).
_LONG_NUMBER = re.compile(r"(?<![0-9])[0-9]{7,}[Xx]?(?![0-9A-Za-z])")


def mask_numbers(text: object) -> str:
    """Mask long digit runs in free text (``13812345678`` → ``138****5678``), like the phones.

    A note or an address that repeats a phone or an ID number would defeat the masked phone
    column; runs shorter than 7 digits (house numbers, times) are left alone.
    """
    def one(m: re.Match) -> str:
        s = m.group()
        if len(s) >= 11:
            return s[:3] + "*" * (len(s) - 7) + s[-4:]
        return "*" * (len(s) - 2) + s[-2:]

    return _LONG_NUMBER.sub(one, str(text))


_ENV.filters["mask"] = mask_numbers


class StopLinks(NamedTuple):
    """A stop's links: Amap and Baidu navigation, the call link, the QR code of the Amap link."""

    amap: str
    baidu: str
    tel: str
    qr: str


def stop_links(stop: PlannedStop, mode: str, *, call: bool = True, qr: bool = False
               ) -> StopLinks:
    """The links of one stop (``tel`` empty when ``call`` is off, ``qr`` empty unless asked)."""
    label = f"{stop.order}. {stop.errand_id}"
    amap = amap_url(stop.lon, stop.lat, label, mode)
    return StopLinks(amap, baidu_url(stop.lon, stop.lat, label, mode),
                     tel_url(stop.contact_phone) if call else "",
                     qr_data_url(amap) if qr else "")


def render_sheet_html(plan: DayPlan, route: RunnerRoute, *, for_print: bool = False,
                      call_links: bool = False) -> str:
    """HTML of one runner's sheet (bilingual labels, inline SVG map, masked phones).

    Parameters
    ----------
    plan, route
        The plan and the runner's route.
    for_print
        The PDF's version: a QR code per stop that opens the Amap navigation, and no call
        links (a printed page cannot call; the PDF then holds no full phone number).
    call_links
        Phone version: each contact's masked number is a ``tel:`` link to the full number.
        Off by default: the runner's sheet then holds no full phone number at all.
    """
    svg = route_svg((route.base_lon, route.base_lat),
                    [(s.lon, s.lat, s.role) for s in route.stops], legs=route.legs)
    links = [stop_links(s, route.mode, call=call_links and not for_print, qr=for_print)
             for s in route.stops]
    return _ENV.get_template("sheet.html.j2").render(
        r=route, date=plan.date.isoformat(), region=plan.region, svg=svg, links=links,
        for_print=for_print, mode_label=MODE_LABEL.get(route.mode, route.mode),
        role_label=ROLE_LABEL, hhmm=fmt_hhmm, illustrative=plan.illustrative or route.illustrative,
    )


#: Names Windows refuses for a file, whatever the extension.
_WINDOWS_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                               *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))})
_MAX_STEM = 64  # characters (a CJK id stays far below 255 bytes with its extension)
_MAX_TITLE = 31  # Excel's limit for a sheet name
#: The dispatcher's ledger sheet in ``routes.xlsx``.
LEDGER_TITLE = "台账 Ledger"
#: Sheet names a runner's sheet may not take (Excel reserves "History"; ours: the summary and
#: the ledger).
RESERVED_TITLES = ("汇总 Summary", "History", LEDGER_TITLE)


class SheetName(NamedTuple):
    """A runner's file stem (``<stem>.html``, ``<stem>.pdf``) and workbook sheet name."""

    stem: str
    title: str


def _hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _clean(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)


def _key(name: str) -> str:
    """How a case-insensitive, normalising disk (Windows, macOS) or Excel compares names."""
    return unicodedata.normalize("NFKC", name).casefold()


def _is_safe(rid: str) -> bool:
    return (0 < len(rid) <= _MAX_STEM and rid == _clean(rid) and rid[0].isalnum()
            and rid.isprintable() and rid.upper() not in _WINDOWS_RESERVED
            and unicodedata.is_normalized("NFC", rid))


def _hashed(rid: str, limit: int) -> str:
    prefix = _clean(rid)[:limit - 9].strip("_-") or "runner"
    return f"{prefix}-{_hash(rid)}"


def _unique(ids: list[str], first: dict[str, str], limit: int, taken: set[str]) -> dict[str, str]:
    names = dict(first)
    for _ in range(3):
        seen: dict[str, list[str]] = {}
        for rid in ids:
            seen.setdefault(_key(names[rid]), []).append(rid)
        clash = {rid for k, group in seen.items() if len(group) > 1 or k in taken
                 for rid in group}
        if not clash:
            return names
        for rid in clash:
            names[rid] = _hashed(rid if names[rid] != _hashed(rid, limit) else rid + "\0", limit)
    raise ValueError("could not give every runner a distinct sheet name")


def sheet_names(runner_ids: list[str]) -> dict[str, SheetName]:
    """A file stem and a workbook sheet name per runner id, each distinct from the others.

    An id that is a safe file name (letters, digits, ``-`` and ``_``, at most 64 characters,
    starting with a letter or digit, not a Windows device name such as ``CON``) is used as it
    is; any other id, and ids that would clash on a case-insensitive disk, get a cleaned prefix
    and a short hash of the id (``a/b`` → ``a_b-<8 hex>``, which ``a_b`` cannot be). Sheet names
    are the stem when it fits Excel's 31 characters, else a shorter prefix and the same hash.
    """
    ids = list(dict.fromkeys(str(r) for r in runner_ids))
    stems = _unique(ids, {r: r if _is_safe(r) else _hashed(r, _MAX_STEM) for r in ids},
                    _MAX_STEM, set())
    titles = _unique(ids, {r: stems[r] if len(stems[r]) <= _MAX_TITLE
                           else _hashed(r, _MAX_TITLE) for r in ids}, _MAX_TITLE,
                     {_key(t) for t in RESERVED_TITLES})
    return {r: SheetName(stems[r], titles[r]) for r in ids}


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict:
    """WeasyPrint (< 68) URL fetcher that loads nothing but inline ``data:`` URLs."""
    if url.startswith("data:"):
        from weasyprint import default_url_fetcher

        return default_url_fetcher(url)
    raise ValueError(f"route sheets load nothing from outside ({url[:40]!r} refused)")


def _fetcher() -> object:
    """A URL fetcher for WeasyPrint that loads nothing but inline ``data:`` URLs."""
    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint 68 and later
    except ImportError:  # pragma: no cover - older WeasyPrint takes a function
        return _no_fetch
    return URLFetcher(allowed_protocols=("data",), fail_on_errors=False)


def write_sheets(plan: DayPlan, folder: str | Path, *, pdf: bool = True,
                 only_used: bool = False, call_links: bool = False) -> list[Path]:
    """Write ``<stem>.html`` (and ``.pdf``) per runner, atomically (stems: :func:`sheet_names`).

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
    call_links
        Make each masked phone on the HTML sheet a ``tel:`` link to the full number (see
        :func:`render_sheet_html`; the PDF never has them).

    Returns
    -------
    list of Path
        Files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    names = sheet_names([r.runner_id for r in plan.routes])
    for route in plan.routes:
        if only_used and not route.stops:
            continue
        html = render_sheet_html(plan, route, call_links=call_links)
        stem = names[route.runner_id].stem
        target = folder / f"{stem}.html"
        with atomic_path(target) as tmp:
            tmp.write_text(html, encoding="utf-8")
        written.append(target)
        if pdf:
            from weasyprint import HTML  # heavy import, only when writing PDFs

            target = folder / f"{stem}.pdf"
            with atomic_path(target) as tmp:
                HTML(string=render_sheet_html(plan, route, for_print=True),
                     url_fetcher=_fetcher()).write_pdf(str(tmp))
            written.append(target)
    log.info("wrote %d sheet files to %s", len(written), folder)
    return written
