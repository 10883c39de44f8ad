"""Where to split the model along one chain (paper §IV.A): exact methods and heuristics behind one function.

`solve_split` checks the chain, builds the cost-model table once, runs the
chosen method, and hands the plan it returns to `finish` (checker, cost
model), so every method's objective is the cost model's value of its plan.
The exact methods are the DP (`split_dp`) and the split model
(`formulations.split_model`) solved by HiGHS or CP-SAT; the heuristics are
in `split_heuristics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.checker import deadline_for
from gaisnet_opt.formulations.rows import ExactRun, SolverOptions
from gaisnet_opt.formulations.split_model import SplitModel, formulate_split
from gaisnet_opt.instances.split_instance import Seg, SplitInstance
from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.params import SolveParams, check_method
from gaisnet_opt.plan import ClusterKind, Plan, cluster_from_counts
from gaisnet_opt.result import Objective, SolveResult, Status
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.finish import finish
from gaisnet_opt.solvers.split_diagnosis import chain_problem, diagnose
from gaisnet_opt.solvers.split_dp import split_dp
from gaisnet_opt.solvers.split_heuristics import HEURISTICS, NoSplit

SplitMethod = Literal["dp", "milp", "cpsat", "uniform", "proportional", "memory-fill", "balance-by-flops"]

EXACT_TOLERANCE = 1e-9
"""HiGHS's feasibility tolerances for the split: the MILP must match the DP to 1e-9 relative."""


@dataclass(frozen=True)
class SplitOutcome:
    """An exact split method's answer: status, the chosen segments (if any), its proven bound."""

    status: Status
    segs: list[Seg] | None
    bound: float | None


def _dp(inst: SplitInstance, opts: SolverOptions, params: dict[str, Any]) -> SplitOutcome:
    sol = split_dp(inst)
    if sol is None:
        return SplitOutcome("infeasible", None, None)
    return SplitOutcome("optimal", sol.segs, sol.value)


def _outcome(model: SplitModel, solved: ExactRun) -> SplitOutcome:
    return SplitOutcome(solved.status, model.segments(solved) if solved.x is not None else None, solved.bound)


# Pyomo and OR-Tools take about a second to import: only when their method runs.
def _milp(inst: SplitInstance, opts: SolverOptions, params: dict[str, Any]) -> SplitOutcome:
    from gaisnet_opt.formulations.milp import solve_milp

    model = formulate_split(inst)
    return _outcome(model, solve_milp(model.rows, opts))


def _cpsat(inst: SplitInstance, opts: SolverOptions, params: dict[str, Any]) -> SplitOutcome:
    from gaisnet_opt.formulations.cpsat import deadline_slack, resolution, solve_cpsat, tolerance

    model = formulate_split(inst)
    rows = model.rows
    params.update(resolution=resolution(rows), tolerance=tolerance(rows), deadline_slack=deadline_slack(rows))
    return _outcome(model, solve_cpsat(rows, opts))


EXACT: dict[str, Callable[[SplitInstance, SolverOptions, dict[str, Any]], SplitOutcome]] = {
    "dp": _dp, "milp": _milp, "cpsat": _cpsat,
}
METHODS: tuple[str, ...] = (*EXACT, *HEURISTICS)

ROUND_RULES = frozenset({"cluster-count"})
"""Checker rules about a whole round's clusters, not one chain's split: left to the clustering solver.
A split result is a partial plan: `gaisnet-opt check --skip cluster-count` checks it as the solver did."""


def _table(scenario: Scenario, chain: list[str], kind: ClusterKind, server: str | None,
           table: SplitTable | None) -> SplitTable:
    """`table` if it matches the chain's kind, server and start point, else a new one (a mismatch is a ValueError)."""
    probe = SplitTable.for_chain(scenario, kind, chain, server or (table.server if table else None))
    if table is None:
        return probe
    if table.scenario is not scenario or (table.kind, table.server, table.samples, table.cached) != (
        probe.kind, probe.server, probe.samples, probe.cached
    ):
        raise ValueError("the table was built for another scenario, kind, server or start point's sample count")
    return table


def solve_split(
    scenario: Scenario,
    chain: list[str],
    kind: ClusterKind = "finetune",
    method: SplitMethod = "dp",
    objective: Objective = Objective(),
    *,
    params: SolveParams = SolveParams(),
    server: str | None = None,
    table: SplitTable | None = None,
    budget: Budget | None = None,
) -> SolveResult:
    """Split the model along `chain` (start point first) by `method`, minimizing `objective`.

    The plan has one cluster whose edge server is explicit (`server`, else the
    cost model's choice for the whole chain), so skipping an inner edge server
    does not change who delivers. Exact methods may skip inner members; the
    heuristics use all of them. The objective is the cost model's value of the
    returned plan; `bound` and `gap` are proven (DP: exact; CP-SAT: its bound
    less its rounding tolerance). Pass a prebuilt `table` to reuse cost-model
    figures across calls (it must match the scenario, kind, server and start).
    A latency deadline (the objective's, else the fine-tuning service's, as
    the checker reads them) constrains every exact method; the heuristics'
    plans are only checked against it. `params.time_limit_s` (or `budget`)
    bounds the whole call as in `solve`; of the rest of `params` the split
    reads `threads` and `seed` (its gap is 0: the DP's optimum is exact).
    """
    check_method(method, METHODS)
    budget = budget if budget is not None else Budget(params.time_limit_s)
    record: dict[str, Any] = {**params.model_dump(), "chain": list(chain), "kind": kind}

    def result(status: Status, **kw: Any) -> SolveResult:
        return finish(scenario, objective, method, record, budget, status, skip=ROUND_RULES, **kw)

    try:
        return _split(scenario, chain, kind, method, objective, params, server, table, budget, record, result)
    except OutOfTime as exc:
        return result("timeout", reason=f"the time limit of {params.time_limit_s} s ran out during {exc.phase}",
                      timed_out_in=exc.phase)


def _split(scenario: Scenario, chain: list[str], kind: ClusterKind, method: str, objective: Objective,
           params: SolveParams, server: str | None, table: SplitTable | None, budget: Budget,
           record: dict[str, Any], result: Callable[..., SolveResult]) -> SolveResult:
    """`solve_split`'s steps, each a phase of `budget`."""
    with budget.phase("precheck"):
        problem = chain_problem(scenario, chain, kind)
    if problem is not None:
        return result("infeasible", reason=problem)
    with budget.phase("table"):
        table = _table(scenario, chain, kind, server, table)
        record["server"] = table.server
        deadline = deadline_for(scenario, objective.deadline_s)
        record["deadline_s"] = deadline
        inst = SplitInstance.build(table, chain, objective, deadline)
        budget.check()
    if method not in EXACT:
        with budget.phase("heuristics"):
            try:
                counts = HEURISTICS[method](table, list(chain))
            except NoSplit as exc:
                return result("error", reason=f"the {method} heuristic found no split: {exc}")
        return result("feasible", plan=Plan(clusters=(cluster_from_counts(kind, list(chain), counts, table.server),)))
    opts = SolverOptions(params.time_limit_s, params.threads, params.seed, 0.0,
                         feasibility_tolerance=EXACT_TOLERANCE, budget=budget)
    with budget.phase("solver"):
        outcome = EXACT[method](inst, opts, record)
    if outcome.segs is None:
        reason = diagnose(inst) if outcome.status == "infeasible" else f"{method} found no split in the time left"
        return result(outcome.status, bound=outcome.bound, reason=reason)
    return result(outcome.status, plan=Plan(clusters=(inst.cluster(outcome.segs),)), bound=outcome.bound)
