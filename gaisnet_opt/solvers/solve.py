"""`solve`: clusters, D2D chains and split points of one round together, by an exact method or a heuristic.

The pipeline, each step a phase of one wall-clock `Budget` (docs/model.md
§7): pre-check (fast reasons for infeasibility) → heuristics → local search
→ the relaxation floor → the table (under the arc cap, `exact_table`) →
pruning → the exact model → the solver (warm-started from the best
heuristic plan, given what is left) → the checker and the cost model's
objective of the plan returned (`finish`). When the limit runs out in any
phase the best plan so far is returned with the floor as its bound. Every
method's objective is `objective_value(round_cost(scenario, plan), objective)`.

Inference requests must all be served (each by its own cluster from the
requester); the fine-tuning service's cluster range is respected (`clusters`
fixes it to exactly K). Ties: exact methods return the solver's first
optimum under the given seed (deterministic for one thread); heuristics
break ties by the sum of cluster latencies, then by build order (requests in
scenario order, data sources by samples then id, neighbours by link rate then id).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from gaisnet_opt.bounds.floor import floor_value, floors
from gaisnet_opt.bounds.pruning import pruned
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.errors import InputError
from gaisnet_opt.formulations.joint_model import JointModel, formulate
from gaisnet_opt.formulations.rows import ExactRun, LinearModel, SolverOptions
from gaisnet_opt.io import write_text
from gaisnet_opt.params import SolveParams, check_method
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, Progress, Restriction, SolveResult, Status, relative_gap
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.construction import HEURISTICS
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator, as_plan
from gaisnet_opt.solvers.exact_table import ModelTooLarge, exact_table
from gaisnet_opt.solvers.finish import finish
from gaisnet_opt.solvers.initial_plan import from_plan
from gaisnet_opt.solvers.local_search import local_search
from gaisnet_opt.solvers.precheck import precheck
from gaisnet_opt.solvers.service import cluster_range, deadline_of, with_clusters

Method = Literal["cpsat", "milp", "decompose", "largest-first", "roomiest-first", "fastest-first", "local", "random"]


def _cpsat(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.cpsat import solve_cpsat  # OR-Tools loads in about a second

    return solve_cpsat(lm, opts)


def _milp(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    from gaisnet_opt.formulations.milp import solve_milp  # highspy loads only when asked for

    return solve_milp(lm, opts)


EXACT: dict[str, Callable[[LinearModel, SolverOptions], ExactRun]] = {"cpsat": _cpsat, "milp": _milp}
METHODS: tuple[str, ...] = (*EXACT, "decompose", *HEURISTICS, "local")
CONSTRUCTIVE_ORDER = ("largest-first", "roomiest-first", "fastest-first", "random")
"""The order the warm start tries the constructive heuristics in (the first of equal plans wins)."""
WARM_SHARE = 0.2
"""Share of the time limit the warm start's local search may take."""


@dataclass
class _Run:
    """One call's fixed inputs, shared by its steps, and what it has found so far (returned when time runs out)."""

    ev: Evaluator
    method: str
    params: SolveParams
    record: dict[str, Any]
    budget: Budget
    best: list[Evaluated] | None = None
    floor: float | None = None
    restriction: Restriction | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def opts(self) -> SolverOptions:
        p = self.params
        return SolverOptions(p.time_limit_s, p.threads, p.seed, p.rel_gap, p.log_file, budget=self.budget)

    def result(self, status: Status, plan: Plan | None = None, bound: float | None = None, reason: str | None = None,
               fallback: Plan | None = None, timed_out_in: str | None = None,
               trace: tuple[Progress, ...] = ()) -> SolveResult:
        return finish(self.ev.scenario, self.ev.objective, self.method, self.record, self.budget, status, plan, bound,
                      reason, rel_gap=self.params.rel_gap, fallback=fallback, timed_out_in=timed_out_in,
                      restriction=self.restriction, trace=trace)

    def out_of_time(self, phase: str) -> SolveResult:
        """The best plan so far (`feasible`) or none (`timeout`), bounded by the floor if it was reached."""
        plan = as_plan(self.best) if self.best is not None else None
        why = f"the time limit of {self.params.time_limit_s} s ran out during {phase}"
        return self.result("feasible" if plan is not None else "timeout", plan, self.floor, why, timed_out_in=phase)


def solve(
    scenario: Scenario,
    method: Method = "cpsat",
    objective: Objective = Objective(),
    *,
    params: SolveParams = SolveParams(),
    clusters: int | None = None,
    initial_plan: Plan | None = None,
    budget: Budget | None = None,
) -> SolveResult:
    """Plan one round by `method` (see the module docstring); never returns a plan the checker rejects.

    `params.time_limit_s` bounds the whole call (wall clock, within the
    margin of `budget.MARGIN_S`/`MARGIN_SHARE`); pass `budget` instead to
    share one deadline over several calls (or to inject a clock). With
    `params.candidates`/`radius` set, or when the table outgrows
    `params.max_arcs` and the limit is tightened, the result is `restricted`:
    an exact method's own bound holds for the restricted model only
    (`params["restricted_bound"]`), the bound reported is the relaxation
    floor (`bounds.floor`, valid for the whole problem) and the status is at
    best `feasible` unless the plan meets it. `initial_plan` (e.g. the last
    round's) warm-starts local search and the exact solver: its clusters
    that still fit this scenario are kept, the rest regrown
    (`initial_plan.from_plan`; what was dropped is in `params["initial_plan"]`).
    """
    check_method(method, METHODS)
    if objective.kind == "bottleneck":
        raise InputError("options", [("objective.kind", "bottleneck applies to one chain's split only; use `split`")])
    budget = budget if budget is not None else Budget(params.time_limit_s)
    with budget.phase("setup"):
        if clusters is not None:
            scenario = with_clusters(scenario, clusters)
        lo, hi = cluster_range(scenario)
        ev = Evaluator(scenario, objective, deadline_of(scenario, objective), lo, hi, budget=budget)
    run = _Run(ev, method, params, {**params.model_dump(), "clusters": clusters}, budget)
    try:
        return _pipeline(run, initial_plan)
    except OutOfTime as exc:
        return run.out_of_time(exc.phase)


def _pipeline(run: _Run, initial_plan: Plan | None) -> SolveResult:
    ev, budget, method, seed = run.ev, run.budget, run.method, run.params.seed
    with budget.phase("precheck"):
        reason = precheck(ev.scenario, ev.min_clusters, ev.deadline_s, budget, ev.adj)
    if reason is not None:
        return run.result("infeasible", reason=f"pre-check: {reason}")
    if method == "decompose":
        return _decomposed(run, initial_plan)
    if method in HEURISTICS:
        if initial_plan is not None:
            run.record["initial_plan"] = f"ignored: the {method} heuristic builds from scratch"
        with budget.phase("heuristics"):
            found = HEURISTICS[method](ev, seed)
        return run.result("feasible", as_plan(found)) if found is not None else run.result("error", reason=_no_plan(method))
    _best_heuristic(run, initial_plan)
    if method == "local":
        return run.result("feasible", as_plan(run.best)) if run.best is not None else run.result("error", reason=_no_plan(method))
    return _exact(run)


def _decomposed(run: _Run, initial_plan: Plan | None) -> SolveResult:
    """The latency or energy decomposition (docs/model.md §7.4): its plan and its bound, valid for the whole
    problem."""
    from gaisnet_opt.solvers.decompose.cells import by_cells, decompose_by_cells  # highspy loads on first use
    from gaisnet_opt.solvers.decompose.decompose import decompose

    if run.ev.objective.kind not in ("latency", "energy"):
        raise InputError("options", [("objective.kind", "decompose handles the latency and energy objectives only")])
    if initial_plan is not None:
        run.record["initial_plan"] = "ignored: the decomposition seeds its columns itself"
    if by_cells(run.ev.scenario):  # city scale: by edge-server cells, bounded by the whole problem's floor (§7.4)
        out = decompose_by_cells(run.ev.scenario, run.ev.objective, budget=run.budget, seed=run.params.seed)
    else:
        out = decompose(run.ev.scenario, run.ev.objective, budget=run.budget, seed=run.params.seed,
                        rel_gap=run.params.rel_gap)
    run.record["decompose_notes"] = list(out.notes)
    if out.plan is None:
        status: Status = "timeout" if run.budget.expired() else "error"
        return run.result(status, bound=out.bound, reason="the decomposition found no plan: " + "; ".join(out.notes),
                          trace=out.trace)
    return run.result("feasible", out.plan, out.bound, trace=out.trace)


def _best_heuristic(run: _Run, initial_plan: Plan | None) -> None:
    """The best constructive plan (or the caller's), improved by local search: kept in `run.best` as it improves."""
    ev, budget = run.ev, run.budget
    with budget.phase("heuristics"):
        if initial_plan is not None:
            given, notes = from_plan(ev, initial_plan)
            run.record["initial_plan"] = "; ".join(notes) or "used as it is"
            run.best = given
        for name in CONSTRUCTIVE_ORDER:
            p = HEURISTICS[name](ev, run.params.seed)
            if p is not None and (run.best is None or ev.score(p) < ev.score(run.best)):
                run.best = p
    if run.best is None:
        return
    share = WARM_SHARE if run.method in EXACT else 1.0  # of the limit, counted from the start of the call
    limit = run.params.time_limit_s if budget.limit_s is None else budget.limit_s
    seconds = budget.left() if limit is None else max(0.0, share * limit - budget.elapsed())
    with budget.phase("local-search"):
        run.best = local_search(ev, run.best, seconds, run.params.seed)
        if run.method in EXACT:
            run.record["heuristic_objective"] = objective_value(round_cost(ev.scenario, as_plan(run.best)), ev.objective)
        budget.check()


def _exact(run: _Run) -> SolveResult:
    """Floor, table, pruning, model; warm-start from the best plan, solve, keep the better of solver and heuristics."""
    ev, record, budget, p = run.ev, run.record, run.budget, run.params
    scenario, objective = ev.scenario, ev.objective
    with budget.phase("floor"):
        low = floors(scenario, ev.min_clusters, budget)
    record.update(latency_floor=low[0], energy_floor=low[1])
    run.floor = floor = floor_value(objective, low)
    start_plan = as_plan(run.best) if run.best is not None else None
    upper = record["heuristic_objective"] if start_plan is not None and not objective.maximize else None
    gap = relative_gap(upper, floor)
    if start_plan is not None and p.stop_at_floor and gap is not None and gap <= p.rel_gap:
        record["proved_by"] = "floor"  # the heuristic plan meets a lower bound: optimal without a model
        if p.log_file is not None:
            write_text(p.log_file, f"{run.method} was not started: the heuristic plan's objective {upper!r} "
                                   f"meets the relaxation floor {floor!r} (relative gap <= {p.rel_gap})\n")
        return run.result("optimal", start_plan, floor)
    try:
        with budget.phase("table"):
            table, run.restriction = exact_table(scenario, ev.cache, p, budget)
    except ModelTooLarge as exc:
        record["model_too_large"] = str(exc)
        status: Status = "feasible" if start_plan is not None else "error"
        return run.result(status, start_plan, floor, f"no exact model: {exc}")
    record["arcs_built"] = len(table.segs) + len(table.hops)
    with budget.phase("pruning"):
        table = pruned(table, objective, upper, ev.deadline_s, ev.min_clusters, budget)
    with budget.phase("model"):
        jm = formulate(table, objective, ev.min_clusters, ev.max_clusters, ev.deadline_s, low, budget)
        record.update(variables=len(jm.rows.binary), rows=jm.rows.n_rows)
        if run.method == "cpsat":
            from gaisnet_opt.formulations.cpsat import resolution, tolerance

            res = resolution(jm.rows)
            record.update(resolution=res, tolerance=tolerance(jm.rows, res))
    if (broken := jm.rows.empty_row_broken()) is not None:  # no solver needed (nor able: empty rows are not passed on)
        if start_plan is not None:  # only a restricted model can lose every chain the heuristics found
            return run.result("feasible", start_plan, floor)
        return run.result("infeasible", reason=_proven_infeasible("the model's construction", jm, broken))
    with budget.phase("solver"):
        hint = None
        if start_plan is not None and p.warm_start:
            arcs = table.arcs_of(start_plan)
            hint = jm.assignment(*arcs) if arcs is not None else None
            record["warm_start_used"] = hint is not None
        solved = EXACT[run.method](jm.rows, replace(run.opts, hint=hint))
        plan = table.plan(*jm.chosen(solved)) if solved.x is not None else None
    return _solved(run, jm, solved, plan, start_plan, floor)


def _solved(run: _Run, jm: JointModel, solved: ExactRun, plan: Plan | None, start: Plan | None,
            floor: float | None) -> SolveResult:
    """The solver's plan or the warm start's, whichever the cost model prefers, with the bound that holds."""
    ev, record = run.ev, run.record
    record["solver_status"] = solved.detail or solved.status
    status, bound = solved.status, solved.bound
    if run.restriction is not None:
        record["restricted_bound"] = bound
        status, bound = ("feasible" if status == "optimal" else status), None
    if floor is not None and (bound is None or floor > bound):
        bound = floor  # the relaxation's floor holds for the whole problem, restricted model or not
    if status == "infeasible" and start is None:
        return run.result("infeasible", reason=_proven_infeasible(run.method, jm))
    if start is not None and (plan is None or _better(ev, start, plan)):
        # anytime: the heuristic plan beats what the solver returned in time (or the restricted model)
        return run.result("feasible", start, bound)
    if plan is None:
        return run.result(status, bound=bound, reason=f"{run.method} found no plan in the time left ({solved.detail})")
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
