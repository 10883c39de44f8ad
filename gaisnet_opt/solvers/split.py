"""Where to split the model along one chain (paper §IV.A): exact methods and heuristics behind one function.

`solve_split` checks the chain, builds the cost-model table once, runs the
chosen method, and evaluates the plan it returns with the cost model and the
checker, so every method's objective is the cost model's value of its plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from time import perf_counter
from typing import Literal

from gaisnet_opt.checker import check, deadline_for
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.plan import Cluster, ClusterKind, Plan, cluster_from_counts
from gaisnet_opt.result import Objective, SolveResult, relative_gap
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.split_dp import split_dp
from gaisnet_opt.solvers.split_heuristics import HEURISTICS, NoSplit
from gaisnet_opt.solvers.split_table import ExactOutcome, SplitInstance, SplitTable

SplitMethod = Literal["dp", "milp", "cpsat", "uniform", "proportional", "greedy", "balance"]


def _dp(inst: SplitInstance, time_limit: float | None) -> ExactOutcome:
    sol = split_dp(inst)
    if sol is None:
        return ExactOutcome("infeasible", None, None, None)
    return ExactOutcome("optimal", sol.segs, sol.value, sol.value)


# Pyomo and OR-Tools take about a second to import: only when their method runs.
def _milp(inst: SplitInstance, time_limit: float | None) -> ExactOutcome:
    from gaisnet_opt.formulations.split_milp import solve_split_milp

    return solve_split_milp(inst, time_limit)


def _cpsat(inst: SplitInstance, time_limit: float | None) -> ExactOutcome:
    from gaisnet_opt.formulations.split_cpsat import solve_split_cpsat

    return solve_split_cpsat(inst, time_limit)


EXACT: dict[str, Callable[[SplitInstance, float | None], ExactOutcome]] = {"dp": _dp, "milp": _milp, "cpsat": _cpsat}
METHODS: tuple[str, ...] = (*EXACT, *HEURISTICS)

ROUND_RULES = frozenset({"cluster-count"})
"""Checker rules about a whole round's clusters, not one chain's split: left to the clustering solver.
A split result is a partial plan: `gaisnet-opt check --skip cluster-count` checks it as the solver did."""


def chain_problem(scenario: Scenario, chain: list[str], kind: ClusterKind) -> str | None:
    """Why `chain` cannot host a `kind` cluster whatever the split (None: it may)."""
    if not chain:
        return "the chain is empty"
    for c in chain:
        if c not in scenario.node:
            return f"unknown node '{c}' in the chain"
        if chain.count(c) > 1:
            return f"{c} appears {chain.count(c)} times in the chain; a node joins a chain once"
    start, end = scenario.node[chain[0]], chain[-1]
    if kind == "finetune" and start.data is None:
        return f"fine-tuning start point {start.id} is not a data source"
    if kind == "inference":
        if start.request is None:
            return f"inference start point {start.id} raised no request"
        if len(chain) > 1 and scenario.rate(end, start.id) is None:
            return f"no link {end} -> {start.id} to return the inference result"
    return None


def gb(n_bytes: float) -> str:
    """Bytes as gigabytes in an infeasibility reason."""
    return f"{n_bytes / 1e9:.3g} GB"


def _why_not(table: SplitTable, node: str, first: int, last: int) -> str | None:
    """Which resource of `node` forbids it holding units first..last (None: nothing does)."""
    seg, units = table.segments(node), table.scenario.profile.units
    names = units[first].name if first == last else f"{units[first].name}..{units[last].name}"
    if seg.memory_bytes[first][last] > seg.capacity_bytes:
        return f"{node} needs {gb(seg.memory_bytes[first][last])} for {names}, has {gb(seg.capacity_bytes)}"
    if not seg.ok[first][last]:
        return f"{node} would hold tunable units {names} but has no link to edge server {table.server}"
    return None


def _deadline_reason(inst: SplitInstance) -> str:
    """Splits exist but none meets the deadline: how fast the fastest is."""
    fastest = split_dp(SplitInstance.build(inst.table, inst.chain, Objective()))
    took = "no split" if fastest is None else f"the fastest split takes {fastest.value:.6g} s"
    return f"{took}; the deadline is {inst.deadline_s:.6g} s"


def diagnose(inst: SplitInstance) -> str:
    """Name the member and resource that leave `inst` without a split (called when a method finds none)."""
    table, chain, n, k = inst.table, inst.chain, inst.n_units, inst.n_members
    if k == 1:
        return _why_not(table, chain[0], 0, n - 1) or _deadline_reason(inst)
    if not inst.segs_from.get((0, 0)):
        return f"start point {_why_not(table, chain[0], 0, 0)}"
    if not any(s.m == k - 1 for s in inst.segs):
        return f"end point {_why_not(table, chain[-1], n - 1, n - 1)}"
    # furthest prefix 0..J-1 any path places, and the member holding its last unit
    reached, starts = (0, 0), {(0, 0)}
    for j in range(n):
        for b in range(k):
            if (b, j) not in starts:
                continue
            for s in inst.segs_from.get((b, j), ()):
                reached = max(reached, (s.last + 1, -b))
                starts.update((h.b, s.last + 1) for h in inst.hops_from.get((b, s.last), ()))
    top, holder = reached[0], chain[-reached[1]]
    if top == n:
        return _deadline_reason(inst)
    end, units = chain[-1], table.scenario.profile.units
    placed = f"the members up to {holder} can take at most units 0..{top - 1} ({top} units, up to {units[top - 1].name})"
    limit = _why_not(table, end, top, n - 1)
    if limit is not None:
        return f"{placed}; the remaining {n - top} units cannot go on end point {end}: {limit}"
    row = table.hops(holder, end)
    missing = [f"{a} -> {b}" for a, b in ((holder, end), (end, holder)) if table.scenario.rate(a, b) is None]
    if row.ok(top - 1) or not missing:
        return f"{placed}; no later member can take unit {top} ({units[top].name})"
    return f"{placed}; the remaining {n - top} units fit on end point {end} but there is no link {' / '.join(missing)}"


def _result(status: str, method: str, params: dict, spec: Objective, t0: float, **kw) -> SolveResult:
    return SolveResult(status=status, method=method, params=params, objective_spec=spec, time_s=perf_counter() - t0, **kw)


def solve_split(
    scenario: Scenario,
    chain: list[str],
    kind: ClusterKind = "finetune",
    method: SplitMethod = "dp",
    objective: Objective = Objective(),
    time_limit: float | None = None,
    server: str | None = None,
    table: SplitTable | None = None,
) -> SolveResult:
    """Split the model along `chain` (start point first) by `method`, minimizing `objective`.

    The plan has one cluster whose edge server is explicit (`server`, else the
    cost model's choice for the whole chain), so skipping an inner edge server
    does not change who delivers. Exact methods may skip inner members; the
    heuristics use all of them. The objective is the cost model's value of the
    returned plan; `bound` and `gap` are proven (DP: exact; CP-SAT: its bound
    less its rounding tolerance). Pass a prebuilt `table` to reuse cost-model
    figures across calls (it must match the scenario, kind, server and start).
    A latency deadline (the objective's, else the
    fine-tuning service's, as the checker reads them) constrains every exact
    method; the heuristics' plans are only checked against it.
    """
    t0 = perf_counter()
    if method not in METHODS:
        raise ValueError(f"unknown split method '{method}'; choose one of {', '.join(METHODS)}")
    params: dict = {"chain": list(chain), "kind": kind, "time_limit": time_limit}
    problem = chain_problem(scenario, chain, kind)
    if problem is not None:
        return _result("infeasible", method, params, objective, t0, reason=problem)
    probe = SplitTable.for_chain(scenario, kind, chain, server or (table.server if table else None))
    if table is None:
        table = probe
    elif table.scenario is not scenario or (table.kind, table.server, table.samples, table.cached) != (
        probe.kind, probe.server, probe.samples, probe.cached
    ):
        raise ValueError("the table was built for another scenario, kind, server or start point's sample count")
    params["server"] = table.server
    deadline = deadline_for(scenario, objective.deadline_s)
    params["deadline_s"] = deadline
    inst = SplitInstance.build(table, chain, objective, deadline)
    bound = None
    if method in EXACT:
        if method == "cpsat":
            from gaisnet_opt.formulations.split_cpsat import resolution, tolerance

            params.update(resolution=resolution(inst), tolerance=tolerance(inst))
        ends = inst.n_members - 1
        # without a first or last segment the models would be trivially infeasible: say why directly
        has_ends = inst.segs_from.get((0, 0)) and any(s.m == ends for s in inst.segs)
        outcome = EXACT[method](inst, time_limit) if has_ends else ExactOutcome("infeasible", None, None, None)
        if outcome.segs is None:
            reason = diagnose(inst) if outcome.status == "infeasible" else f"{method} found no split within {time_limit} s"
            return _result(outcome.status, method, params, objective, t0, bound=outcome.bound, reason=reason)
        cluster, status, bound = inst.cluster(outcome.segs), outcome.status, outcome.bound
    else:
        try:
            counts = HEURISTICS[method](table, list(chain))
        except NoSplit as exc:
            return _result("infeasible", method, params, objective, t0, reason=str(exc))
        cluster, status = cluster_from_counts(kind, list(chain), counts, table.server), "feasible"
    return _evaluated(scenario, cluster, method, status, bound, params, objective, t0)


def _evaluated(
    scenario: Scenario, cluster: Cluster, method: str, status: str, bound: float | None, params: dict,
    objective: Objective, t0: float,
) -> SolveResult:
    """The one evaluation path: checker, then the cost model's objective of the plan."""
    plan = Plan(clusters=(cluster,))
    deadline = objective.deadline_s
    violations = check(scenario, plan, deadline, skip=ROUND_RULES)
    if violations:
        # an exact method's split breaks no rule unless something is wrong: say so
        broken = "infeasible" if method in HEURISTICS else "error"
        why = "; ".join(v.message for v in violations)
        return _result(broken, method, params, objective, t0, reason=f"the {method} split breaks a rule: {why}")
    value = objective_value(round_cost(scenario, plan), objective)
    if bound is not None and not math.isfinite(bound):
        bound = None
    return _result(status, method, params, objective, t0, objective=value, bound=bound, gap=relative_gap(value, bound), plan=plan)
