"""The decomposition's entry point: a plan, a lower bound valid for the whole problem, and the gap.

Start points are the requests and the data sources without a request; the
floor (`bounds.floor`, over the same exact chain searches) is the first
bound. Energy goes to column generation (`energy`, a heuristic plan tried
after it); latency gets the heuristic plan first, as the first incumbent of
the threshold search (`latency`). Every plan is checked by the checker and
priced by the cost model, each better one and each higher bound noted in the
trace when found; a plan the checker rejects is never returned
(docs/model.md §7.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.checker import check
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, Progress, relative_gap
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.decompose.energy import Outcome, solve_energy
from gaisnet_opt.solvers.decompose.incumbent import heuristic_plan
from gaisnet_opt.solvers.decompose.lagrange import Duals
from gaisnet_opt.solvers.decompose.latency import solve_latency
from gaisnet_opt.solvers.decompose.master import Column, Master
from gaisnet_opt.solvers.decompose.trace import Trace
from gaisnet_opt.solvers.service import cluster_range, deadline_of

FALLBACK_S = 5.0
"""Local search the fallback heuristic may take at most."""
INCUMBENT_S = 1.0
"""Local search the latency search's first incumbent may take (the search improves on it)."""
REL_GAP = 1e-6
"""The gap at which the search stops: optimal to rounding."""


@dataclass(frozen=True)
class Decomposed:
    """The decomposition's result: plan (None: none found in time), its objective by the cost model, a lower
    bound valid for the whole problem, their gap, seconds per phase, what happened, and (energy) the duals of
    the best Lagrangian bound, which the cells put together into the whole problem's (`lagrange`)."""

    plan: Plan | None
    objective: float | None
    bound: float | None
    gap: float | None
    phases: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    trace: tuple[Progress, ...] = ()
    duals: Duals | None = None


def decompose(scenario: Scenario, objective: Objective, *, budget: Budget, seed: int = 0,
              rel_gap: float = REL_GAP, lp_gap: float = 0.0) -> Decomposed:
    """Plan one round for `objective` (latency or energy) within `budget` (see the module docstring); energy's
    column generation stops within `lp_gap` of its LP (`solve_energy`)."""
    if objective.kind not in ("latency", "energy"):
        raise ValueError(f"the decomposition handles the latency and energy objectives, not {objective.kind!r}")
    lo, hi = cluster_range(scenario)
    deadline = deadline_of(scenario, objective)
    # latency: every search checks the budget (the floor's sweeps overran an 11 s limit by 2.6 s at 2,000
    # clients without); energy's pricing gives its searches their own share of it (energy.py, pricing.py)
    sb = StartBounds(scenario, deadline, budget if objective.kind == "latency" else None)
    starts: list[Start] = [("inference", r) for r in sb.requests] + [("finetune", s) for s in sb.sources]
    master = Master(sb.graph, sb.requests, lo, hi)
    notes: list[str] = []
    trace = Trace(budget)
    try:
        with budget.phase("floor"):
            low = floors(scenario, lo, budget, sb)
    except OutOfTime:
        return Decomposed(None, None, None, None, dict(budget.phases), ("the floor ran out of time",))
    floor = low[0] if objective.kind == "latency" else low[1]
    trace.lower(floor)
    if objective.kind == "latency":
        return _latency(scenario, objective, deadline, sb, master, starts, floor, budget, seed, rel_gap, trace)
    out = solve_energy(sb, master, starts, budget, seed, trace, lp_gap)
    notes += out.notes
    result = _result(scenario, objective, deadline, out, max(floor, out.bound), sb, budget, notes, trace)
    if out.prices is not None:
        result = replace(result, duals=Duals.of(out.prices, sb.graph, lo > 0))
    first = budget.phases.get("heuristic", 0.0)  # its constructive heuristics cannot stop midway
    if (result.gap is None or result.gap > rel_gap) and budget.left() > first:  # it may beat the master's plan
        with budget.phase("heuristic"):
            plan = heuristic_plan(scenario, objective, min(FALLBACK_S, budget.left()), seed)
        value = _value(scenario, objective, deadline, plan)
        if plan is not None and value is not None and (result.objective is None or value < result.objective):
            trace.plan(value)
            return _better(result, plan, value, budget, trace)
    return result


def _latency(scenario: Scenario, objective: Objective, deadline: float | None, sb: StartBounds, master: Master,
             starts: list[Start], floor: float, budget: Budget, seed: int, rel_gap: float, trace: Trace) -> Decomposed:
    """The heuristic's plan first (the threshold search's first incumbent and upper end), then the search."""
    plan = None
    if budget.left() > budget.phases.get("floor", 0.0):  # its heuristics take no budget: about half the floor's time
        with budget.phase("heuristic"):
            plan = heuristic_plan(scenario, objective, min(INCUMBENT_S, budget.left()), seed)
    value = _value(scenario, objective, deadline, plan)
    if value is not None:
        trace.plan(value)

    def price(columns: list[Column]) -> float | None:
        return _value(scenario, objective, deadline, _plan(sb, columns))

    out = solve_latency(sb, master, starts, floor, math.inf if value is None else value, price, budget, seed,
                        rel_gap, trace)
    result = _result(scenario, objective, deadline, out, max(floor, out.bound), sb, budget, list(out.notes), trace)
    if plan is not None and value is not None and (result.objective is None or value < result.objective):
        return _better(result, plan, value, budget, trace)
    return result


def _plan(sb: StartBounds, columns: list[Column]) -> Plan:
    return Plan(clusters=tuple(c.chain.cluster(sb.graph, c.kind) for c in columns))


def _value(scenario: Scenario, objective: Objective, deadline: float | None, plan: Plan | None) -> float | None:
    """The plan's objective by the cost model (None: no plan, or the checker rejects it)."""
    if plan is None or check(scenario, plan, deadline):
        return None
    return objective_value(round_cost(scenario, plan), objective)


def _better(result: Decomposed, plan: Plan, value: float, budget: Budget, trace: Trace) -> Decomposed:
    """`result` with the heuristic's plan in place of the master's (better, or the only one)."""
    why = ("the local-search plan beat the master's" if result.plan is not None
           else "the local-search plan (the master packed none better)")
    return replace(result, plan=plan, objective=value, gap=relative_gap(value, result.bound),
                   phases=dict(budget.phases), notes=(*result.notes, why), trace=tuple(trace.points))


def _result(scenario: Scenario, objective: Objective, deadline: float | None, out: Outcome, bound: float,
            sb: StartBounds, budget: Budget, notes: list[str], trace: Trace) -> Decomposed:
    """Check and price the plan; the gap between its cost-model value and the bound (both noted in `trace`)."""
    plan = None
    value = None
    if out.chosen is not None:
        plan = _plan(sb, out.chosen)
        broken = check(scenario, plan, deadline)
        if broken:
            notes.append(f"the checker rejected the plan: {broken[0].rule} at {broken[0].path}")
            plan = None
        else:
            value = objective_value(round_cost(scenario, plan), objective)
            trace.plan(value)
    trace.lower(bound)
    finite = bound if math.isfinite(bound) else None
    gap = relative_gap(value, finite) if value is not None and finite is not None else None
    return Decomposed(plan, value, finite, gap, dict(budget.phases), tuple(notes), tuple(trace.points))
