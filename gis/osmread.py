"""Reading OSM road data through osmnx, whatever the file format.

osmnx reads ``.osm`` / ``.osm.bz2`` XML only, does not filter by network type, and fails with
"Some edges missing nodes" on clipped extracts. So every input first passes through pyosmium,
which reads XML, bzip2 XML and PBF alike: it keeps the highway ways and their nodes, drops way
references to nodes the extract does not contain, and writes a clean XML file for osmnx.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import networkx as nx
import osmium
import osmnx as ox

from .errors import InputError, InputProblem

__all__ = ["graph_from_osm_file", "graph_from_place", "graph_from_bbox"]

log = logging.getLogger(__name__)

EXTRA_WAY_TAGS = ["foot", "bicycle", "motor_vehicle", "motorcar", "vehicle"]
OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.pbf", ".pbf", ".xml", ".osm.xml")


def _configure_osmnx() -> None:
    tags = list(ox.settings.useful_tags_way)
    for t in EXTRA_WAY_TAGS:
        if t not in tags:
            tags.append(t)
    ox.settings.useful_tags_way = tags
    ox.settings.log_console = False


def _clean_to_xml(src: Path, dst: Path) -> tuple[int, int]:
    """Copy the highway ways of ``src`` and their nodes to ``dst`` (XML); drop dangling refs."""
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    needed: set[int] = set()

    class Ways(osmium.SimpleHandler):
        def way(self, w: osmium.osm.Way) -> None:
            if "highway" in w.tags:
                refs = [n.ref for n in w.nodes]
                needed.update(refs)
                ways.append((w.id, refs, dict(w.tags)))

    present: dict[int, tuple[float, float]] = {}

    class Nodes(osmium.SimpleHandler):
        def node(self, n: osmium.osm.Node) -> None:
            if n.id in needed and n.location.valid():
                present[n.id] = (n.location.lon, n.location.lat)

    Ways().apply_file(str(src))
    Nodes().apply_file(str(src))
    dropped = 0
    writer = osmium.SimpleWriter(str(dst))
    try:
        for nid in sorted(present):
            writer.add_node(osmium.osm.mutable.Node(id=nid, location=present[nid], version=1))
        for wid, refs, tags in ways:
            keep = [r for r in refs if r in present]
            dropped += len(refs) - len(keep)
            if len(keep) >= 2:
                writer.add_way(osmium.osm.mutable.Way(id=wid, nodes=keep, tags=tags, version=1))
    finally:
        writer.close()
    return len(ways), dropped


def graph_from_osm_file(path: str | Path) -> nx.MultiDiGraph:
    """Read an OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``) into an osmnx MultiDiGraph.

    The graph is unsimplified (every edge a straight segment), directed as the ways' ``oneway``
    tags say, with every highway kind kept; modes are filtered later.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(InputProblem(str(path), None, None, "road file not found"))
    _configure_osmnx()
    with tempfile.TemporaryDirectory(prefix="bianmin-osm-") as tmp:
        clean = Path(tmp) / "roads.osm"
        try:
            n_ways, dropped = _clean_to_xml(path, clean)
        except RuntimeError as exc:  # pyosmium reports truncated/corrupt input this way
            raise InputError(InputProblem(str(path), None, None,
                                     f"cannot read the OSM file (truncated or corrupt?): {exc}")) from exc
        if n_ways == 0:
            raise InputError(InputProblem(str(path), None, None,
                                     "the OSM file holds no highway ways: expected a road extract"))
        if dropped:
            log.info("%s: dropped %d references to nodes outside the extract", path, dropped)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                G = ox.graph_from_xml(clean, bidirectional=False, simplify=False, retain_all=True)
            except Exception as exc:
                raise InputError(InputProblem(str(path), None, None,
                                         f"osmnx could not build a graph: {exc}")) from exc
    return G


def graph_from_place(query: str) -> nx.MultiDiGraph:
    """Download a place's roads with osmnx (needs the internet)."""
    _configure_osmnx()
    return ox.graph_from_place(query, network_type="all", simplify=False, retain_all=True)


def graph_from_bbox(bbox: tuple[float, float, float, float]) -> nx.MultiDiGraph:
    """Download the roads in (west, south, east, north) with osmnx (needs the internet)."""
    _configure_osmnx()
    return ox.graph_from_bbox(bbox, network_type="all", simplify=False, retain_all=True)
