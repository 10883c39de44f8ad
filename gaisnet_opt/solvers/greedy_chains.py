"""Nearest-neighbour greedy chains split by the DP, for runs that need fine-tuning clusters above all.

Each inference request, then each data source (most samples first) grows a
chain along the fastest link to a free client until the split DP finds a
split that fits (the edge server is tried as cooperative end node too); see
`heuristics.grow`. Unlike `solve(method="greedy")`, which serves every
request or fails, `solve_greedy` keeps the plan when a request could not be
served, as long as the plan passes the checker: the validator's experiments
need the fine-tuning clusters, not the requests. A plan that breaks a rule
is never returned (docs/model.md §7); the reason names the broken rules.
"""

from __future__ import annotations

import time

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, SolveResult
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.heuristics import Evaluator, as_plan, build, cluster_range, deadline_of, nearest, with_clusters

METHOD = "greedy-nn"


def uniform_counts(n_units: int, n_members: int) -> list[int]:
    """Units per member, as equal as possible, the earlier members taking the remainder."""
    base, extra = divmod(n_units, n_members)
    return [base + (i < extra) for i in range(n_members)]


def greedy_plan(scenario: Scenario, clusters: int | None = None, objective: Objective = Objective()) -> Plan:
    """The nearest-neighbour plan, complete or not; `clusters` defaults to the service's minimum."""
    if clusters is not None:
        scenario = with_clusters(scenario, clusters)
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    return as_plan(build(ev, ev.sources, nearest)[0])


def solve_greedy(scenario: Scenario, objective: Objective = Objective(), clusters: int | None = None) -> SolveResult:
    """The greedy plan as a SolveResult; infeasible, without a plan, when the checker finds a broken rule.

    `clusters` is how many fine-tuning clusters to aim for; the scenario's own
    service range is what the plan is checked against.
    """
    t0 = time.perf_counter()
    plan = greedy_plan(scenario, clusters, objective)
    violations = check(scenario, plan, objective.deadline_s)  # `clusters` is a target here, the service's range the rule
    value = objective_value(round_cost(scenario, plan), objective)
    params = {"clusters": clusters}
    elapsed = time.perf_counter() - t0
    if violations:
        reason = "greedy plan breaks: " + "; ".join(str(v) for v in violations[:5])
        return SolveResult(status="infeasible", method=METHOD, params=params, objective_spec=objective,
                           time_s=elapsed, reason=reason)
    return SolveResult(status="feasible", objective=value, method=METHOD, params=params,
                       objective_spec=objective, time_s=elapsed, plan=plan)
