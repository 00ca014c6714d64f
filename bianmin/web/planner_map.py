"""The planning map of the planner view: built once into the cache, served read-only.

``/dispatch/planner/map/`` (login required) serves ``<cache>/planning-map/planning/``: the
folder :func:`maps.service_map.write_map` writes (the same function ``bianmin map --audience
planning`` runs), built on the first request through a staging folder
(:func:`gis.outdir.staged_output`: a half-written map is never served, two first requests build
it once). Tiles ``none`` (the region's own roads): the server works with no internet. Only
files inside that folder are served; anything else (``..``, absolute paths, symlinks out) is 404.
"""

from __future__ import annotations

import asyncio
import mimetypes
import threading
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from .accounts import User
from .app import get_region
from .security import require_user

__all__ = ["router", "planning_map_folder", "MAP_CSP"]

router = APIRouter(prefix="/dispatch")
UserDep = Annotated[User, Depends(require_user)]
_LOCK = threading.Lock()  # building the map folder
_COMPUTE = threading.Lock()  # the coverage it shows
#: The map page is folium's: inline scripts of the page itself (no user text in it), data from
#: this server only.
MAP_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
           "script-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; "
           "base-uri 'none'; form-action 'none'")
_TYPES = {".geojson": "application/geo+json", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8"}


def coverage_and_items(app: Any) -> tuple[Any, Any]:
    """The region's coverage and item coverage (computed once, shared with the planner page)."""
    st = app.state
    with _COMPUTE:
        got = getattr(st, "planner_results", None)
        if got is None:
            from gis.coverage import coverage_of_region
            from gis.items import item_coverage_of_region

            reg = get_region(app)
            cov = coverage_of_region(reg)  # type: ignore[arg-type]
            try:
                items = item_coverage_of_region(reg, base=cov)  # type: ignore[arg-type]
            except Exception:  # no catalogue, or one that cannot be read: a map without items
                items = None
            got = st.planner_results = (cov, items)
        return got


def planning_map_folder(app: Any) -> Path:
    """``<cache>/planning-map/planning`` with ``index.html``, built on the first call."""
    st = app.state
    root = Path(st.cache) / "planning-map"
    final = root / "planning"
    if (final / "index.html").is_file():
        return final
    cov, items = coverage_and_items(app)
    with _LOCK:
        if (final / "index.html").is_file():
            return final
        from gis.circles import circles_of_region
        from gis.outdir import staged_output
        from maps.service_map import MapOptions, write_map

        reg = get_region(app)
        circles = circles_of_region(reg)  # type: ignore[arg-type]
        with staged_output(root, "planner-map") as stage:
            write_map(reg, cov, circles, stage,  # type: ignore[arg-type]
                      options=MapOptions(tiles="none"), folder="planning", items=items)
    return final


@router.get("/planner/map")
def planner_map_root(user: UserDep) -> Response:
    """The map's folder URL (relative assets need the trailing slash)."""
    return RedirectResponse("/dispatch/planner/map/", status_code=307)


@router.get("/planner/map/{name:path}")
async def planner_map_file(request: Request, user: UserDep, name: str = "") -> Response:
    """A file of the planning map (``index.html`` for the folder), read-only."""
    folder = (await asyncio.to_thread(planning_map_folder, request.app)).resolve()
    path = (folder / (name or "index.html")).resolve()
    if folder not in path.parents or not path.is_file():
        raise HTTPException(404, "no such file")
    media = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or \
        "application/octet-stream"
    return FileResponse(path, media_type=media, headers={"Content-Security-Policy": MAP_CSP,
                                                         "Cache-Control": "no-store"})
