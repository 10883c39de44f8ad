"""A heuristic plan: the constructive heuristics, the best improved by local search (`solvers.construction`,
`solvers.local_search`). The energy decomposition starts its column pool from it; `decompose` falls back on it
when the gap is open."""

from __future__ import annotations

import time

from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator, as_plan
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.service import cluster_range, deadline_of


def heuristic_plan(scenario: Scenario, objective: Objective, seconds: float, seed: int) -> Plan | None:
    """The best constructive plan, improved by local search, within `seconds` of the call (None: no heuristic
    found one). The constructive heuristics cannot stop midway: once one has found a plan, no further one
    starts that would end past `seconds` if it took as long as the last, and local search gets what is
    left, so a caller's time limit holds but for the first heuristic (a plan is worth that much)."""
    end = time.perf_counter() + seconds
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    found: list[list[Evaluated]] = []
    took = 0.0
    for name in ("largest-first", "roomiest-first", "fastest-first"):
        t0 = time.perf_counter()
        if found and t0 + took > end:  # the next one would likely end past `seconds`
            break
        if (p := HEURISTICS[name](ev, seed)) is not None:
            found.append(p)
        took = time.perf_counter() - t0
    if not found:
        return None
    return as_plan(local_search(ev, min(found, key=ev.score), max(0.0, end - time.perf_counter()), seed))
