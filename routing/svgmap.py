"""A small inline SVG map of a route, drawn from lon/lat (no tiles, works offline and in print)."""

from __future__ import annotations

import math
from html import escape

__all__ = ["route_svg"]


def route_svg(base: tuple[float, float], stops: list[tuple[float, float, str]], *,
              width: int = 320, height: int = 220, pad: int = 16) -> str:
    """SVG of base -> stops -> base.

    Parameters
    ----------
    base
        ``(lon, lat)`` of the base.
    stops
        ``(lon, lat, role)`` per stop in order; role ``pickup`` draws a square, else a circle.
    width, height, pad
        Pixel size and margin.

    Returns
    -------
    str
        A standalone ``<svg>`` element (equirectangular, x scaled by cos(latitude)).
    """
    pts = [base, *[(s[0], s[1]) for s in stops]]
    lat0 = sum(p[1] for p in pts) / len(pts)
    kx = math.cos(math.radians(lat0))
    xs = [p[0] * kx for p in pts]
    ys = [p[1] for p in pts]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(width - 2 * pad, height - 2 * pad) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def xy(i: int) -> tuple[float, float]:
        return (width / 2 + (xs[i] - cx) * scale, height / 2 - (ys[i] - cy) * scale)

    path = [xy(i) for i in range(len(pts))] + [xy(0)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in path)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="route map">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f7f7f2" stroke="#ccc"/>',
        f'<polyline points="{line}" fill="none" stroke="#1f6feb" stroke-width="2" '
        'stroke-linejoin="round" opacity="0.8"/>',
    ]
    bx, by = xy(0)
    parts.append(f'<rect x="{bx - 7:.1f}" y="{by - 7:.1f}" width="14" height="14" fill="#d73a49"/>'
                 f'<text x="{bx:.1f}" y="{by + 4:.1f}" font-size="10" text-anchor="middle" '
                 'fill="#fff">B</text>')
    for i, s in enumerate(stops, start=1):
        x, y = xy(i)
        color = "#0b7285" if s[2] == "pickup" else "#2b8a3e"
        shape = (f'<rect x="{x - 7:.1f}" y="{y - 7:.1f}" width="14" height="14" fill="{color}"/>'
                 if s[2] == "pickup" else
                 f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7.5" fill="{color}"/>')
        parts.append(shape + f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="9" '
                     f'text-anchor="middle" fill="#fff">{escape(str(i))}</text>')
    parts.append("</svg>")
    return "".join(parts)
