"""The arc cap bounds an exact model's size: past it the candidate limit is tightened and the result says so."""

from __future__ import annotations

import pytest

from gaisnet_opt.generator import generate
from gaisnet_opt.instances.joint_table import JointTable, TooManyArcs
from gaisnet_opt.params import SolveParams
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.exact_table import tighter
from gaisnet_opt.solvers.service import with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.support.contracts import assert_sound, bound_holds

ENERGY = Objective(kind="energy")


def test_the_table_stops_growing_at_the_cap():
    scenario = generate(20, seed=4)
    full = JointTable.build(scenario)
    cap = (len(full.segs) + len(full.hops)) // 3
    with pytest.raises(TooManyArcs) as exc:
        JointTable.build(scenario, max_arcs=cap)
    over = exc.value
    assert cap < over.arcs <= cap + max(len(full.segs) + len(full.hops), 1)
    assert over.starts_done < over.starts_total and over.projected >= over.arcs
    new = tighter(over, None, cap)
    assert new is not None and 1 <= new < over.widest


@pytest.mark.parametrize("method", ["cpsat", "milp"])
def test_past_the_cap_the_model_is_restricted_and_says_so(method: str):
    scenario, cap = generate(30, seed=4), 20_000
    r = solve(scenario, method, ENERGY, params=SolveParams(time_limit_s=4, max_arcs=cap, stop_at_floor=False),
              clusters=3)
    assert r.restricted and r.restriction is not None and r.restriction.by == "max_arcs"
    assert r.restriction.candidates is not None and r.params["arcs_built"] <= cap
    assert_sound(with_clusters(scenario, 3), r, ENERGY)
    assert r.bound is not None and r.bound_is_global and r.bound == pytest.approx(r.params["energy_floor"])
    assert bound_holds(r.objective, r.bound, ENERGY)
    assert r.status == "feasible" or r.gap <= SolveParams().rel_gap  # optimal only by meeting the floor


def test_a_cap_no_restriction_meets_stops_with_a_reason():
    scenario = generate(30, seed=4)
    r = solve(scenario, "cpsat", ENERGY, params=SolveParams(time_limit_s=8, max_arcs=1, stop_at_floor=False),
              clusters=3)
    assert r.status == "feasible" and r.plan is not None and "no exact model" in r.reason and "max_arcs=1" in r.reason
    assert_sound(with_clusters(scenario, 3), r, ENERGY)


def test_the_callers_limit_is_a_restriction_too():
    r = solve(generate(20, seed=4), "cpsat", ENERGY, params=SolveParams(time_limit_s=3, candidates=3,
                                                                       stop_at_floor=False), clusters=2)
    assert r.restricted and r.restriction is not None and r.restriction.by == "params"
    assert r.restriction.candidates == 3 and "restricted_bound" in r.params


def test_no_cap_no_restriction():
    r = solve(generate(8, seed=1), "cpsat", ENERGY, params=SolveParams(time_limit_s=20, stop_at_floor=False))
    assert not r.restricted and r.restriction is None
