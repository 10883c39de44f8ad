"""The joint table holds every plan the brute force can build, and reads it back from its arcs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from gaisnet_opt.instances.joint_table import JointTable
from gaisnet_opt.result import Objective
from tests.support.joint_cases import brute_force, scenarios


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_an_optimal_plan_round_trips_through_its_arcs(scenario):
    best = brute_force(scenario, Objective())
    table = JointTable.build(scenario)
    if best is None:
        return
    arcs = table.arcs_of(best[1])
    assert arcs is not None, best[1]
    assert set(table.plan(*arcs).clusters) == set(best[1].clusters)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_a_candidate_limit_keeps_the_start_and_its_server(scenario):
    table = JointTable.build(scenario, candidates=0)
    for s, st in enumerate(table.starts):
        assert st.candidates[0] == st.node and set(st.candidates) <= {st.node, st.server}
        assert {sg.node for sg in table.segs if sg.start == s} <= set(st.candidates)
