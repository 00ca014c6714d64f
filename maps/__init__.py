"""The published service map (政务服务地图): an offline folder built with folium."""

from . import layers as layers
from . import service_map as service_map
from . import style as style
from . import tiles as tiles
from . import vendor as vendor
from .service_map import MapOptions as MapOptions
from .service_map import ServiceMap as ServiceMap
from .service_map import build_map as build_map
from .service_map import write_map as write_map
from .vendor import MapBuildError as MapBuildError
