"""`solve`: clusters, D2D chains and split points of one round together, by an exact method or a heuristic.

The pipeline: pre-check (fast reasons for infeasibility) → heuristics → the
exact model (warm-started from the best heuristic plan) → the checker and
the cost model's objective of the plan returned. Every method's objective is
`objective_value(round_cost(scenario, plan), objective)`.

Inference requests must all be served (each by its own cluster from the
requester); the fine-tuning service's cluster range is respected (`clusters`
fixes it to exactly K). Ties: exact methods return the solver's first
optimum under the given seed (deterministic for one thread); heuristics
break ties by the sum of cluster latencies, then by build order (requests in
scenario order, data sources by samples then id, neighbours by link rate then id).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.formulations.joint_model import ExactRun, JointModel, SolverOptions, formulate
from gaisnet_opt.io import write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, SolveResult, relative_gap
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.heuristics import (
    HEURISTICS,
    Evaluated,
    Evaluator,
    as_plan,
    cluster_range,
    deadline_of,
    local_search,
    with_clusters,
)
from gaisnet_opt.solvers.joint_table import JointTable, floors, pruned
from gaisnet_opt.solvers.precheck import precheck

Method = Literal["cpsat", "milp", "greedy", "balanced", "fastest", "local", "random"]


def _cpsat(jm: JointModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.joint_cpsat import solve_joint_cpsat  # OR-Tools loads in about a second

    return solve_joint_cpsat(jm, opts)


def _milp(jm: JointModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.joint_milp import solve_joint_milp  # Pyomo loads in about a second

    return solve_joint_milp(jm, opts)


EXACT: dict[str, Callable[[JointModel, SolverOptions], ExactRun]] = {"cpsat": _cpsat, "milp": _milp}
METHODS: tuple[str, ...] = (*EXACT, *HEURISTICS, "local")
WARM_SHARE = 0.2
"""Share of the time limit the warm start's local search may take."""


def solve(
    scenario: Scenario,
    method: Method = "cpsat",
    objective: Objective = Objective(),
    time_limit: float = 30.0,
    threads: int = 1,
    seed: int = 0,
    rel_gap: float = 1e-6,
    warm_start: bool = True,
    log_file: str | None = None,
    clusters: int | None = None,
    radius: int | None = None,
    candidates: int | None = None,
    stop_at_floor: bool = True,
) -> SolveResult:
    """Plan one round by `method` (see the module docstring); never returns a plan the checker rejects.

    `radius`/`candidates` restrict each cluster's candidate members (see
    `joint_table`); with either set an exact method's bound holds for the
    restricted model only, so it is reported in `params["restricted_bound"]`
    and the status is at best `feasible` unless the plan meets the
    relaxation floor (`joint_table.floors`), a bound on the whole problem.
    With `stop_at_floor`, an exact method whose warm start already meets that
    floor returns it as optimal without building its model.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of {', '.join(METHODS)}")
    if objective.kind == "bottleneck":
        raise ValueError("the bottleneck objective applies to one chain's split only; use `split`")
    if clusters is not None:
        scenario = with_clusters(scenario, clusters)
    params: dict = dict(time_limit=time_limit, threads=threads, seed=seed, rel_gap=rel_gap, warm_start=warm_start,
                        log_file=log_file, clusters=clusters, radius=radius, candidates=candidates,
                        stop_at_floor=stop_at_floor)
    lo, hi = cluster_range(scenario)
    deadline = deadline_of(scenario, objective)

    def result(status: str, plan: Plan | None = None, bound: float | None = None, reason: str | None = None) -> SolveResult:
        return _evaluated(scenario, objective, method, params, t0, status, plan, bound, reason)

    reason = precheck(scenario, lo, deadline)
    if reason is not None:
        return result("infeasible", reason=f"pre-check: {reason}")
    ev = Evaluator(scenario, objective, deadline, lo, hi)
    if method in HEURISTICS:
        plan = HEURISTICS[method](ev, seed)
        return result("feasible", as_plan(plan)) if plan is not None else result("error", reason=_no_plan(method))
    start = _best_heuristic(ev, seed, t0 + time_limit * (WARM_SHARE if method in EXACT else 1.0))
    if method == "local":
        return result("feasible", as_plan(start)) if start is not None else result("error", reason=_no_plan(method))
    opts = SolverOptions(time_limit, threads, seed, rel_gap, log_file)
    return _exact(ev, method, start if warm_start else None, start, opts, radius, candidates, stop_at_floor, params,
                  result, t0)


def _best_heuristic(ev: Evaluator, seed: int, until: float) -> list[Evaluated] | None:
    """The best constructive plan, improved by local search until `until` (a perf_counter time)."""
    found = [p for name in ("greedy", "balanced", "fastest", "random") if (p := HEURISTICS[name](ev, seed)) is not None]
    if not found:
        return None
    return local_search(ev, min(found, key=ev.score), max(0.0, until - time.perf_counter()), seed)


def _exact(ev: Evaluator, method: str, hint_from: list[Evaluated] | None, start: list[Evaluated] | None,
           opts: SolverOptions, radius: int | None, candidates: int | None, stop_at_floor: bool, params: dict,
           result: Callable[..., SolveResult], t0: float) -> SolveResult:
    """Build the table and model, warm-start from `hint_from`, solve, keep the better of solver and `start`."""
    scenario, objective = ev.scenario, ev.objective
    low = floors(scenario, ev.cache, ev.min_clusters)
    params.update(latency_floor=low[0], energy_floor=low[1])
    floor = _floor_value(objective, low)
    upper = None
    if start is not None:
        params["heuristic_objective"] = objective_value(round_cost(scenario, as_plan(start)), objective)
    if start is not None and not objective.maximize:
        upper = params["heuristic_objective"]
        if stop_at_floor and floor is not None and relative_gap(upper, floor) <= opts.rel_gap:
            params["proved_by"] = "floor"  # the heuristic plan meets a lower bound: optimal without a model
            if opts.log_file is not None:
                write_text(opts.log_file, f"{method} was not started: the heuristic plan's objective {upper!r} "
                                          f"meets the relaxation floor {floor!r} (relative gap <= {opts.rel_gap})\n")
            return result("optimal", as_plan(start), floor)
    table = JointTable.build(scenario, radius, candidates, cache=ev.cache)
    params["arcs_built"] = len(table.segs) + len(table.hops)
    table = pruned(table, objective.kind, objective.alpha, objective.beta, upper, ev.deadline_s, ev.min_clusters)
    jm = formulate(table, objective, ev.min_clusters, ev.max_clusters, ev.deadline_s, low)
    params.update(variables=len(jm.binary), rows=sum(len(r) for r in jm.groups.values()))
    if method == "cpsat":
        from gaisnet_opt.formulations.joint_cpsat import resolution, tolerance

        params.update(resolution=resolution(jm), tolerance=tolerance(jm))
    if (broken := jm.empty_row_broken()) is not None:  # no solver needed (nor able: empty rows are not passed on)
        if start is not None:  # only a restricted model can lose every chain the heuristics found
            return result("feasible", as_plan(start), floor)
        return result("infeasible", reason=_proven_infeasible("the model's construction", jm, broken))
    hint = None
    if hint_from is not None:
        arcs = table.arcs_of(as_plan(hint_from))
        hint = jm.assignment(*arcs) if arcs is not None else None
        params["warm_start_used"] = hint is not None
    left = max(0.1, (opts.time_limit or 0.0) - (time.perf_counter() - t0)) if opts.time_limit is not None else None
    run = EXACT[method](jm, replace(opts, time_limit=left, hint=hint))
    params["solver_status"] = run.detail or run.status
    plan = table.plan(*run.chosen(jm)) if run.x is not None else None
    restricted = radius is not None or candidates is not None
    status, bound = run.status, run.bound
    if restricted:
        params["restricted_bound"] = bound
        status, bound = ("feasible" if status == "optimal" else status), None
    if floor is not None and (bound is None or floor > bound):
        bound = floor  # the relaxation's floor holds for the whole problem, restricted model or not
    if status == "infeasible" and start is None:
        return result("infeasible", reason=_proven_infeasible(method, jm))
    if plan is not None and start is not None and check(scenario, plan, ev.deadline_s):
        # the solver's plan breaks a rule by its own tolerance (a deadline met to 1e-7): keep the warm start
        params["solver_plan_rejected"] = "; ".join(str(v) for v in check(scenario, plan, ev.deadline_s)[:3])
        plan = None
    if start is not None and (plan is None or _better(ev, as_plan(start), plan)):
        # anytime: the heuristic plan beats what the solver returned in time (or the restricted model)
        plan, status = as_plan(start), "feasible"
    if plan is None:
        return result(status, bound=bound, reason=f"{method} found no plan within {left} s ({run.detail})")
    return result(status, plan, bound)


def _floor_value(objective: Objective, low: tuple[float, float]) -> float | None:
    """The objective's lower bound from the latency and energy floors (None for coverage or no finite floor)."""
    match objective.kind:
        case "latency":
            value = low[0]
        case "energy":
            value = low[1]
        case "weighted":
            value = objective.alpha * low[0] + objective.beta * low[1]
        case _:
            return None
    return value if math.isfinite(value) else None


def _better(ev: Evaluator, a: Plan, b: Plan) -> bool:
    """Plan a's objective strictly beats plan b's (cost model)."""
    va = objective_value(round_cost(ev.scenario, a), ev.objective)
    vb = objective_value(round_cost(ev.scenario, b), ev.objective)
    return va > vb if ev.objective.maximize else va < vb


def _no_plan(method: str) -> str:
    return f"the {method} heuristic found no plan; a heuristic failing proves nothing, an exact method (cpsat, milp) can"


def _proven_infeasible(method: str, jm: JointModel, group: str | None = None) -> str:
    if group is not None:
        return (f"{method} proves it: after removing every segment and hop that breaks memory, link, return-link, "
                f"server-link or deadline rules, no chain is left to satisfy the {group} rule")
    rules = ", ".join(g for g, rows in jm.groups.items() if rows)
    return (f"{method} proved that no plan satisfies every rule at once ({rules}), although each start point "
            f"passed the pre-check on its own: the clusters compete for the same clients, edge-server slots or deadline")


def _evaluated(scenario: Scenario, objective: Objective, method: str, params: dict, t0: float, status: str,
               plan: Plan | None, bound: float | None, reason: str | None) -> SolveResult:
    """The one exit: checker, then the cost model's objective; a plan the checker rejects is never returned."""
    rel_gap = params["rel_gap"]
    value = None
    if plan is not None:
        violations = check(scenario, plan, objective.deadline_s)
        if violations:
            why = "; ".join(str(v) for v in violations[:5])
            status, plan, reason, bound = "error", None, f"internal error: the {method} plan breaks rules: {why}", None
        else:
            value = objective_value(round_cost(scenario, plan), objective)
    gap = relative_gap(value, bound)
    if status == "optimal" and gap is not None and gap > max(1e-3, rel_gap):
        status = "feasible"  # the plan re-evaluated by the cost model is not within the solver's gap of its bound
    if status == "feasible" and gap is not None and gap <= rel_gap:
        status = "optimal"  # e.g. a restricted model's plan that meets the whole problem's floor
    return SolveResult(status=status, objective=value, bound=bound, gap=gap,
                       time_s=time.perf_counter() - t0, method=method, params=params, objective_spec=objective,
                       plan=plan, reason=reason)
