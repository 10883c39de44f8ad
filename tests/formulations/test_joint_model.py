"""The joint rows state the cost model: a plan's warm-start assignment meets every row, and its objective is the plan's."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.formulations.joint_model import formulate
from gaisnet_opt.instances.joint_table import JointTable
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.service import cluster_range, deadline_of
from tests.support.joint_cases import OBJECTIVES, brute_force, scenarios

SLACK = 1e-9


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), objective=st.sampled_from(OBJECTIVES))
def test_an_optimal_plan_meets_every_row_at_its_cost(scenario, objective: Objective):
    best = brute_force(scenario, objective)
    if best is None:
        return
    lo, hi = cluster_range(scenario)
    table = JointTable.build(scenario)
    jm = formulate(table, objective, lo, hi, deadline_of(scenario, objective), floors(scenario, lo))
    arcs = table.arcs_of(best[1])
    assert arcs is not None
    x = jm.assignment(*arcs)
    for group, rows in jm.rows.groups.items():
        for row in rows:
            value = sum(c * x[v] for v, c in row.terms)
            scale = SLACK * max(1.0, abs(value))
            assert row.lo is None or value >= row.lo - scale, (group, row)
            assert row.hi is None or value <= row.hi + scale, (group, row)
    goal = sum(c * x[v] for v, c in jm.rows.goal) + jm.rows.goal_constant
    assert goal == pytest.approx(objective_value(round_cost(scenario, best[1]), objective), rel=1e-9, abs=1e-12)
