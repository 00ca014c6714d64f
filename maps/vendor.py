"""Vendored JavaScript/CSS for the offline map, and the check that nothing else is loaded.

folium loads Leaflet, jQuery, Bootstrap, Font Awesome and every plugin from CDNs by default; on a
government intranet (and on these machines) that fails. The few files the service map really
uses are shipped in ``maps/assets/`` (sources and licences in ``maps/assets/LICENSES.md``), their
URLs are rewritten to ``assets/...`` and copied beside ``index.html``. After rendering, every
``http(s)://`` address left in the page must be the chosen tile server or a plain link (the
attribution); anything else fails the build with :class:`MapBuildError`.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from gis.errors import BianminError

__all__ = ["ASSET_DIR", "MapBuildError", "localise", "copy_assets", "check_offline",
           "LEAFLET_JS", "LEAFLET_CSS", "PLUGIN_FILES"]

#: Where the vendored files live in the package.
ASSET_DIR = Path(__file__).with_name("assets")

LEAFLET_JS = [("leaflet", "assets/leaflet/leaflet.js")]
LEAFLET_CSS = [("leaflet_css", "assets/leaflet/leaflet.css"),
               ("bianmin_css", "assets/bianmin.css")]

#: folium plugin class name → (default_js, default_css) pointing into ``assets/``.
PLUGIN_FILES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "Search": ([("Leaflet.Search.js", "assets/leaflet-search/dist/leaflet-search.min.js")],
               [("Leaflet.Search.css", "assets/leaflet-search/dist/leaflet-search.min.css")]),
    "Fullscreen": ([("Control.Fullscreen.js", "assets/fullscreen/Control.FullScreen.js")],
                   [("Control.FullScreen.css", "assets/fullscreen/Control.FullScreen.css")]),
    "LocateControl": ([("Control_locate_min_js", "assets/locate/L.Control.Locate.min.js")],
                      [("Control_locate_min_css", "assets/locate/L.Control.Locate.min.css")]),
}

#: Addresses a page may contain without loading them: links and XML namespaces.
_LINK_ONLY = (
    "http://www.w3.org/2000/svg",
    "https://www.openstreetmap.org/copyright",
    "https://leafletjs.com",
    "https://www.tianditu.gov.cn",
    "https://www.amap.com",
)

_URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.\-{}]+\.[A-Za-z]{2,}[^\s"'<>)\\]*""")


class MapBuildError(BianminError):
    """The map could not be built as a self-contained offline folder."""


def localise(element: object) -> None:
    """Point a folium element's (or plugin's) JS/CSS at the vendored copies.

    Raises
    ------
    MapBuildError
        If the element loads files from a CDN and no vendored copy is known.
    """
    name = type(element).__name__
    js = list(getattr(element, "default_js", []) or [])
    css = list(getattr(element, "default_css", []) or [])
    if not js and not css:
        return
    if name in PLUGIN_FILES:
        element.default_js, element.default_css = PLUGIN_FILES[name]  # type: ignore[attr-defined]
        return
    remote = [u for _, u in js + css if "//" in u]
    if remote:
        raise MapBuildError(f"{name} loads {remote[0]} from the internet and no vendored copy "
                            "is shipped in maps/assets/")


def copy_assets(dest: Path) -> Path:
    """Copy the vendored files to ``dest/assets`` (licences included)."""
    target = dest / "assets"
    shutil.copytree(ASSET_DIR, target, dirs_exist_ok=True)
    return target


def check_offline(html: str, *, allowed_hosts: tuple[str, ...] = ()) -> None:
    """Fail when the page would load anything from outside its own folder.

    Parameters
    ----------
    html
        The rendered page.
    allowed_hosts
        Host names the page may request (the chosen tile server), e.g. ``("tianditu.gov.cn",)``;
        a sub-domain of an allowed host is allowed.

    Raises
    ------
    MapBuildError
        Naming the first address that is neither allowed nor a plain link.
    """
    bad: list[str] = []
    for m in _URL.finditer(html):
        url = m.group(0)
        full = url if url.startswith("http") else "https:" + url
        if full.startswith(_LINK_ONLY):
            continue
        host = re.sub(r"^https?://", "", full).split("/")[0].split(":")[0].lower()
        host = host.replace("{s}", "a")
        if any(host == h or host.endswith("." + h) for h in allowed_hosts):
            continue
        bad.append(url)
    if bad:
        raise MapBuildError(f"the page would load {bad[0]} from the internet ({len(bad)} such "
                            "address(es)); vendor it under maps/assets/ or drop it")
