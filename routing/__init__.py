"""Runner routes: errands + runners + travel times -> OR-Tools routes -> validated route sheets.

The solver core (:mod:`routing.problem`, :mod:`routing.solver`) takes plain integer arrays;
:mod:`routing.matrix` is the only bridge to a road network.
"""

from .build import DayProblem as DayProblem
from .build import build_day_problem as build_day_problem
from .day import PlanCheckError as PlanCheckError
from .day import plan_day as plan_day
from .deadline import Deadline as Deadline
from .demo import demo_errands as demo_errands
from .demo import demo_runners as demo_runners
from .io import write_plan_json as write_plan_json
from .io import write_routes as write_routes
from .matrix import haversine_matrices as haversine_matrices
from .matrix import network_matrices as network_matrices
from .plan import DayPlan as DayPlan
from .plan import mask_phone as mask_phone
from .problem import Break as Break
from .problem import RoutingProblem as RoutingProblem
from .reasons import drop_reasons as drop_reasons
from .region_day import plan_region_routes as plan_region_routes
from .sheets import write_sheets as write_sheets
from .solver import DEFAULT_TIME_LIMIT_S as DEFAULT_TIME_LIMIT_S
from .solver import RoutingSolverError as RoutingSolverError
from .solver import Solution as Solution
from .solver import SolveParams as SolveParams
from .solver import solve as solve
from .tables import Errand as Errand
from .tables import Runner as Runner
from .tables import errands_from_frame as errands_from_frame
from .tables import read_errands as read_errands
from .tables import read_runners as read_runners
from .tables import read_table as read_table
from .tables import runners_from_frame as runners_from_frame
from .validate import PlanCheck as PlanCheck
from .validate import validate_solution as validate_solution
from .xlsx import write_xlsx as write_xlsx
