"""`solve_split`: the exact methods agree with each other and with brute force, on the cost model's value."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.instances.split_instance import DEADLINE_MARGIN, SplitInstance
from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.split import solve_split
from gaisnet_opt.solvers.split_dp import split_dp
from tests.support.contracts import REL, assert_split_sound, close
from tests.support.split_cases import KINDS, OBJECTIVES, brute_force, problems
from tests.support.worlds import tiny_scenario

EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("objective", OBJECTIVES, ids=[o.kind for o in OBJECTIVES])
@EXAMPLES
@given(data=st.data())
def test_dp_milp_cpsat_equal_brute_force(kind: ClusterKind, objective: Objective, data):
    scenario, chain, kind = data.draw(problems(max_members=5, kinds=(kind,)))
    results = {m: solve_split(scenario, chain, kind, m, objective) for m in ("dp", "milp", "cpsat")}
    best = brute_force(scenario, chain, kind, objective, results["dp"].params.get("server"))
    if math.isinf(best):
        for r in results.values():
            assert r.status == "infeasible" and r.plan is None and r.reason
        return
    for r in results.values():
        assert r.status == "optimal"
        assert_split_sound(scenario, r)
    dp, milp, cpsat = (results[m] for m in ("dp", "milp", "cpsat"))
    assert close(dp.objective, best)
    assert dp.gap <= 1e-12  # the DP's own sum vs the cost model's: rounding only
    assert close(milp.objective, best)
    assert milp.gap is not None and milp.gap <= 1e-9
    tol = cpsat.params["tolerance"]  # each side of the scaled value: 2·tol between CP-SAT's plan and the optimum
    assert best - 1e-12 <= cpsat.objective <= best + 2 * tol + REL * best
    assert cpsat.bound <= best + REL * best


def test_dp_reuses_one_table_across_chains():
    """The clustering search's fast path: one table, many chains, DP straight on the instance."""
    scenario = tiny_scenario()
    table = SplitTable.for_chain(scenario, "finetune", ["c0", "c1"])
    for chain in (["c0", "c1"], ["c0", "e0"], ["c0", "c1", "e0"], ["c0"]):
        inst = SplitInstance.build(table, chain, Objective())
        sol = split_dp(inst)
        ref = solve_split(scenario, chain, "finetune", "dp", server=table.server)
        if sol is None:
            assert ref.status == "infeasible"
        else:
            assert close(sol.value, ref.objective)


def test_skipping_an_inner_member_is_a_decision():
    """A slow middle node is bypassed when its neighbours are linked."""
    scenario = tiny_scenario()
    nodes = tuple(n.model_copy(update={"flops": 1e-3}) if n.id == "c1" else n for n in scenario.nodes)
    slow = scenario.model_copy(update={"nodes": nodes})
    result = solve_split(slow, ["c0", "c1", "e0"], "finetune", "dp")
    assert_split_sound(slow, result)
    assert result.plan.clusters[0].chain == ["c0", "e0"]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_members=5), st.sampled_from(OBJECTIVES), st.sampled_from([0.9, 1.07, 1.3, 2.0, 4.0]))
def test_exact_methods_under_a_deadline(problem, objective: Objective, factor: float):
    """Energy/weighted/bottleneck under a latency deadline: a constrained optimum, not a checked one."""
    scenario, chain, kind = problem
    fastest = solve_split(scenario, chain, kind, "dp")
    if fastest.objective is None or fastest.objective == 0:
        return
    spec = objective.model_copy(update={"deadline_s": factor * fastest.objective})
    results = {m: solve_split(scenario, chain, kind, m, spec) for m in ("dp", "milp", "cpsat")}
    server, cap = results["dp"].params["server"], _cap(spec.deadline_s)
    best = brute_force(scenario, chain, kind, spec, server, cap)
    for method in ("dp", "milp"):
        r = results[method]
        if math.isinf(best):
            assert r.status == "infeasible" and "deadline" in r.reason
        else:
            assert_split_sound(scenario, r)
            assert close(r.objective, best), method
    cpsat = results["cpsat"]  # it may miss plans within its deadline slack of the cap, none further under
    inner = brute_force(scenario, chain, kind, spec, server, cap - cpsat.params["deadline_slack"])
    if cpsat.plan is None:
        assert cpsat.status == "infeasible" and math.isinf(inner)
    else:
        assert_split_sound(scenario, cpsat)
        assert cpsat.objective >= best - REL * best
        if not math.isinf(inner):
            assert cpsat.objective <= inner + 2 * cpsat.params["tolerance"] + REL * inner


def _cap(deadline: float) -> float:
    return deadline - DEADLINE_MARGIN * max(deadline, 1.0)


def test_solve_split_reuses_a_matching_table_only():
    scenario = tiny_scenario()
    table = SplitTable.for_chain(scenario, "finetune", ["c0", "c1"])
    shared = solve_split(scenario, ["c0", "c1", "e0"], "finetune", "dp", table=table)
    assert shared.objective == solve_split(scenario, ["c0", "c1", "e0"], "finetune", "dp").objective
    with pytest.raises(ValueError, match="another scenario, kind"):
        solve_split(scenario, ["c1", "c0"], "inference", "dp", table=table)
