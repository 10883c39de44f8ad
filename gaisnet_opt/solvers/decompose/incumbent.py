"""A heuristic plan: the constructive heuristics, the best improved by local search (`solvers.construction`,
`solvers.local_search`). The energy decomposition starts its column pool from it; `decompose` falls back on it
when the master's columns pack none in time."""

from __future__ import annotations

from gaisnet_opt.budget import Budget
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator, as_plan
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.service import cluster_range, deadline_of


def heuristic_plan(scenario: Scenario, objective: Objective, seconds: float, seed: int,
                   budget: Budget | None = None) -> Plan | None:
    """The best constructive plan, improved by local search for `seconds` (None: no heuristic found one);
    with `budget`, no further constructive heuristic is tried once it has run out and one plan is found."""
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    found: list[list[Evaluated]] = []
    for name in ("largest-first", "roomiest-first", "fastest-first"):
        if found and budget is not None and budget.expired():
            break
        if (p := HEURISTICS[name](ev, seed)) is not None:
            found.append(p)
    if not found:
        return None
    return as_plan(local_search(ev, min(found, key=ev.score), max(0.0, seconds), seed))
