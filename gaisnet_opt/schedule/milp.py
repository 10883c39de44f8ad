"""MLCP as a mixed-integer linear program (Pyomo, solved by HiGHS): an independent check of the DP.

Levels are one-hot: x[t,m,ℓ] = 1 if model m starts round t at level ℓ.
y[t,m,ℓ] = 1 fine-tunes m in round t from level ℓ (< cap), moving it to ℓ+1;
z[t,m,ℓ] counts m's requests served in round t at level ℓ.
Where several schedules are optimal, the one returned is HiGHS's choice; the
DP's result carries the count and the tie-break choice.
"""

from __future__ import annotations

import time

import numpy as np
import pyomo.environ as pyo

from gaisnet_opt.formulations.highs import run_highs
from gaisnet_opt.formulations.rows import SolverOptions
from gaisnet_opt.schedule.actions import Action
from gaisnet_opt.schedule.instance import ScheduleInstance
from gaisnet_opt.schedule.policies import solve_msip
from gaisnet_opt.schedule.result import ScheduleResult, replay

REL_GAP = 1e-4
"""HiGHS's own default gap: a schedule's profit is a sum of money-like terms, and a zero gap costs minutes
on the benchmark's larger horizons (T=100, M=3, cap=8: optimal at 1e-4 in 26 s, not closed at 0 in 60 s)."""


def build_model(instance: ScheduleInstance, demand: np.ndarray) -> pyo.ConcreteModel:
    """The MILP of the rules in `gaisnet_opt.schedule.instance`, for request counts `demand` (T, M)."""
    core = instance.core
    T, M, K = len(demand), core.n_models, core.capacity
    caps = [int(c) for c in core.caps]
    n = [[int(c) for c in row] for row in demand]
    md = pyo.ConcreteModel(name=instance.name)
    md.levels = pyo.Set(initialize=[(m, lv) for m in range(M) for lv in range(caps[m] + 1)], dimen=2)
    md.tunable = pyo.Set(initialize=[(m, lv) for m in range(M) for lv in range(caps[m])], dimen=2)
    md.x = pyo.Var(range(T + 1), md.levels, domain=pyo.Binary)
    md.y = pyo.Var(range(T), md.tunable, domain=pyo.Binary)
    md.z = pyo.Var(range(T), md.levels, domain=pyo.NonNegativeIntegers)

    def finetunes(t: int):
        return sum(md.y[t, m, lv] for m, lv in md.tunable)

    def served(t: int):
        return sum(md.z[t, m, lv] for m, lv in md.levels)

    md.one_level = pyo.Constraint(range(T + 1), range(M), rule=lambda md, t, m: sum(md.x[t, m, lv] for lv in range(caps[m] + 1)) == 1)
    md.start = pyo.Constraint(range(M), rule=lambda md, m: md.x[0, m, 0] == 1)
    md.tune_at_level = pyo.Constraint(range(T), md.tunable, rule=lambda md, t, m, lv: md.y[t, m, lv] <= md.x[t, m, lv])
    md.step = pyo.Constraint(
        range(T),
        md.levels,
        rule=lambda md, t, m, lv: md.x[t + 1, m, lv]
        == md.x[t, m, lv]
        - (md.y[t, m, lv] if lv < caps[m] else 0)
        + (md.y[t, m, lv - 1] if lv > 0 else 0),
    )
    md.serve_at_level = pyo.Constraint(range(T), md.levels, rule=lambda md, t, m, lv: md.z[t, m, lv] <= n[t][m] * md.x[t, m, lv])
    md.capacity = pyo.Constraint(range(T), rule=lambda md, t: finetunes(t) + served(t) <= K)
    if not core.idle_allowed:
        # every slot it can: services >= min(K, requests + models below cap), as a disjunction on w[t]
        md.w = pyo.Var(range(T), domain=pyo.Binary)
        below = lambda t: sum(1 - md.x[t, m, caps[m]] for m in range(M))
        md.full = pyo.Constraint(range(T), rule=lambda md, t: finetunes(t) + served(t) >= K * (1 - md.w[t]))
        md.all_available = pyo.Constraint(
            range(T),
            rule=lambda md, t: finetunes(t) + served(t) >= sum(n[t]) + below(t) - (sum(n[t]) + M) * (1 - md.w[t]),
        )
    md.profit = pyo.Objective(
        expr=sum(float(core.table[m, lv]) * md.z[t, m, lv] for t in range(T) for m, lv in md.levels)
        - sum(float(core.costs[m]) * md.y[t, m, lv] for t in range(T) for m, lv in md.tunable),
        sense=pyo.maximize,
    )
    return md


def solve_milp(instance: ScheduleInstance, demand: np.ndarray | None = None,
               time_limit_s: float | None = 60.0) -> ScheduleResult:
    """MLCP by the MILP and HiGHS, to `REL_GAP`; status 'optimal' only when HiGHS proves it, else the best
    schedule found and its bound (docs/model.md §7's anytime result). If the limit passes before HiGHS finds any
    schedule, the best found is MSIP's, which is always feasible (`params["incumbent"]` says so)."""
    start = time.perf_counter()
    demand = instance.demand() if demand is None else demand
    md = build_model(instance, demand)
    run = run_highs(md, SolverOptions(time_limit_s=time_limit_s, rel_gap=REL_GAP, presolve=True))
    params = {"method": "milp", "solver": "highs", "time_limit_s": time_limit_s}
    if run.objective is None:
        if run.status != "timeout":
            raise RuntimeError(f"HiGHS ended without a schedule: {run.detail}")
        greedy = solve_msip(instance, demand)
        return greedy.model_copy(update=dict(
            policy="mlcp-milp", bound=run.bound, time_s=time.perf_counter() - start,
            params={**params, "incumbent": f"msip: HiGHS found no schedule in time ({run.detail})"}))
    actions = [_action_of(md, t, instance.core.n_models) for t in range(len(demand))]
    return replay(instance, demand, actions, "mlcp-milp", params, status=run.status, bound=run.bound,
                  time_s=time.perf_counter() - start)


def _action_of(md: pyo.ConcreteModel, t: int, n_models: int) -> Action:
    finetune = tuple(sorted(m for m, lv in md.tunable if pyo.value(md.y[t, m, lv]) > 0.5))
    serve = [0] * n_models
    for m, lv in md.levels:
        serve[m] += round(float(pyo.value(md.z[t, m, lv])))
    return Action(finetune, tuple(serve))
