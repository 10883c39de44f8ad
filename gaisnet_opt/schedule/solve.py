"""One entry point per question: a policy's schedule (`solve_schedule`) and policies side by side (`compare_policies`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from gaisnet_opt.budget import Budget
from gaisnet_opt.params import SolveParams, check_method
from gaisnet_opt.schedule.dp import solve_dp
from gaisnet_opt.schedule.instance import ScheduleInstance
from gaisnet_opt.schedule.policies import random_summary, solve_msip, solve_random
from gaisnet_opt.schedule.result import PolicyComparison, PolicySummary, ScheduleResult
from gaisnet_opt.schedule.rolling import solve_rolling

Policy = Literal["mlcp", "mlcp-milp", "msip", "rs", "rolling"]
POLICIES: tuple[Policy, ...] = get_args(Policy)


def solve_schedule(
    instance: ScheduleInstance,
    policy: Policy = "mlcp",
    *,
    params: SolveParams = SolveParams(),
    demand: np.ndarray | None = None,
    window: int | None = None,
) -> ScheduleResult:
    """`policy`'s schedule on the known requests, or on `demand` counts (T, M), or, for a forecast-only
    instance, on the request sequence sampled with `params.seed` (which also drives RS).

    `params.time_limit_s` bounds the MILP (`mlcp-milp`: model build and HiGHS, as in `solve`); the DP and
    the policies are polynomial and run to the end. The result's `phases` and `time_s` are the whole call's.
    """
    check_method(policy, POLICIES, "policy")
    budget = Budget(params.time_limit_s)
    with budget.phase("solver"):
        result = _policy(instance, policy, params.seed, demand, window, budget)
    return result.model_copy(update={"time_s": budget.elapsed(), "phases": dict(budget.phases)})


def _policy(instance: ScheduleInstance, policy: Policy, seed: int, demand: np.ndarray | None, window: int | None,
            budget: Budget) -> ScheduleResult:
    if demand is None:
        demand = instance.demand() if instance.requests is not None else instance.sample_demand(seed)
    match policy:
        case "mlcp":
            return solve_dp(instance, demand)
        case "mlcp-milp":
            from gaisnet_opt.schedule.milp import solve_milp  # Pyomo loads only when the MILP is asked for

            return solve_milp(instance, demand, budget.solver_seconds())
        case "msip":
            return solve_msip(instance, demand)
        case "rs":
            return solve_random(instance, seed, demand)
    return solve_rolling(instance, demand, window)


def applicable_policies(instance: ScheduleInstance) -> tuple[Policy, ...]:
    """Every policy the instance supports: rolling horizon needs a forecast."""
    return tuple(p for p in POLICIES if p != "rolling" or instance.forecast is not None)


def compare_policies(
    instance: ScheduleInstance,
    policies: Sequence[Policy] | None = None,
    *,
    seed: int = 0,
    runs: int = 1000,
    window: int | None = None,
) -> PolicyComparison:
    """Each policy's single schedule (with `seed`), and summaries over `runs` seeds: RS's seeds on the known
    requests, or every policy over request sequences sampled from the forecast (the MILP is left out there:
    it equals the DP)."""
    chosen = tuple(policies or applicable_policies(instance))
    results = tuple(solve_schedule(instance, p, params=SolveParams(seed=seed), window=window) for p in chosen)
    summaries: list[PolicySummary] = []
    if instance.requests is not None:
        if "rs" in chosen:
            summaries.append(random_summary(instance, seed, runs))
    else:
        samples = [instance.sample_demand(seed + i) for i in range(runs)]
        for p in (p for p in chosen if p != "mlcp-milp"):
            totals = [solve_schedule(instance, p, params=SolveParams(seed=seed + i), demand=d, window=window).total
                      for i, d in enumerate(samples)]
            summaries.append(PolicySummary.of(p, {"window": window} if p == "rolling" else {}, seed, totals))
    return PolicyComparison(instance=instance.name, results=results, summaries=tuple(summaries))
