"""The split written as rows: HiGHS and CP-SAT on the same rows find the DP's optimum, in one process."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.formulations.cpsat import solve_cpsat, tolerance
from gaisnet_opt.formulations.milp import solve_milp
from gaisnet_opt.formulations.rows import SolverOptions
from gaisnet_opt.formulations.split_model import formulate_split
from gaisnet_opt.instances.split_instance import Seg, SplitInstance
from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.plan import Plan
from gaisnet_opt.profile_catalog import load_profile
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.split_dp import split_dp
from tests.support.contracts import close
from tests.support.split_cases import OBJECTIVES, problems
from tests.support.worlds import tiny_scenario

EXACT = SolverOptions(rel_gap=0.0, feasibility_tolerance=1e-9)


def _value(inst: SplitInstance, segs: list[Seg], objective: Objective) -> float:
    """The cost model's objective of the split the segments make."""
    plan = Plan(clusters=(inst.cluster(segs),))
    return objective_value(round_cost(inst.table.scenario, plan), objective)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_members=4), st.sampled_from(OBJECTIVES))
def test_both_translations_of_the_rows_find_the_dp_optimum(problem, objective: Objective):
    scenario, chain, kind = problem
    inst = SplitInstance.build(SplitTable.for_chain(scenario, kind, chain), chain, objective)
    dp = split_dp(inst)
    model = formulate_split(inst)
    milp, cpsat = solve_milp(model.rows, EXACT), solve_cpsat(model.rows, EXACT)
    if dp is None:
        assert milp.status == cpsat.status == "infeasible"
        return
    assert milp.status == cpsat.status == "optimal"
    best = _value(inst, dp.segs, objective)
    assert close(_value(inst, model.segments(milp), objective), best)
    tol = tolerance(model.rows)
    assert best - 1e-12 <= _value(inst, model.segments(cpsat), objective) <= best + 2 * tol + 1e-9 * best
    assert cpsat.bound is not None and cpsat.bound <= best * (1 + 1e-9) + 1e-12


def test_milp_and_cpsat_solve_in_one_process():
    """highspy and ortools both ship HiGHS symbols; alternate the two solvers on one real instance."""
    scenario = tiny_scenario(profile=load_profile())
    scenario = scenario.model_copy(update={"nodes": tuple(n.model_copy(update={"memory_bytes": 1e10}) for n in scenario.nodes)})
    chain = ["c0", "c1", "e0"]
    rows = formulate_split(SplitInstance.build(SplitTable.for_chain(scenario, "finetune", chain), chain, Objective())).rows
    runs = [solve_milp(rows, EXACT), solve_cpsat(rows, EXACT), solve_milp(rows, EXACT)]
    assert [r.status for r in runs] == ["optimal"] * 3
    assert runs[0].x == runs[2].x
