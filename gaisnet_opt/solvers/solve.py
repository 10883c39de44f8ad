"""`solve`: clusters, D2D chains and split points of one round together, by an exact method or a heuristic.

The pipeline: pre-check (fast reasons for infeasibility) → heuristics → the
exact model (warm-started from the best heuristic plan) → the checker and
the cost model's objective of the plan returned (`finish`). Every method's
objective is `objective_value(round_cost(scenario, plan), objective)`.

Inference requests must all be served (each by its own cluster from the
requester); the fine-tuning service's cluster range is respected (`clusters`
fixes it to exactly K). Ties: exact methods return the solver's first
optimum under the given seed (deterministic for one thread); heuristics
break ties by the sum of cluster latencies, then by build order (requests in
scenario order, data sources by samples then id, neighbours by link rate then id).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from gaisnet_opt.bounds.floor import floor_value, floors
from gaisnet_opt.bounds.pruning import pruned
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.formulations.joint_model import JointModel, formulate
from gaisnet_opt.formulations.rows import ExactRun, LinearModel, SolverOptions
from gaisnet_opt.instances.joint_table import JointTable
from gaisnet_opt.io import write_text
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, SolveResult, Status, relative_gap
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator, as_plan
from gaisnet_opt.solvers.finish import finish
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.precheck import precheck
from gaisnet_opt.solvers.service import cluster_range, deadline_of, with_clusters

Method = Literal["cpsat", "milp", "largest-first", "roomiest-first", "fastest-first", "local", "random"]


def _cpsat(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.cpsat import solve_cpsat  # OR-Tools loads in about a second

    return solve_cpsat(lm, opts)


def _milp(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.milp import solve_milp  # Pyomo loads in about a second

    return solve_milp(lm, opts, "joint")


EXACT: dict[str, Callable[[LinearModel, SolverOptions], ExactRun]] = {"cpsat": _cpsat, "milp": _milp}
METHODS: tuple[str, ...] = (*EXACT, *HEURISTICS, "local")
CONSTRUCTIVE_ORDER = ("largest-first", "roomiest-first", "fastest-first", "random")
"""The order the warm start tries the constructive heuristics in (the first of equal plans wins)."""
WARM_SHARE = 0.2
"""Share of the time limit the warm start's local search may take."""


@dataclass(frozen=True)
class _Run:
    """One call's fixed inputs, shared by its steps."""

    ev: Evaluator
    method: str
    params: dict[str, Any]
    t0: float
    opts: SolverOptions
    radius: int | None
    candidates: int | None
    stop_at_floor: bool

    def result(self, status: Status, plan: Plan | None = None, bound: float | None = None, reason: str | None = None,
               fallback: Plan | None = None) -> SolveResult:
        return finish(self.ev.scenario, self.ev.objective, self.method, self.params, self.t0, status, plan, bound,
                      reason, rel_gap=self.opts.rel_gap, fallback=fallback)


def solve(
    scenario: Scenario,
    method: Method = "cpsat",
    objective: Objective = Objective(),
    time_limit_s: float = 30.0,
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
    `instances.candidates`); with either set an exact method's bound holds
    for the restricted model only, so it is reported in
    `params["restricted_bound"]` and the status is at best `feasible` unless
    the plan meets the relaxation floor (`bounds.floor`), a bound on the
    whole problem. With `stop_at_floor`, an exact method whose warm start
    already meets that floor returns it as optimal without building its model.
    """
    t0 = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of {', '.join(METHODS)}")
    if objective.kind == "bottleneck":
        raise ValueError("the bottleneck objective applies to one chain's split only; use `split`")
    if clusters is not None:
        scenario = with_clusters(scenario, clusters)
    params: dict[str, Any] = dict(time_limit_s=time_limit_s, threads=threads, seed=seed, rel_gap=rel_gap,
                                  warm_start=warm_start, log_file=log_file, clusters=clusters, radius=radius,
                                  candidates=candidates, stop_at_floor=stop_at_floor)
    lo, hi = cluster_range(scenario)
    ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi)
    run = _Run(ev, method, params, t0, SolverOptions(time_limit_s, threads, seed, rel_gap, log_file), radius,
               candidates, stop_at_floor)
    reason = precheck(scenario, lo, ev.deadline_s)
    if reason is not None:
        return run.result("infeasible", reason=f"pre-check: {reason}")
    if method in HEURISTICS:
        plan = HEURISTICS[method](ev, seed)
        return run.result("feasible", as_plan(plan)) if plan is not None else run.result("error", reason=_no_plan(method))
    start = _best_heuristic(ev, seed, t0 + time_limit_s * (WARM_SHARE if method in EXACT else 1.0))
    if method == "local":
        return run.result("feasible", as_plan(start)) if start is not None else run.result("error", reason=_no_plan(method))
    return _exact(run, start if warm_start else None, start)


def _best_heuristic(ev: Evaluator, seed: int, until: float) -> list[Evaluated] | None:
    """The best constructive plan, improved by local search until `until` (a perf_counter time)."""
    found = [p for name in CONSTRUCTIVE_ORDER if (p := HEURISTICS[name](ev, seed)) is not None]
    if not found:
        return None
    return local_search(ev, min(found, key=ev.score), max(0.0, until - time.perf_counter()), seed)


def _exact(run: _Run, hint_from: list[Evaluated] | None, start: list[Evaluated] | None) -> SolveResult:
    """Build the table and model, warm-start from `hint_from`, solve, keep the better of solver and `start`."""
    ev, params, opts = run.ev, run.params, run.opts
    scenario, objective = ev.scenario, ev.objective
    low = floors(scenario, ev.cache, ev.min_clusters)
    params.update(latency_floor=low[0], energy_floor=low[1])
    floor = floor_value(objective, low)
    upper = None
    start_plan = as_plan(start) if start is not None else None
    if start_plan is not None:
        params["heuristic_objective"] = objective_value(round_cost(scenario, start_plan), objective)
        if not objective.maximize:
            upper = params["heuristic_objective"]
    gap = relative_gap(upper, floor)
    if start_plan is not None and run.stop_at_floor and gap is not None and gap <= opts.rel_gap:
        params["proved_by"] = "floor"  # the heuristic plan meets a lower bound: optimal without a model
        if opts.log_file is not None:
            write_text(opts.log_file, f"{run.method} was not started: the heuristic plan's objective {upper!r} "
                                      f"meets the relaxation floor {floor!r} (relative gap <= {opts.rel_gap})\n")
        return run.result("optimal", start_plan, floor)
    table = JointTable.build(scenario, run.radius, run.candidates, cache=ev.cache)
    params["arcs_built"] = len(table.segs) + len(table.hops)
    table = pruned(table, objective, upper, ev.deadline_s, ev.min_clusters)
    jm = formulate(table, objective, ev.min_clusters, ev.max_clusters, ev.deadline_s, low)
    params.update(variables=len(jm.rows.binary), rows=jm.rows.n_rows)
    if run.method == "cpsat":
        from gaisnet_opt.formulations.cpsat import resolution, tolerance

        params.update(resolution=resolution(jm.rows), tolerance=tolerance(jm.rows))
    if (broken := jm.rows.empty_row_broken()) is not None:  # no solver needed (nor able: empty rows are not passed on)
        if start_plan is not None:  # only a restricted model can lose every chain the heuristics found
            return run.result("feasible", start_plan, floor)
        return run.result("infeasible", reason=_proven_infeasible("the model's construction", jm, broken))
    return _solved(run, jm, table, hint_from, start_plan, floor)


def _solved(run: _Run, jm: JointModel, table: JointTable, hint_from: list[Evaluated] | None, start: Plan | None,
            floor: float | None) -> SolveResult:
    """Run the exact solver in the time left; its plan or the warm start's, whichever the cost model prefers."""
    ev, params, opts = run.ev, run.params, run.opts
    hint = None
    if hint_from is not None:
        arcs = table.arcs_of(as_plan(hint_from))
        hint = jm.assignment(*arcs) if arcs is not None else None
        params["warm_start_used"] = hint is not None
    left = None
    if opts.time_limit_s is not None:
        left = max(0.1, opts.time_limit_s - (time.perf_counter() - run.t0))
    solved = EXACT[run.method](jm.rows, replace(opts, time_limit_s=left, hint=hint))
    params["solver_status"] = solved.detail or solved.status
    plan = table.plan(*jm.chosen(solved)) if solved.x is not None else None
    status, bound = solved.status, solved.bound
    if run.radius is not None or run.candidates is not None:
        params["restricted_bound"] = bound
        status, bound = ("feasible" if status == "optimal" else status), None
    if floor is not None and (bound is None or floor > bound):
        bound = floor  # the relaxation's floor holds for the whole problem, restricted model or not
    if status == "infeasible" and start is None:
        return run.result("infeasible", reason=_proven_infeasible(run.method, jm))
    if start is not None and (plan is None or _better(ev, start, plan)):
        # anytime: the heuristic plan beats what the solver returned in time (or the restricted model)
        return run.result("feasible", start, bound)
    if plan is None:
        return run.result(status, bound=bound, reason=f"{run.method} found no plan within {left} s ({solved.detail})")
    return run.result(status, plan, bound, fallback=start)


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
    rules = ", ".join(g for g, rows in jm.rows.groups.items() if rows)
    return (f"{method} proved that no plan satisfies every rule at once ({rules}), although each start point "
            f"passed the pre-check on its own: the clusters compete for the same clients, edge-server slots or deadline")
