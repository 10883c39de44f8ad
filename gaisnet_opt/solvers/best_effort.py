"""A best-effort plan for runs that need fine-tuning clusters above all: `largest-first`, requests optional.

Each inference request, then each data source (most samples first) grows a
chain along the fastest link to a free client until the split DP finds a
split that fits (the edge server is tried as cooperative end node too); see
`construction.grow`. Unlike `solve(method="largest-first")`, which serves
every request or fails, `solve_best_effort` keeps the plan when a request
could not be served, as long as the plan passes the checker: the validator's
experiments need the fine-tuning clusters, not the requests. A plan that
breaks a rule is never returned (docs/model.md §7); the reason names the
broken rules.
"""

from __future__ import annotations

from gaisnet_opt.budget import Budget
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import build, nearest
from gaisnet_opt.solvers.evaluator import Evaluator, as_plan
from gaisnet_opt.solvers.finish import finish
from gaisnet_opt.solvers.service import cluster_range, deadline_of, with_clusters

METHOD = "best-effort"


def best_effort_plan(scenario: Scenario, objective: Objective = Objective(), clusters: int | None = None) -> Plan:
    """The largest-first plan, complete or not; `clusters` defaults to the service's minimum."""
    if clusters is not None:
        scenario = with_clusters(scenario, clusters)
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    return as_plan(build(ev, ev.sources, nearest)[0])


def solve_best_effort(scenario: Scenario, objective: Objective = Objective(), clusters: int | None = None) -> SolveResult:
    """The best-effort plan as a SolveResult; `error`, without a plan, when the checker finds a broken rule.

    `clusters` is how many fine-tuning clusters to aim for; the scenario's own
    service range is what the plan is checked against.
    """
    budget = Budget(None)
    with budget.phase("heuristics"):
        plan = best_effort_plan(scenario, objective, clusters)
    return finish(scenario, objective, METHOD, {"clusters": clusters}, budget, "feasible", plan)
