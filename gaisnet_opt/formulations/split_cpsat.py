"""The split as an OR-Tools CP-SAT model: the MILP's flow on integer coefficients.

CP-SAT needs integers, so every coefficient c becomes round(c / resolution)
with `resolution = largest finite coefficient / SCALE`. Each rounding errs by
at most resolution / 2 and a plan's value sums at most 2·members + 3 terms
(segments, hops, the two maxima, the return hop), so the CP-SAT optimum's
true value is within `(2·members + 3) · resolution` of the exact optimum
(`tolerance`). The caller re-evaluates the returned plan with the cost model.
A latency deadline is rounded the safe way (see `_add_deadline`): CP-SAT's
plans always meet it, but it may miss plans within its resolution of it.
"""

from __future__ import annotations

import math

from ortools.sat.python import cp_model

from gaisnet_opt.formulations.cpsat_run import new_solver
from gaisnet_opt.solvers.split_table import ExactOutcome, SplitInstance

SCALE = 1e9
"""Integer units per largest coefficient: 1e-9 relative resolution, well inside int64 for any chain."""


def resolution(inst: SplitInstance) -> float:
    """The value of one integer unit in the objective's own units (seconds, joules or their mix)."""
    values = [s.stage for s in inst.segs] + [h.stage for h in inst.hops] + [inst.return_s]
    if inst.weights.form == "sum":
        values = [v for s in inst.segs for v in (s.cost, s.dl, s.ul)] + [h.cost for h in inst.hops] + [inst.constant]
    return max(values, default=0.0) / SCALE or 1.0


def tolerance(inst: SplitInstance) -> float:
    """How far the CP-SAT plan's true value may be above the optimum (see the module docstring)."""
    return (2 * inst.n_members + 3) * resolution(inst)


def build_split_cpsat(inst: SplitInstance) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model of `inst` and its segment variables (the rows of `build_split_milp`)."""
    res = resolution(inst)
    q = lambda v: int(round(v / res))
    model = cp_model.CpModel()
    rows, segs, hops = inst.rows, inst.segs, inst.hops
    x = [model.new_bool_var(f"x{i}") for i in range(len(segs))]
    w = [model.new_bool_var(f"w{i}") for i in range(len(hops))]
    model.add(sum(x[i] for i in rows.begin) == 1)
    model.add(sum(x[i] for i in rows.finish) == 1)
    for seg_ids, hop_ids in rows.balance:
        model.add(sum(x[i] for i in seg_ids) == sum(w[i] for i in hop_ids))

    if inst.latency_cap is not None:
        _add_deadline(model, inst, x, w)

    if inst.weights.form == "bottleneck":
        top = sum(q(s.stage) for s in segs) + sum(q(h.stage) for h in hops) + q(inst.return_s)
        z = model.new_int_var(0, top, "z")
        for m, seg_ids, sent in rows.members:
            ret = q(inst.return_s) if m == inst.n_members - 1 else 0
            model.add(z >= sum(q(segs[i].stage) * x[i] for i in seg_ids) + sum(q(hops[i].stage) * w[i] for i in sent) + ret)
        model.minimize(z)
        return model, x
    dl = model.new_int_var(0, max((q(s.dl) for s in segs), default=0), "dl")
    ul = model.new_int_var(0, max((q(s.ul) for s in segs), default=0), "ul")
    for _, seg_ids, _ in rows.members:
        model.add(dl >= sum(q(segs[i].dl) * x[i] for i in seg_ids))
        model.add(ul >= sum(q(segs[i].ul) * x[i] for i in seg_ids))
    model.minimize(
        sum(q(s.cost) * x[i] for i, s in enumerate(segs)) + sum(q(h.cost) * w[i] for i, h in enumerate(hops))
        + dl + ul + q(inst.constant)
    )
    return model, x


def _add_deadline(model: cp_model.CpModel, inst: SplitInstance, x: list, w: list) -> None:
    """Latency <= the instance's latency cap, safely: seconds rounded up, in units of cap / SCALE.

    Every plan CP-SAT accepts meets the deadline in the cost model; plans within
    `(2·members + 3) · cap / SCALE` of the cap may be cut off.
    """
    cap_s = inst.latency_cap
    assert cap_s is not None
    if cap_s <= 0:  # a deadline under a nanosecond: nothing fits
        model.add_bool_or([])
        return
    unit = cap_s / SCALE
    cap = int(SCALE) + 1  # anything past the deadline is as infeasible as this; keeps int64 safe
    up = lambda v: min(math.ceil(v / unit), cap)
    dl_s = model.new_int_var(0, cap, "dl_s")
    ul_s = model.new_int_var(0, cap, "ul_s")
    for _, seg_ids, _ in inst.rows.members:
        model.add(dl_s >= sum(up(inst.segs[i].dl_s) * x[i] for i in seg_ids))
        model.add(ul_s >= sum(up(inst.segs[i].ul_s) * x[i] for i in seg_ids))
    model.add(
        dl_s + ul_s + sum(up(s.time) * x[i] for i, s in enumerate(inst.segs))
        + sum(up(h.time) * w[i] for i, h in enumerate(inst.hops)) + up(inst.return_s) <= int(SCALE)
    )


def solve_split_cpsat(inst: SplitInstance, time_limit: float | None = None, seed: int = 0) -> ExactOutcome:
    """Solve with one worker and a fixed seed (deterministic), presolve off (see cpsat_run); objective and bound
    back in real units."""
    model, x = build_split_cpsat(inst)
    solver = new_solver(1, seed, time_limit)
    code = solver.solve(model)
    if code == cp_model.INFEASIBLE:
        return ExactOutcome("infeasible", None, None, None)
    res = resolution(inst)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactOutcome("timeout" if code == cp_model.UNKNOWN else "error", None, None, None)
    segs = [inst.segs[i] for i, v in enumerate(x) if solver.boolean_value(v)]
    # the rounded optimum is within tolerance of the real one: report the bound that stays proven;
    # under a deadline the model's feasible set is a safe subset, so its bound proves nothing
    bound = None if inst.latency_cap is not None else max(0.0, solver.best_objective_bound * res - tolerance(inst))
    return ExactOutcome("optimal" if code == cp_model.OPTIMAL else "feasible", segs, solver.objective_value * res, bound)
