"""One violating plan per rule of docs/model.md §3; the checker must name the rule and the culprit."""

from __future__ import annotations

import pytest

from gaisnet_opt.checker import RULES, check
from gaisnet_opt.plan import Cluster, Member, Plan
from gaisnet_opt.scenario import D2DLink, FinetuneService, Node
from tests.support.worlds import tiny_scenario


def ft(*members: tuple[str, int, int], server: str | None = None) -> Cluster:
    return Cluster(kind="finetune", members=tuple(Member(node=n, first=a, last=b) for n, a, b in members), server=server)


def inf(*members: tuple[str, int, int]) -> Cluster:
    return Cluster(kind="inference", members=tuple(Member(node=n, first=a, last=b) for n, a, b in members))


GOOD_FT = ft(("c0", 0, 0), ("c1", 1, 2))
# c0 -> c1 only one way: backward hop of block_1 -> head needs c1 -> c0 too (grad_bytes of block_1 > 0)
ONE_WAY = (D2DLink(src="c0", dst="c1", rate_bps=16),)


def only_e0_one_slot():
    s = tiny_scenario()
    return tuple(n.model_copy(update={"slots": 1}) if n.id == "e0" else n for n in s.nodes)


def small_memory_c1():
    s = tiny_scenario()
    return tuple(n.model_copy(update={"memory_bytes": 2000.0}) if n.id == "c1" else n for n in s.nodes)


CASES = {
    "unknown-node": ({}, Plan(clusters=(ft(("c0", 0, 0), ("zz", 1, 2)),)), "zz"),
    "unit-range": ({}, Plan(clusters=(ft(("c0", 0, 0), ("c1", 1, 7)),)), "unit 7"),
    "start-point": ({}, Plan(clusters=(ft(("c1", 0, 2)),)), "c1"),
    "embed-head": ({}, Plan(clusters=(ft(("c0", 0, 0), ("c1", 1, 1)),)), "head"),
    "nonempty": ({}, Plan(clusters=(ft(("c0", 0, 0), ("c1", 2, 1), ("e0", 1, 2)),)), "c1"),
    "cover": ({}, Plan(clusters=(ft(("c0", 0, 1), ("c1", 1, 2)),)), "overlaps"),
    "link": ({"d2d": ONE_WAY}, Plan(clusters=(ft(("c0", 0, 1), ("c1", 2, 2)),)), "c1 -> c0"),
    "return-link": ({"d2d": (D2DLink(src="c1", dst="c0", rate_bps=32),)},
                    Plan(clusters=(inf(("c1", 0, 1), ("c0", 2, 2)),)), "c0 -> c1"),
    "server-link": ({"server_links": ()}, Plan(clusters=(GOOD_FT,)), "c1"),
    "one-cluster": ({}, Plan(clusters=(GOOD_FT, inf(("c1", 0, 2)))), "c1"),
    "slots": ({"nodes": only_e0_one_slot()},
              Plan(clusters=(ft(("c0", 0, 1), ("e0", 2, 2)), inf(("c1", 0, 1), ("e0", 2, 2)))), "e0"),
    "memory": ({"nodes": small_memory_c1()}, Plan(clusters=(GOOD_FT,)), "c1"),
    "cluster-count": ({"finetune": FinetuneService(min_clusters=1, max_clusters=1)},
                      Plan(clusters=(GOOD_FT, ft(("c0", 0, 2)))), "at most 1"),
    "deadline": ({"finetune": FinetuneService(deadline_s=100.0)}, Plan(clusters=(GOOD_FT,)), "175.200 s"),
}


def test_every_rule_has_a_case():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_checker_names_the_rule_and_culprit(rule):
    changes, plan, culprit = CASES[rule]
    violations = check(tiny_scenario(**changes), plan)
    named = [v for v in violations if v.rule == rule]
    assert named, f"expected a '{rule}' violation, got {[str(v) for v in violations]}"
    assert any(culprit in v.message for v in named), [str(v) for v in named]


def test_feasible_plans_pass(scenario):
    assert check(scenario, Plan(clusters=(GOOD_FT,))) == []
    shared_edge = Plan(clusters=(ft(("c0", 0, 1), ("e0", 2, 2)), inf(("c1", 0, 1), ("e0", 2, 2))))
    assert check(scenario, shared_edge) == []  # e0 has 2 slots


def test_violation_paths_point_into_the_plan(scenario):
    (v,) = check(scenario, Plan(clusters=(ft(("c0", 0, 0), ("c1", 1, 7)),)))
    assert v.path == "clusters[0].members[1].last"


def test_deadline_argument_overrides_service(scenario):
    plan = Plan(clusters=(GOOD_FT,))
    assert [v.rule for v in check(scenario, plan, deadline_s=175.0)] == ["deadline"]  # the round takes 175.2 s
    assert check(scenario, plan, deadline_s=176.0) == []


def test_no_finetune_service_forbids_finetune_clusters():
    violations = check(tiny_scenario(finetune=None), Plan(clusters=(GOOD_FT,)))
    assert [v.rule for v in violations] == ["cluster-count"]


def test_edge_servers_only_as_edge():
    nodes = (*tiny_scenario().nodes, Node(id="c2", kind="client", flops=1, memory_bytes=1, energy_per_flop=0, tx_power_w=0))
    plan = Plan(clusters=(ft(("c0", 0, 0), ("c1", 1, 2), server="c2"),))
    violations = check(tiny_scenario(nodes=nodes), plan)
    assert any(v.rule == "unknown-node" and v.path == "clusters[0].server" for v in violations)


def test_zero_slots_edge_aggregates_but_joins_no_chain():
    nodes = tuple(n.model_copy(update={"slots": 0}) if n.id == "e0" else n for n in tiny_scenario().nodes)
    s = tiny_scenario(nodes=nodes)
    assert check(s, Plan(clusters=(GOOD_FT,))) == []  # e0 still delivers and aggregates
    violations = check(s, Plan(clusters=(ft(("c0", 0, 1), ("e0", 2, 2)),)))
    assert [v.rule for v in violations] == ["slots"] and "0 slot(s)" in violations[0].message


def test_deadline_is_reported_beside_other_violations():
    s = tiny_scenario(nodes=small_memory_c1(), finetune=FinetuneService(deadline_s=100.0))
    assert sorted(v.rule for v in check(s, Plan(clusters=(GOOD_FT,)))) == ["deadline", "memory"]


def test_the_tighter_deadline_binds(scenario):
    s = tiny_scenario(finetune=FinetuneService(deadline_s=100.0))
    plan = Plan(clusters=(GOOD_FT,))
    assert [v.rule for v in check(s, plan, deadline_s=1000.0)] == ["deadline"]  # the service's 100 s still binds


def test_skip_serves_partial_plans(scenario):
    plan = Plan(clusters=(inf(("c1", 0, 1), ("e0", 2, 2)),))  # an inference split alone: no fine-tuning cluster
    assert [v.rule for v in check(scenario, plan)] == ["cluster-count"]
    assert check(scenario, plan, skip={"cluster-count"}) == []


def test_labels_need_the_forward_link_even_without_smashed_data():
    """A unit that emits nothing still leaves the batch's labels to carry to the end point, which takes the loss."""
    s = tiny_scenario()
    units = list(s.profile.units)
    units[0] = units[0].model_copy(update={"out_bytes": 0.0})
    silent = s.profile.model_copy(update={"units": tuple(units)})
    back_only = (D2DLink(src="c1", dst="c0", rate_bps=32),)
    (v,) = check(tiny_scenario(profile=silent, d2d=back_only), Plan(clusters=(GOOD_FT,)))
    assert v.rule == "link" and "c0 -> c1" in v.message and "labels" in v.message
    assert check(tiny_scenario(profile=silent), Plan(clusters=(GOOD_FT,))) == []
