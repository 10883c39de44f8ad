"""The split as an OR-Tools CP-SAT model: the MILP's flow on integer coefficients.

CP-SAT needs integers, so every coefficient c becomes round(c / resolution)
with `resolution = largest finite coefficient / SCALE`. Each rounding errs by
at most resolution / 2 and a plan's value sums at most 2·members + 3 terms
(segments, hops, the two maxima, the return hop), so the CP-SAT optimum's
true value is within `(2·members + 3) · resolution` of the exact optimum
(`tolerance`). The caller re-evaluates the returned plan with the cost model.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from gaisnet_opt.formulations.split_milp import ExactOutcome
from gaisnet_opt.solvers.split_table import SplitInstance

SCALE = 1e9
"""Integer units per largest coefficient: 1e-9 relative resolution, well inside int64 for any chain."""


def resolution(inst: SplitInstance) -> float:
    """The value of one integer unit in the objective's own units (seconds, joules or their mix)."""
    values = [s.stage for s in inst.segs] + [h.stage for h in inst.hops] + [inst.return_stage]
    if inst.weights.form == "sum":
        values = [v for s in inst.segs for v in (s.cost, s.dl, s.ul)] + [h.cost for h in inst.hops] + [inst.constant]
    return max(values, default=0.0) / SCALE or 1.0


def tolerance(inst: SplitInstance) -> float:
    """How far the CP-SAT plan's true value may be above the optimum (see the module docstring)."""
    return (2 * inst.n_members + 3) * resolution(inst)


def build_split_cpsat(inst: SplitInstance) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model of `inst` and its segment variables (same rows as `build_split_milp`)."""
    res = resolution(inst)
    q = lambda v: int(round(v / res))  # noqa: E731
    model = cp_model.CpModel()
    n, k = inst.n_units, inst.n_members
    x = [model.new_bool_var(f"x{i}") for i in range(len(inst.segs))]
    w = [model.new_bool_var(f"w{i}") for i in range(len(inst.hops))]

    ends_at, starts_at, of_member = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, s in enumerate(inst.segs):
        starts_at[(s.m, s.first)].append(x[i])
        ends_at[(s.m, s.last)].append(x[i])
        of_member[s.m].append(i)
    sends, receives, sent_by = defaultdict(list), defaultdict(list), defaultdict(list)
    for i, h in enumerate(inst.hops):
        sends[(h.a, h.u)].append(w[i])
        receives[(h.b, h.u + 1)].append(w[i])
        sent_by[h.a].append(i)

    model.add(sum(starts_at.get((0, 0), [])) == 1)
    model.add(sum(ends_at.get((k - 1, n - 1), [])) == 1)
    for m, u in set(ends_at) | set(sends):
        if u < n - 1:
            model.add(sum(ends_at.get((m, u), [])) == sum(sends.get((m, u), [])))
    for m, j in set(starts_at) | set(receives):
        if j > 0:
            model.add(sum(receives.get((m, j), [])) == sum(starts_at.get((m, j), [])))

    if inst.weights.form == "bottleneck":
        top = sum(q(s.stage) for s in inst.segs) + sum(q(h.stage) for h in inst.hops) + q(inst.return_stage)
        z = model.new_int_var(0, top, "z")
        for m, segs in of_member.items():
            ret = q(inst.return_stage) if m == k - 1 else 0
            model.add(z >= sum(q(inst.segs[i].stage) * x[i] for i in segs) + sum(q(inst.hops[i].stage) * w[i] for i in sent_by.get(m, [])) + ret)
        model.minimize(z)
        return model, x
    dl = model.new_int_var(0, max((q(s.dl) for s in inst.segs), default=0), "dl")
    ul = model.new_int_var(0, max((q(s.ul) for s in inst.segs), default=0), "ul")
    for segs in of_member.values():
        model.add(dl >= sum(q(inst.segs[i].dl) * x[i] for i in segs))
        model.add(ul >= sum(q(inst.segs[i].ul) * x[i] for i in segs))
    model.minimize(
        sum(q(s.cost) * x[i] for i, s in enumerate(inst.segs)) + sum(q(h.cost) * w[i] for i, h in enumerate(inst.hops))
        + dl + ul + q(inst.constant)
    )
    return model, x


def solve_split_cpsat(inst: SplitInstance, time_limit: float | None = None, seed: int = 0) -> ExactOutcome:
    """Solve with one worker and a fixed seed (deterministic); objective and bound back in real units."""
    model, x = build_split_cpsat(inst)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    if time_limit is not None:
        solver.parameters.max_time_in_seconds = time_limit
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return ExactOutcome("infeasible", None, None, None)
    res = resolution(inst)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactOutcome("timeout" if code == cp_model.UNKNOWN else "error", None, None, None)
    segs = [inst.segs[i] for i, v in enumerate(x) if solver.boolean_value(v)]
    # the rounded optimum is within tolerance of the real one: report the bound that stays proven
    bound = max(0.0, solver.best_objective_bound * res - tolerance(inst))
    return ExactOutcome("optimal" if code == cp_model.OPTIMAL else "feasible", segs, solver.objective_value * res, bound)
