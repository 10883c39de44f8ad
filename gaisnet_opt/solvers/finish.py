"""The one exit of every planning method: the checker once on the plan returned, the cost model's objective, the gap.

No method reports a figure of its own: the objective is the cost model's
value of the plan, the gap is `relative_gap` against the proven bound, and a
plan the checker rejects is never returned (docs/model.md §7). `finish`
builds every `SolveResult` of `solve` and `solve_split`, so status, bound,
gap, phases and restriction mean the same in both.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from gaisnet_opt.budget import Budget
from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, Progress, Restriction, SolveResult, Status, relative_gap
from gaisnet_opt.scenario import Scenario

OPTIMAL_SLACK = 1e-3
"""A solver's `optimal` stands while the cost model's re-evaluation stays within this gap of its bound
(solver tolerances); past it the plan is only `feasible`."""


def finish(scenario: Scenario, objective: Objective, method: str, params: dict[str, Any], budget: Budget,
           status: Status, plan: Plan | None = None, bound: float | None = None, reason: str | None = None, *,
           rel_gap: float = 0.0, skip: Collection[str] = (), fallback: Plan | None = None,
           timed_out_in: str | None = None, restriction: Restriction | None = None,
           trace: tuple[Progress, ...] = ()) -> SolveResult:
    """The result of `method` returning `plan` with `status` and `bound`, after the checker and the cost model.

    A plan that breaks a rule gives way to `fallback` (a plan already known,
    returned as `feasible`), else to status `error` with the violations as
    the reason. `optimal` becomes `feasible` when the re-evaluated gap exceeds
    max(OPTIMAL_SLACK, rel_gap), `feasible` becomes `optimal` when it is
    within rel_gap. `skip` names checker rules a partial plan is not held to.
    Runs as the budget's `finish` phase; the result's time and phases are the budget's.
    """
    with budget.phase("finish"):
        value = None
        if plan is not None:
            violations = check(scenario, plan, objective.deadline_s, skip=skip)
            if violations and fallback is not None:
                params["solver_plan_rejected"] = "; ".join(str(v) for v in violations[:3])
                plan, status, fallback = fallback, "feasible", None
                violations = check(scenario, plan, objective.deadline_s, skip=skip)
            if violations:
                why = "; ".join(str(v) for v in violations[:5])
                status, plan, reason, bound = "error", None, f"the {method} plan breaks a rule: {why}", None
            else:
                value = objective_value(round_cost(scenario, plan), objective)
        if bound is not None and not math.isfinite(bound):
            bound = None
        gap = relative_gap(value, bound)
        if status == "optimal" and gap is not None and gap > max(OPTIMAL_SLACK, rel_gap):
            status = "feasible"  # the plan re-evaluated by the cost model is not within the solver's gap of its bound
        if status == "feasible" and gap is not None and gap <= rel_gap:
            status = "optimal"  # e.g. a restricted model's plan that meets the whole problem's floor
    return SolveResult(status=status, objective=value, bound=bound, gap=gap, time_s=budget.elapsed(),
                       phases=dict(budget.phases), timed_out_in=timed_out_in, restricted=restriction is not None,
                       restriction=restriction, bound_is_global=None if bound is None else True, method=method,
                       params=params, objective_spec=objective, plan=plan, reason=reason, trace=trace)
