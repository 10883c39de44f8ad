"""Arc elimination keeps every arc of an optimal plan when given the optimum as the upper bound."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.pruning import pruned
from gaisnet_opt.instances.joint_table import JointTable
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.service import cluster_range, deadline_of
from tests.support.joint_cases import OBJECTIVES, brute_force, scenarios

COSTED = [o for o in OBJECTIVES if not o.maximize]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), objective=st.sampled_from(COSTED), tight=st.booleans())
def test_an_optimal_plan_survives_pruning_at_its_own_value(scenario, objective: Objective, tight: bool):
    if tight:  # a deadline the fastest plan meets with little to spare
        fastest = brute_force(scenario, Objective())
        if fastest is not None:
            objective = objective.model_copy(update={"deadline_s": fastest[0] * 1.05})
    best = brute_force(scenario, objective, objective.deadline_s)
    if best is None:
        return
    table = JointTable.build(scenario)
    kept = pruned(table, objective, best[0], deadline_of(scenario, objective), cluster_range(scenario)[0])
    assert kept.arcs_of(best[1]) is not None
