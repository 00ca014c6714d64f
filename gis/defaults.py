"""The one set of defaults: travel modes, speeds, service circles, snapping distance.

Every module that needs one of these values imports it from here (``gis.network``,
``gis.region``, ``gis.osm_extract``'s ``region.toml`` template, ``routing``), so a default is
changed in one place. Plain constants only: this module imports nothing from ``gis``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

__all__ = ["MODES", "WALK_KMH", "EBIKE_KMH", "DRIVE_FACTOR", "DRIVE_KMH", "DRIVE_KMH_OTHER",
           "FALLBACK_KMH", "CIRCLES", "CIRCLE_KINDS", "MAX_SNAP_M", "DATUM",
           "EXTRA_ROAD_JOIN_M", "DETOUR_FLAG_RATIO", "DETOUR_MIN_M"]

#: Travel modes, in the order tables and maps list them.
MODES: Final = ("walk", "ebike", "drive")

#: Walking speed (km/h): the walk mode and every access / egress leg off the network.
WALK_KMH: Final = 4.5
#: E-bike speed (km/h).
EBIKE_KMH: Final = 15.0
#: Multiplies the highway-class / maxspeed driving speeds (e.g. 0.7 for congestion).
DRIVE_FACTOR: Final = 1.0

#: Driving speeds (km/h) by OSM highway class, for urban China when no maxspeed is tagged.
DRIVE_KMH: Final = MappingProxyType({
    "motorway": 80.0, "motorway_link": 40.0, "trunk": 60.0, "trunk_link": 35.0,
    "primary": 40.0, "primary_link": 30.0, "secondary": 35.0, "secondary_link": 25.0,
    "tertiary": 30.0, "tertiary_link": 25.0, "unclassified": 25.0, "residential": 20.0,
    "living_street": 10.0, "service": 15.0, "road": 20.0, "track": 15.0,
})
#: Driving speed (km/h) of a drivable way whose class is not in :data:`DRIVE_KMH`.
DRIVE_KMH_OTHER: Final = 20.0

#: Mode → km/h when there is no road network (straight line × detour / speed).
FALLBACK_KMH: Final = MappingProxyType({"walk": WALK_KMH, "ebike": EBIKE_KMH, "drive": 25.0})

#: The two circle kinds a place can have.
CIRCLE_KINDS: Final = ("urban", "rural")
#: Default service circles: kind → (minutes, mode).
CIRCLES: Final = MappingProxyType({"urban": (15.0, "walk"), "rural": (30.0, "ebike")})

#: Demand points further than this (metres) from their mode's network are unreachable.
MAX_SNAP_M: Final = 1000.0

#: An end of a local road (``[files] extra_roads``) within this many metres of an OSM node or
#: road segment is joined to it; ends of local roads this close to each other are merged.
#: 30 m: a GPS trace or a digitised survey is rarely further off than a road's width plus this.
EXTRA_ROAD_JOIN_M: Final = 30.0

#: A reachable point whose door-to-door time is more than this many times the straight line to
#: its outlet (at its mode's speed) is flagged ``long_detour``. Road networks' circuity is
#: typically 1.2-1.6 (cities) and up to about 2 (mountain valleys); 3x means the roads go the
#: long way round (a river without a footbridge, a missing path, a one-way maze, a wrong tag).
DETOUR_FLAG_RATIO: Final = 3.0
#: ...and only when the straight line is at least this long (metres): on short trips the access
#: legs dominate and the ratio means little.
DETOUR_MIN_M: Final = 300.0

#: The coordinate datum input tables are in unless region.toml says otherwise.
DATUM: Final = "wgs84"
