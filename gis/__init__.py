"""Geography: regions, road networks, coverage of the 15/30-minute service circles."""

from . import circles as circles
from . import coverage as coverage
from . import io as io
from . import network as network
from . import region as region
from .circles import circles_of_region as circles_of_region
from .coverage import CoverageResult as CoverageResult
from .coverage import compute_coverage as compute_coverage
from .coverage import coverage_of_region as coverage_of_region
from .errors import InputError as InputError
from .errors import InputProblem as InputProblem
from .network import RoadNetwork as RoadNetwork
from .network import Speeds as Speeds
from .region import Region as Region
from .region import load_region as load_region
