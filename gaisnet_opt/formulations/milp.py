"""A `LinearModel` as a MILP solved by HiGHS through highspy: the rows passed as one sparse matrix.

Rows go to HiGHS directly (`Highs.passModel`, row-wise CSR) rather than
through a Pyomo model: on generate(30, seed=7101), energy, K = 3 (138k
variables, 306k non-zeros) Pyomo took 4.9 s to build the model and appsi
7.4 s to hand it to HiGHS, more than a scheduler's whole limit, and neither
step can stop when the call's budget runs out. The options, statuses and
bound read the same as `highs.run_highs` (the schedule's Pyomo MILP).
"""

from __future__ import annotations

import math

import highspy
import numpy as np

from gaisnet_opt.formulations.rows import ExactRun, LinearModel, SolverOptions, Terms
from gaisnet_opt.result import Status

INF = highspy.kHighsInf


def build_highs(lm: LinearModel, opts: SolverOptions) -> highspy.Highs:
    """A HiGHS instance holding the model (empty rows left out: `empty_row_broken` catches a broken one first),
    with `opts`' options; the budget is checked per row."""
    starts, index, value, lower, upper = [0], [], [], [], []
    for rows in lm.groups.values():
        for row in rows:
            opts.tick()
            if not row.terms:
                continue
            terms = _merged(row.terms)
            index += [v for v, _ in terms]
            value += [c for _, c in terms]
            starts.append(len(index))
            lower.append(-INF if row.lo is None else row.lo)
            upper.append(INF if row.hi is None else row.hi)
    n = len(lm.binary)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(lower)
    cost = np.zeros(n)
    for v, c in lm.goal:
        cost[v] += c
    lp.col_cost_, lp.offset_ = cost, lm.goal_constant
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.asarray(lm.upper, dtype=float)
    lp.row_lower_, lp.row_upper_ = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=float)
    kinds = highspy.HighsVarType
    lp.integrality_ = [kinds.kInteger if b else kinds.kContinuous for b in lm.binary]
    lp.sense_ = highspy.ObjSense.kMaximize if lm.maximize else highspy.ObjSense.kMinimize
    h = highspy.Highs()
    _options(h, opts)
    if h.passModel(lp) == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS rejected the model (see its log)")
    return h


def _merged(terms: Terms) -> Terms:
    """The row's terms with each variable once (HiGHS rejects a repeated index; a segment that opens and
    holds the head appears twice in embed-head, with +1 and -1)."""
    if len({v for v, _ in terms}) == len(terms):
        return terms
    summed: dict[int, float] = {}
    for v, c in terms:
        summed[v] = summed.get(v, 0.0) + c
    return [(v, c) for v, c in summed.items() if c != 0.0]


def _options(h: highspy.Highs, opts: SolverOptions) -> None:
    h.setOptionValue("output_flag", opts.log_file is not None)
    if opts.log_file is not None:
        h.setOptionValue("log_file", opts.log_file)
        h.setOptionValue("log_to_console", False)
    h.setOptionValue("threads", opts.threads)
    h.setOptionValue("random_seed", opts.seed)
    h.setOptionValue("mip_rel_gap", opts.rel_gap)
    h.setOptionValue("mip_abs_gap", 0.0)
    h.setOptionValue("presolve", "on" if opts.presolve else "off")
    if opts.feasibility_tolerance is not None:
        for name in ("mip_feasibility_tolerance", "primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            h.setOptionValue(name, opts.feasibility_tolerance)


def solve_milp(lm: LinearModel, opts: SolverOptions) -> ExactRun:
    """Solve with HiGHS under `opts` (its limit read after the model is built); the incumbent and the dual bound."""
    if (broken := lm.empty_row_broken()) is not None:  # build_highs leaves empty rows out
        return ExactRun("infeasible", None, None, detail=f"a {broken} row has no variable left")
    h = build_highs(lm, opts)
    if opts.hint is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(opts.hint)
        sol.value_valid = True
        h.setSolution(sol)
    limit = opts.seconds()
    if limit is not None:
        h.setOptionValue("time_limit", max(limit, 1e-3))
    h.run()
    return _outcome(h)


def _outcome(h: highspy.Highs) -> ExactRun:
    ms = h.getModelStatus()
    st = highspy.HighsModelStatus
    detail = h.modelStatusToString(ms)
    if ms in (st.kInfeasible, st.kUnboundedOrInfeasible):
        return ExactRun("infeasible", None, None, detail=detail)
    info = h.getInfo()
    bound = float(info.mip_dual_bound) if math.isfinite(info.mip_dual_bound) else None
    if info.primal_solution_status != 2:  # no feasible point
        status: Status = "timeout" if ms == st.kTimeLimit else "error"
        return ExactRun(status, None, bound, detail=detail)
    status = "optimal" if ms == st.kOptimal else "feasible"
    return ExactRun(status, [float(v) for v in h.getSolution().col_value], bound, detail=detail)
