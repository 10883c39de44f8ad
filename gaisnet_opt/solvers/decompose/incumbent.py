"""A heuristic plan to fall back on when the master's columns pack none in time: the constructive
heuristics, the best improved by local search (`solvers.construction`, `solvers.local_search`)."""

from __future__ import annotations

from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.evaluator import Evaluator, as_plan
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.service import cluster_range, deadline_of


def heuristic_plan(scenario: Scenario, objective: Objective, seconds: float, seed: int) -> Plan | None:
    """The best constructive plan, improved by local search for `seconds` (None: no heuristic found one)."""
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    found = [p for h in ("largest-first", "roomiest-first", "fastest-first") if (p := HEURISTICS[h](ev, seed)) is not None]
    if not found:
        return None
    return as_plan(local_search(ev, min(found, key=ev.score), max(0.0, seconds), seed))
