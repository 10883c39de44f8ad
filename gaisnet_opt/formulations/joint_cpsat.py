"""The joint model in OR-Tools CP-SAT: the rows of `formulate` on integer coefficients.

CP-SAT needs integers: every seconds/joules coefficient c (rows of the
`COSTED` groups and a latency/energy objective) becomes round(c / resolution)
with `resolution = largest finite such coefficient / SCALE`, auxiliary
maxima count in resolution units. A plan's scaled value then differs from
its true value by at most resolution/2 per term it sums (`tolerance`), so the
reported bound is CP-SAT's bound less `tolerance`, and deadline rows are
tightened by the same slack so a returned plan never misses a deadline (a
plan within that slack of the deadline may be missed). Coverage objectives
(samples, classes) are integers already. The caller re-evaluates the plan
with the cost model.
"""

from __future__ import annotations

import math

from ortools.sat.python import cp_model

from gaisnet_opt.formulations.cpsat_run import new_solver, solve_rechecked
from gaisnet_opt.formulations.joint_model import COSTED, ExactRun, JointModel, SolverOptions

SCALE = 1e9
"""Integer units per largest coefficient: 1e-9 relative resolution, far inside int64."""


def resolution(jm: JointModel) -> float:
    """Objective units (seconds, joules or their weighted mix) per integer unit."""
    coefs = [abs(c) for g in COSTED for row in jm.groups.get(g, ()) for _, c in row.terms]
    if jm.goal_costed:
        coefs += [abs(c) for _, c in jm.goal]
    top = max((c for c in coefs if math.isfinite(c)), default=0.0)
    return top / SCALE or 1.0


def tolerance(jm: JointModel) -> float:
    """How far a plan's true value may be from its scaled value (objective units)."""
    if not jm.goal_costed:
        return 0.0
    per_chain = 2 * jm.table.n_units + 1  # segments, hops, the two maxima
    summed = len(jm.table.starts) if any(jm.binary[v] for v, _ in jm.goal) else 0  # energy sums every chain
    return 0.5 * per_chain * (summed + (jm.latency is not None)) * resolution(jm)


def build_joint_cpsat(jm: JointModel) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model and its variables, in `jm`'s order."""
    res = resolution(jm)
    slack = 0.5 * (2 * jm.table.n_units + 1)
    model = cp_model.CpModel()
    x: list[cp_model.IntVar] = []
    for i, name in enumerate(jm.names):
        if jm.binary[i]:
            x.append(model.new_bool_var(name))
        else:
            x.append(model.new_int_var(0, math.ceil(jm.upper[i] / res) + 1, name))
    for group, rows in jm.groups.items():
        costed = group in COSTED
        for row in rows:
            # figures scale; auxiliaries (already in resolution units) and counts keep their ±1
            expr = sum((round(c / res) if costed and jm.binary[v] else round(c)) * x[v] for v, c in row.terms)
            if row.lo is not None:  # only floors: rounded down (and by the slack) so they never cut a plan
                model.add(expr >= (math.floor(row.lo / res - slack * len(jm.table.starts)) if costed else round(row.lo)))
            if row.hi is not None:
                model.add(expr <= (math.floor(row.hi / res - slack) if group == "deadline" else
                                   math.floor(row.hi / res) if costed else round(row.hi)))
    goal = sum((round(c / res) if jm.goal_costed and jm.binary[v] else round(c)) * x[v] for v, c in jm.goal)
    (model.maximize if jm.maximize else model.minimize)(goal)
    return model, x


def solve_joint_cpsat(jm: JointModel, opts: SolverOptions) -> ExactRun:
    """Solve with CP-SAT under `opts`; values and bound back in objective units."""
    model, x = build_joint_cpsat(jm)
    res = resolution(jm)
    if opts.hint is not None:
        for i, v in enumerate(opts.hint):
            model.add_hint(x[i], round(v) if jm.binary[i] else math.ceil(v / res))
    solver = new_solver(opts.threads, opts.seed, opts.time_limit)  # presolve off: see cpsat_run
    p = solver.parameters
    p.relative_gap_limit = opts.rel_gap
    log = None
    if opts.log_file is not None:
        log = open(opts.log_file, "w", encoding="utf-8")
        p.log_search_progress = True
        p.log_to_stdout = False
        solver.log_callback = lambda line: log.write(line + "\n")
    try:
        code, note = solve_rechecked(solver, model)
    finally:
        if log is not None:
            log.close()
    scale = res if jm.goal_costed else 1.0
    detail = "; ".join(filter(None, (solver.status_name(code), note)))
    if code == cp_model.INFEASIBLE:
        return ExactRun("infeasible", None, None, detail=detail)
    bound = solver.best_objective_bound * scale
    bound = (bound + tolerance(jm) if jm.maximize else max(0.0, bound - tolerance(jm))) if math.isfinite(bound) else None
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "timeout" if code == cp_model.UNKNOWN else "error"
        return ExactRun(status, None, bound, detail=detail)
    values = [float(solver.value(v)) * (1.0 if jm.binary[i] else res) for i, v in enumerate(x)]
    return ExactRun("optimal" if code == cp_model.OPTIMAL else "feasible", values, bound, detail=detail)
