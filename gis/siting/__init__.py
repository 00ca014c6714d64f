"""Siting new outlets: candidate sites, network cover sets, location models (OR-Tools) and
what planners get from them (ranked sites, before/after per area, a coverage curve).
"""

from . import candidates as candidates
from . import coversets as coversets
from . import models as models
from . import report as report
from .candidates import CostTable as CostTable
from .candidates import build_candidates as build_candidates
from .candidates import grid_candidates as grid_candidates
from .coversets import CoverSets as CoverSets
from .coversets import cover_matrix as cover_matrix
from .coversets import network_cover_sets as network_cover_sets
from .models import solve_mclp as solve_mclp
from .models import solve_pmedian as solve_pmedian
from .models import solve_set_cover as solve_set_cover
from .plan import SitingPlan as SitingPlan
from .plan import plan_sites as plan_sites
from .problem import InfeasibleTargetError as InfeasibleTargetError
from .problem import SitingProblem as SitingProblem
from .problem import SitingResult as SitingResult
from .problem import SolveParams as SolveParams
from .problem import SolverError as SolverError
from .report import areas_before_after as areas_before_after
from .report import coverage_curve as coverage_curve
from .report import rank_sites as rank_sites

__all__ = [
    "CostTable", "CoverSets", "InfeasibleTargetError", "SitingPlan", "SitingProblem",
    "SitingResult", "plan_sites",
    "SolveParams", "SolverError", "areas_before_after", "build_candidates", "candidates",
    "cover_matrix", "coverage_curve", "coversets", "grid_candidates", "models",
    "network_cover_sets", "rank_sites", "report", "solve_mclp", "solve_pmedian",
    "solve_set_cover",
]
