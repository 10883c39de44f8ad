"""A `LinearModel` in OR-Tools CP-SAT: the same rows on integer coefficients.

CP-SAT needs integers: every seconds/joules coefficient c (rows of the
model's costed groups, and a costed objective) becomes round(c / resolution)
with `resolution = largest finite such coefficient / SCALE`; auxiliary
maxima count in resolution units. A solution's scaled value then differs
from its true value by at most resolution/2 per rounded term it sums
(`tolerance`, from the model's `Rounding`), so the reported bound is
CP-SAT's bound less `tolerance`, and deadline rows are tightened by the same
slack so a returned plan never misses a deadline (a plan within that slack
of the deadline may be missed). Floors are loosened likewise. Counts and
coverage objectives (samples, classes) are integers already. The caller
re-evaluates the plan with the cost model: its true value is within
2·tolerance of the true optimum.
"""

from __future__ import annotations

import math
from typing import IO

from ortools.sat.python import cp_model

from gaisnet_opt.formulations.cpsat_run import new_solver, solve_rechecked
from gaisnet_opt.formulations.rows import ExactRun, LinearModel, LinearRow, SolverOptions

SCALE = 1e9
"""Integer units per largest coefficient: 1e-9 relative resolution, far inside int64."""


def resolution(lm: LinearModel) -> float:
    """Objective units (seconds, joules or their weighted mix) per integer unit."""
    coefs = [abs(c) for g in lm.costed for row in lm.groups.get(g, ()) for _, c in row.terms]
    if lm.goal_costed:
        coefs += [abs(c) for _, c in lm.goal] + [abs(lm.goal_constant)]
    top = max((c for c in coefs if math.isfinite(c)), default=0.0)
    return top / SCALE or 1.0


def tolerance(lm: LinearModel, res: float | None = None) -> float:
    """How far a solution's true value may be from its scaled value (objective units); `res`: `resolution(lm)`
    if known already (it reads every costed coefficient)."""
    if not lm.goal_costed:
        return 0.0
    return 0.5 * lm.rounding.goal_terms * (resolution(lm) if res is None else res)


def deadline_slack(lm: LinearModel) -> float:
    """How far under a deadline row's cap a plan may be cut off (the row's units): one chain's rounding both ways,
    plus the cap's own rounding down. Plans further under the cap are all in the model."""
    return (lm.rounding.chain_terms + 1) * resolution(lm)


def _bounds(lm: LinearModel, group: str, row: LinearRow, res: float) -> tuple[int | None, int | None]:
    """The row's sides in integer units: floors rounded down by the slack of every chain they sum, caps by one's."""
    if group not in lm.costed:
        return (None if row.lo is None else round(row.lo)), (None if row.hi is None else round(row.hi))
    slack = 0.5 * lm.rounding.chain_terms
    lo = None if row.lo is None else math.floor(row.lo / res - slack * lm.rounding.chains)
    hi = None if row.hi is None else math.floor(row.hi / res - (slack if group in lm.caps else 0.0))
    return lo, hi


def build_cpsat(lm: LinearModel, opts: SolverOptions | None = None,
                res: float | None = None) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """The CP-SAT model and its variables, in `lm`'s order (`opts`' budget checked per row; `res`: as in `tolerance`)."""
    tick = opts.tick if opts is not None else lambda: None
    res = resolution(lm) if res is None else res
    model = cp_model.CpModel()
    x: list[cp_model.IntVar] = []
    for i, name in enumerate(lm.names):
        if lm.binary[i]:
            x.append(model.new_bool_var(name))
        else:
            x.append(model.new_int_var(0, math.ceil(lm.upper[i] / res) + 1, name))
    for group, rows in lm.groups.items():
        costed = group in lm.costed
        for row in rows:
            tick()
            # figures scale; auxiliaries (already in resolution units) and counts keep their ±1
            expr = sum((round(c / res) if costed and lm.binary[v] else round(c)) * x[v] for v, c in row.terms)
            lo, hi = _bounds(lm, group, row, res)
            if lo is not None:
                model.add(expr >= lo)
            if hi is not None:
                model.add(expr <= hi)
    scaled = lm.goal_costed
    goal: cp_model.LinearExprT = sum((round(c / res) if scaled and lm.binary[v] else round(c)) * x[v] for v, c in lm.goal)
    goal += round(lm.goal_constant / res) if scaled else round(lm.goal_constant)
    (model.maximize if lm.maximize else model.minimize)(goal)
    return model, x


def solve_cpsat(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    """Solve with CP-SAT under `opts` (presolve off, see `cpsat_run`); values and bound back in objective units."""
    if (broken := lm.empty_row_broken()) is not None:
        return ExactRun("infeasible", None, None, detail=f"a {broken} row has no variable left")
    res = resolution(lm)
    model, x = build_cpsat(lm, opts, res)
    if opts.hint is not None:
        for i, v in enumerate(opts.hint):
            model.add_hint(x[i], round(v) if lm.binary[i] else math.ceil(v / res))
    solver = new_solver(opts.threads, opts.seed, opts.seconds())
    solver.parameters.relative_gap_limit = opts.rel_gap
    log = _log_to(solver, opts.log_file) if opts.log_file is not None else None
    try:
        code, note = solve_rechecked(solver, model)
    finally:
        if log is not None:
            log.close()
    return _outcome(lm, solver, code, note, x, res)


def _log_to(solver: cp_model.CpSolver, path: str) -> IO[str]:
    """Send CP-SAT's search log to `path`; the caller closes the file."""
    log = open(path, "w", encoding="utf-8")  # closed by the caller after the solve

    def write(line: str) -> None:
        log.write(line + "\n")

    solver.parameters.log_search_progress = True
    solver.parameters.log_to_stdout = False
    solver.log_callback = write
    return log


def _outcome(lm: LinearModel, solver: cp_model.CpSolver, code: cp_model.CpSolverStatus, note: str,
             x: list[cp_model.IntVar], res: float) -> ExactRun:
    scale = res if lm.goal_costed else 1.0
    detail = "; ".join(filter(None, (solver.status_name(code), note)))
    if code == cp_model.INFEASIBLE:
        return ExactRun("infeasible", None, None, detail=detail)
    raw = solver.best_objective_bound * scale
    bound: float | None = None
    if math.isfinite(raw):
        tol = tolerance(lm, res)
        bound = raw + tol if lm.maximize else max(0.0, raw - tol)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return ExactRun("timeout" if code == cp_model.UNKNOWN else "error", None, bound, detail=detail)
    values = [float(solver.value(v)) * (1.0 if lm.binary[i] else res) for i, v in enumerate(x)]
    return ExactRun("optimal" if code == cp_model.OPTIMAL else "feasible", values, bound, detail=detail)
