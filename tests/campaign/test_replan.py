"""Re-planning: what a carried plan breaks (the checker's rules), repair, domain counts, migration and stability."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gaisnet_opt.campaign.migration import cluster_migration, migration_of, penalty, stored_after
from gaisnet_opt.campaign.network import round_scenario
from gaisnet_opt.campaign.planner import replan
from gaisnet_opt.campaign.repair import carry
from gaisnet_opt.campaign.world import World, build_world
from gaisnet_opt.checker import check
from gaisnet_opt.cost import transfer_s
from gaisnet_opt.plan import Plan, cluster_from_counts
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import InferenceRequest, Scenario
from tests.campaign.support import small_spec


def _spec(**changes):
    """The small campaign with edge servers that only deliver and aggregate: chains of several clients."""
    scenario = {**small_spec().scenario.model_dump(), "edge_slots": 0}  # type: ignore[union-attr]
    return small_spec(scenario=scenario, **changes)


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(_spec())


def _round(world: World, present: list[str] | None = None, requests: tuple[str, ...] = (), xy=None) -> Scenario:
    return round_scenario(world, world.positions if xy is None else xy, present or list(world.clients),
                          {c: InferenceRequest(samples=6) for c in requests}, world.base.finetune, "r")


def _replan(world: World, scn: Scenario, previous: Plan | None = None, **kw):
    return replan(scn, Objective(), previous, domain_of=world.domain_of, clusters={"A": 1, "B": 1}, **kw)


def test_a_fresh_plan_gives_each_domain_its_cluster_and_serves_every_request(world: World) -> None:
    asking = tuple(c for c in world.clients if c not in world.domain_of)[:2]
    got = _replan(world, _round(world, requests=asking))
    tuned = [c for c in got.plan.clusters if c.kind == "finetune"]
    assert sorted(world.domain_of[c.start] for c in tuned) == ["A", "B"]
    assert sorted(c.start for c in got.plan.clusters if c.kind == "inference") == sorted(asking)
    assert check(got.scenario, got.plan) == [] and got.unserved == () and got.kept == 0


def test_a_domain_gets_no_cluster_from_another_domains_sources(world: World) -> None:
    got = replan(_round(world), Objective(), None, domain_of=world.domain_of, clusters={"B": 2}, time_limit=1.0)
    assert [world.domain_of[c.start] for c in got.plan.clusters] == ["B", "B"]


def test_a_plan_carries_over_unchanged_when_nothing_changed(world: World) -> None:
    scn = _round(world)
    first = _replan(world, scn)
    again = _replan(world, scn, first.plan, improve=False)
    assert again.plan == first.plan and again.kept == 2 and again.carried.broken == ()


def test_a_member_that_left_breaks_its_cluster_as_unknown_node_and_is_repaired(world: World) -> None:
    scn = _round(world)
    first = _replan(world, scn)
    longest = max(first.plan.clusters, key=lambda c: len(c.chain))
    gone = next(n for n in longest.chain[1:] if scn.node[n].kind == "client")
    fewer = _round(world, [c for c in world.clients if c != gone])
    sorted_ = carry(fewer, first.plan)
    assert {v.rule for _, found in sorted_.broken for v in found} == {"unknown-node"}
    again = _replan(world, fewer, first.plan, improve=False)
    assert again.carried.rules == {"unknown-node": 1} and again.repaired + again.grown >= 1
    assert all(gone not in c.chain for c in again.plan.clusters) and check(again.scenario, again.plan) == []


def test_moving_apart_breaks_a_link_the_checker_names(world: World) -> None:
    scn = _round(world)
    cluster = next(c for c in _replan(world, scn).plan.clusters if len(c.chain) > 1)
    a, b = cluster.chain[:2]
    plan = Plan(clusters=(cluster,))
    xy = world.positions.copy()
    xy[world.clients.index(b)] = xy[world.clients.index(a)] + (300.0, 0.0)  # past D2D range, within the cell's
    far = _round(world, xy=xy)
    assert b in far.node and (a, b) not in far.d2d_rate
    assert {v.rule for _, f in carry(far, plan).broken for v in f} == {"link"}
    xy[world.clients.index(b)] += (5_000.0, 0.0)  # out of every edge server's reach: it sits the round out
    assert {v.rule for _, f in carry(_round(world, xy=xy), plan).broken for v in f} == {"unknown-node"}


def test_migration_is_the_new_units_frozen_bytes_over_the_downlink(world: World) -> None:
    scn = _round(world)
    src = world.domains[0].sources[0]
    cluster = cluster_from_counts("finetune", [src], [scn.profile.n_units])
    moved = cluster_migration(scn, {}, cluster)
    size = sum(u.frozen_param_bytes for u in scn.profile.units)
    link = scn.server_link[(src, scn.servers_of(src)[0])]
    assert (moved.members, moved.units, moved.bytes) == (1, scn.profile.n_units, size)
    assert math.isclose(moved.seconds, transfer_s(size, link.downlink_bps))
    stored = stored_after(scn, {}, Plan(clusters=(cluster,)))
    assert cluster_migration(scn, stored, cluster).members == 0  # nothing new the second time
    half = cluster_from_counts("finetune", [src, "e0"], [2, scn.profile.n_units - 2])
    assert cluster_migration(scn, stored, half).members == 0  # fewer units than it holds, and the edge holds all


def test_stability_trades_latency_for_fewer_units_moved(world: World) -> None:
    """After one round moved the network, a heavy stability weight keeps more in place than none."""
    spec = _spec(rounds=4)
    from gaisnet_opt.campaign.dynamics import trajectory

    traj = trajectory(world, spec.dynamics, 4, spec.seed)
    moved = {}
    latency = {}
    for weight in (0.0, 1e3):
        store: dict = {}
        previous = None
        units, lat = 0, 0.0
        for t in range(4):
            scn = _round(world, traj.online_ids(world, t + 1), xy=traj.positions[t])
            got = _replan(world, scn, previous, stability=weight, time_limit=5.0, seed=t, penalty=penalty(scn, store))
            if t:
                units += migration_of(got.scenario, store, got.plan.clusters).units
            from gaisnet_opt.cost import round_cost

            lat += round_cost(got.scenario, got.plan).latency_s
            store = stored_after(got.scenario, store, got.plan)
            previous = got.plan
        moved[weight], latency[weight] = units, lat
    assert moved[1e3] < moved[0.0]
    assert latency[1e3] >= latency[0.0] * (1 - 1e-9)


def test_a_request_takes_a_member_of_a_carried_cluster(world: World) -> None:
    """A client that now asks for inference leaves the chain it was in: requests come first."""
    scn = _round(world)
    first = _replan(world, scn)
    member = next(n for c in first.plan.clusters for n in c.chain[1:] if scn.node[n].kind == "client")
    asking = _round(world, requests=(member,))
    again = _replan(world, asking, first.plan, improve=False)
    starts = [c.start for c in again.plan.clusters if c.kind == "inference"]
    assert starts == [member] and check(again.scenario, again.plan) == []
    assert np.sum([member in c.chain for c in again.plan.clusters]) == 1
