"""A small inline SVG map of a route (no tiles: works offline and in print).

The route follows the roads when the legs' road paths are given (plain lon/lat arrays, from
:func:`routing.region_day.road_legs`), else straight dashed lines. The base and every stop get
their own numbered marker: markers that would overlap (two stops at one hall, the base and a
stop on one spot) are spread around their spot and joined to it by a leader line, so no stop
hides another. A legend explains the symbols.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["route_svg", "MARKER_R", "LEGEND_H"]

#: Marker radius (pixels); two markers' centres stay at least ``2 * MARKER_R`` apart.
MARKER_R = 8.0
#: Height of the legend strip under the map (pixels).
LEGEND_H = 36
_PICKUP, _DROP, _BASE, _LINE = "#0b7285", "#2b8a3e", "#d73a49", "#1f6feb"


def _groups(xy: np.ndarray, gap: float) -> list[list[int]]:
    """Points closer than ``gap`` (chained), as lists of indices (single linkage)."""
    n = len(xy)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    for i, j in zip(*np.nonzero(np.triu(d < gap, 1)), strict=True):
        parent[root(int(i))] = root(int(j))
    out: dict[int, list[int]] = {}
    for i in range(n):
        out.setdefault(root(i), []).append(i)
    return list(out.values())


def spread_markers(xy: np.ndarray, *, r: float = MARKER_R, box: tuple[float, float, float, float]
                   ) -> np.ndarray:
    """Marker centres near ``xy`` (pixels) with no two closer than ``2 r``, inside ``box``.

    Groups of markers on (nearly) one spot go on a ring around it in their order; a few
    rounds of pairwise pushing then settle what the rings made collide.
    """
    xy = np.asarray(xy, dtype=float)
    out = xy.copy()
    x0, y0, x1, y1 = box
    for g in _groups(xy, 2 * r):
        if len(g) < 2:
            continue
        cx, cy = xy[g].mean(axis=0)
        ring = max(2 * r, (r + 1) / math.sin(math.pi / len(g)))
        for k, i in enumerate(g):
            a = -math.pi / 2 + 2 * math.pi * k / len(g)
            out[i] = (cx + ring * math.cos(a), cy + ring * math.sin(a))
    need = 2 * r + 0.5
    for _ in range(200):
        out[:, 0] = np.clip(out[:, 0], x0 + r, x1 - r)
        out[:, 1] = np.clip(out[:, 1], y0 + r, y1 - r)
        dx = out[:, None, 0] - out[None, :, 0]
        dy = out[:, None, 1] - out[None, :, 1]
        d = np.hypot(dx, dy)
        np.fill_diagonal(d, np.inf)
        close = d < need
        if not close.any():
            break
        same = d < 1e-6  # exactly on top: push along a fixed, index-dependent direction
        idx = np.arange(len(out))
        ang = (idx[:, None] - idx[None, :]) * 2.399963
        dx = np.where(same, np.cos(ang), dx)
        dy = np.where(same, np.sin(ang), dy)
        d = np.where(same, 1.0, d)
        push = np.where(close, (need - np.minimum(d, need)) / 2 + 0.25, 0.0) / d
        out[:, 0] += (dx * push).sum(axis=1)
        out[:, 1] += (dy * push).sum(axis=1)
    return out


def route_svg(base: tuple[float, float], stops: Sequence[tuple[float, float, str]], *,
              legs: Sequence[np.ndarray] | None = None, width: int = 320, height: int = 220,
              pad: int = 20) -> str:
    """SVG of base -> stops -> base, with a legend strip under the map.

    Parameters
    ----------
    base
        ``(lon, lat)`` of the base.
    stops
        ``(lon, lat, role)`` per stop in order; role ``pickup`` draws a square, else a circle.
    legs
        Road path per leg (``len(stops) + 1`` arrays of ``(k, 2)`` lon/lat); ``None`` draws
        straight dashed lines.
    width, height, pad
        Pixel size of the map (the legend adds :data:`LEGEND_H`) and its margin.

    Returns
    -------
    str
        A standalone ``<svg>`` element (equirectangular, x scaled by cos(latitude)); markers are
        ``<g class="marker base|stop" transform="translate(x,y)">``.
    """
    pts = np.array([base, *[(s[0], s[1]) for s in stops]], dtype=float).reshape(-1, 2)
    lines = [np.asarray(g, dtype=float).reshape(-1, 2) for g in legs] if legs else []
    allxy = np.vstack([pts, *lines]) if lines else pts
    kx = math.cos(math.radians(float(pts[:, 1].mean())))
    xs, ys = allxy[:, 0] * kx, allxy[:, 1]
    scale = min((width - 2 * pad) / max(float(np.ptp(xs)), 1e-4),
                (height - 2 * pad) / max(float(np.ptp(ys)), 1e-4))
    cx, cy = (xs.max() + xs.min()) / 2, (ys.max() + ys.min()) / 2

    def px(lonlat: np.ndarray) -> np.ndarray:
        return np.column_stack([width / 2 + (lonlat[:, 0] * kx - cx) * scale,
                                height / 2 - (lonlat[:, 1] - cy) * scale])

    total_h = height + LEGEND_H
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_h}" '
        f'width="{width}" height="{total_h}" role="img" aria-label="route map" '
        'font-family="Noto Sans CJK SC, Noto Sans SC, sans-serif">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f7f2" stroke="#ccc"/>',
    ]
    if lines:
        for k, line in enumerate(lines):
            pl = " ".join(f"{x:.1f},{y:.1f}" for x, y in px(line))
            parts.append(f'<polyline class="leg" data-leg="{k}" points="{pl}" fill="none" '
                         f'stroke="{_LINE}" stroke-width="2" stroke-linejoin="round" '
                         'opacity="0.8"/>')
    else:
        ring = np.vstack([pts, pts[:1]])
        pl = " ".join(f"{x:.1f},{y:.1f}" for x, y in px(ring))
        parts.append(f'<polyline class="leg" points="{pl}" fill="none" stroke="{_LINE}" '
                     'stroke-width="2" stroke-dasharray="5 3" opacity="0.8"/>')
    true = px(pts)
    shown = spread_markers(true, box=(0, 0, width, height))
    r = MARKER_R
    for (tx, ty), (sx, sy) in zip(true, shown, strict=True):
        if math.hypot(sx - tx, sy - ty) > 1:
            parts.append(f'<line class="leader" x1="{tx:.1f}" y1="{ty:.1f}" x2="{sx:.1f}" '
                         f'y2="{sy:.1f}" stroke="#555" stroke-width="1"/>'
                         f'<circle class="spot" cx="{tx:.1f}" cy="{ty:.1f}" r="2" fill="#555"/>')
    bx, by = shown[0]
    parts.append(f'<g class="marker base" transform="translate({bx:.1f},{by:.1f})">'
                 f'<rect x="{-r}" y="{-r}" width="{2 * r}" height="{2 * r}" fill="{_BASE}" '
                 'stroke="#fff"/><text y="3.5" font-size="10" text-anchor="middle" '
                 'fill="#fff">B</text></g>')
    for i, s in enumerate(stops, start=1):
        x, y = shown[i]
        pickup = s[2] == "pickup"
        shape = (f'<rect x="{-r + 0.5}" y="{-r + 0.5}" width="{2 * r - 1}" height="{2 * r - 1}" '
                 f'fill="{_PICKUP}" stroke="#fff"/>' if pickup else
                 f'<circle r="{r}" fill="{_DROP}" stroke="#fff"/>')
        parts.append(f'<g class="marker stop" data-order="{i}" transform="translate({x:.1f},'
                     f'{y:.1f})">{shape}<text y="3.2" font-size="9" text-anchor="middle" '
                     f'fill="#fff">{escape(str(i))}</text></g>')
    parts.append(_legend(width, height, road=bool(lines)))
    parts.append("</svg>")
    return "".join(parts)


def _legend(width: int, top: int, *, road: bool) -> str:
    """The legend strip: base, pickup, delivery/visit, the route line, a moved marker."""
    y1, y2 = top + 12, top + 28
    dash = "" if road else ' stroke-dasharray="5 3"'
    line = (f'<line x1="4" y1="{y2 - 3}" x2="22" y2="{y2 - 3}" stroke="{_LINE}" '
            f'stroke-width="2"{dash}/>')
    what = "路线（沿道路）Route by road" if road else "路线（直线）Route, straight"
    return (
        f'<g class="legend" font-size="9" fill="#333">'
        f'<rect x="0" y="{top}" width="{width}" height="{LEGEND_H}" fill="#fff"/>'
        f'<rect x="4" y="{y1 - 8}" width="10" height="10" fill="{_BASE}"/>'
        f'<text x="17" y="{y1}">驻点 Base</text>'
        f'<rect x="72" y="{y1 - 8}" width="10" height="10" fill="{_PICKUP}"/>'
        f'<text x="85" y="{y1}">取件 Pickup</text>'
        f'<circle cx="155" cy="{y1 - 3}" r="5" fill="{_DROP}"/>'
        f'<text x="163" y="{y1}">送达·上门 Delivery, visit</text>'
        f'{line}<text x="26" y="{y2}">{what}</text>'
        f'<circle cx="180" cy="{y2 - 3}" r="2" fill="#555"/>'
        f'<line x1="180" y1="{y2 - 3}" x2="192" y2="{y2 - 3}" stroke="#555"/>'
        f'<text x="196" y="{y2}">实际位置 true spot</text></g>'
    )
