"""Tap-to-navigate links, call links and QR codes for the stops on a runner's sheet.

* Amap (高德): ``https://uri.amap.com/navigation`` with the destination in GCJ-02
  (``coordinate=gaode``), the runner's mode, ``callnative=1`` (opens the app if installed, else
  the web page). The QR code on the printed sheet opens this link.
* Baidu (百度): ``https://api.map.baidu.com/marker`` with the point in BD-09
  (``coord_type=bd09ll``); its page has the 到这去 (go there) button.
* Call: ``tel:`` with the full number; the sheet shows the number masked (see docs/routing.md
  "Runner sheets": the runner must be able to call the citizen, without reading the number off
  a printed page).

The links carry the stop's number and errand id as its label, never the citizen's name or
address. Coordinates are converted by :mod:`gis.coords`; QR codes are drawn by ``segno`` as SVG
and embedded as ``data:`` URLs (WeasyPrint loads nothing else).
"""

from __future__ import annotations

import base64
import io
from urllib.parse import quote, urlencode

import segno

from gis.coords import gcj02_to_bd09, wgs84_to_gcj02

__all__ = ["amap_url", "baidu_url", "tel_url", "qr_data_url", "AMAP_MODE", "BAIDU_MODE"]

#: The runner's mode -> Amap's navigation mode.
AMAP_MODE = {"walk": "walk", "ebike": "ride", "drive": "car"}
#: The runner's mode -> Baidu's mode (shown on its marker page's directions).
BAIDU_MODE = {"walk": "walking", "ebike": "riding", "drive": "driving"}


def _gcj(lon: float, lat: float) -> tuple[float, float]:
    glon, glat = wgs84_to_gcj02(lon, lat)
    return float(glon), float(glat)


def amap_url(lon: float, lat: float, label: str, mode: str = "walk") -> str:
    """Amap navigation to a WGS-84 point (sent in GCJ-02), from where the phone is."""
    glon, glat = _gcj(lon, lat)
    query = urlencode({"to": f"{glon:.6f},{glat:.6f},{label}", "mode": AMAP_MODE.get(mode, "car"),
                       "coordinate": "gaode", "callnative": "1", "src": "bianmin"},
                      quote_via=quote, safe=",")
    return f"https://uri.amap.com/navigation?{query}"


def baidu_url(lon: float, lat: float, label: str, mode: str = "walk") -> str:
    """Baidu map marker at a WGS-84 point (sent in BD-09), whose page starts navigation."""
    blon, blat = gcj02_to_bd09(*_gcj(lon, lat))
    query = urlencode({"location": f"{float(blat):.6f},{float(blon):.6f}", "title": label,
                       "content": label, "coord_type": "bd09ll", "output": "html",
                       "mode": BAIDU_MODE.get(mode, "driving"), "src": "bianmin"},
                      quote_via=quote, safe=",")
    return f"https://api.map.baidu.com/marker?{query}"


def tel_url(phone: str) -> str:
    """``tel:`` link of a phone number (its digits and a leading ``+``), or ``""`` if none."""
    text = str(phone).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) < 3:
        return ""
    return f"tel:{'+' if text.startswith('+') else ''}{digits}"


def qr_data_url(text: str, *, scale: int = 2) -> str:
    """A QR code of ``text`` (error correction M) as an SVG ``data:`` URL."""
    qr = segno.make(text, error="m", micro=False, boost_error=False)
    buf = io.BytesIO()
    qr.save(buf, kind="svg", xmldecl=False, scale=scale, border=2)  # with its xmlns
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
