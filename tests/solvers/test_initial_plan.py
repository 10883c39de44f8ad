"""`initial_plan=`: a caller's plan warm-starts local search and the exact solver, its broken clusters dropped."""

from __future__ import annotations

import pytest

from gaisnet_opt.cost import objective_value, round_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.params import SolveParams
from gaisnet_opt.plan import Cluster, Member, Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.service import with_clusters
from gaisnet_opt.solvers.solve import solve
from tests.support.contracts import assert_sound

ENERGY = Objective(kind="energy")
QUICK = SolveParams(time_limit_s=3)


@pytest.mark.parametrize("method", ["local", "cpsat"])
def test_a_plan_of_this_scenario_is_kept_and_never_worsened(method: str):
    scenario = generate(20, seed=4)
    given = solve(scenario, "largest-first", ENERGY, clusters=2).plan
    assert given is not None
    r = solve(scenario, method, ENERGY, params=QUICK, clusters=2, initial_plan=given)
    assert_sound(with_clusters(scenario, 2), r, ENERGY)
    assert r.params["initial_plan"] == "used as it is"
    assert r.objective <= objective_value(round_cost(scenario, given), ENERGY) * (1 + 1e-9)
    if method == "cpsat" and r.params.get("proved_by") != "floor":
        assert "warm_start_used" in r.params


def test_clusters_that_no_longer_fit_are_dropped_and_said_so():
    scenario = generate(20, seed=4)
    given = solve(scenario, "largest-first", ENERGY, clusters=2).plan
    assert given is not None
    ghost = Cluster(kind="finetune", members=(Member(node="ghost", first=0, last=scenario.profile.n_units - 1),))
    r = solve(scenario, "local", ENERGY, params=QUICK, clusters=2, initial_plan=Plan(clusters=(ghost, *given.clusters)))
    assert_sound(with_clusters(scenario, 2), r, ENERGY)
    assert "cluster 0 (ghost) dropped: it names a node this scenario does not have" in r.params["initial_plan"]


def test_a_plan_of_another_round_still_gives_a_sound_plan():
    old, new = generate(20, seed=4), generate(21, seed=4)
    given = solve(old, "largest-first", ENERGY, clusters=2).plan
    r = solve(new, "local", ENERGY, params=QUICK, clusters=2, initial_plan=given)
    assert_sound(with_clusters(new, 2), r, ENERGY)
    assert isinstance(r.params["initial_plan"], str)


def test_constructive_heuristics_ignore_it_and_say_so():
    scenario = generate(12, seed=4)
    given = solve(scenario, "largest-first", clusters=2).plan
    r = solve(scenario, "fastest-first", clusters=2, initial_plan=given)
    assert r.params["initial_plan"].startswith("ignored")
