"""The dynamics' invariants: seeded, inside the area, links by the channel model's rule, batteries never negative."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt import channel
from gaisnet_opt.campaign import mobility
from gaisnet_opt.campaign.arrivals import draw_arrivals
from gaisnet_opt.campaign.battery import Batteries, node_energy
from gaisnet_opt.campaign.churn import online_rounds
from gaisnet_opt.campaign.dynamics import trajectory
from gaisnet_opt.campaign.network import round_scenario
from gaisnet_opt.campaign.spec import Battery, Churn, GaussMarkov, RandomWaypoint
from gaisnet_opt.campaign.world import build_world
from gaisnet_opt.cost import round_cost
from gaisnet_opt.scenario import InferenceRequest
from gaisnet_opt.solvers.solve import solve
from tests.campaign.support import small_spec

AREA = (0.0, 0.0, 200.0, 120.0)

models = st.one_of(
    st.builds(RandomWaypoint, speed_mps=st.tuples(st.floats(0.1, 2.0), st.floats(2.0, 20.0)),
              pause_s=st.tuples(st.just(0.0), st.floats(0.0, 50.0))),
    st.builds(GaussMarkov, mean_speed_mps=st.floats(0.1, 20.0), memory=st.floats(0.0, 1.0),
              speed_sd_mps=st.floats(0.0, 5.0), direction_sd_rad=st.floats(0.0, 3.0), step_s=st.floats(0.5, 30.0)),
)


@settings(max_examples=25, deadline=None)
@given(model=models, seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), seconds=st.floats(1.0, 600.0))
def test_mobility_stays_in_the_area_and_repeats_with_its_seed(model, seed, n, seconds) -> None:
    xy = np.random.default_rng(seed).uniform((0, 0), (200, 120), (n, 2))

    def walk() -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        m = mobility.start(model, xy, AREA, rng)
        out = []
        for _ in range(3):
            m = mobility.advance(model, m, seconds, AREA, rng)
            out.append(m.xy)
        return out

    first, second = walk(), walk()
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
        assert (a[:, 0] >= 0).all() and (a[:, 0] <= 200).all() and (a[:, 1] >= 0).all() and (a[:, 1] <= 120).all()
    assert not np.array_equal(first[-1], xy) or isinstance(model, GaussMarkov)  # a waypoint walker always moves


def test_random_waypoint_walks_at_its_speed_and_pauses_at_the_waypoint() -> None:
    """2 m/s towards a waypoint 30 m away: 20 m after 10 s; there after 15 s, then a pause of exactly 5 s."""
    model = RandomWaypoint(speed_mps=(2.0, 2.0), pause_s=(5.0, 5.0))
    area = (0.0, 0.0, 1000.0, 1000.0)
    m = replace(mobility.start(model, np.array([[0.0, 0.0]]), area, np.random.default_rng(1)),
                target=np.array([[30.0, 0.0]]))
    assert np.allclose(mobility.advance(model, m, 10.0, area, np.random.default_rng(2)).xy, [[20.0, 0.0]])
    there = mobility.advance(model, m, 20.0, area, np.random.default_rng(2))
    assert np.allclose(there.xy, [[30.0, 0.0]]) and there.pause_s[0] == 0.0  # 15 s walking, 5 s pausing
    assert not np.allclose(there.target, [[30.0, 0.0]])  # the next waypoint is drawn


@settings(max_examples=25, deadline=None)
@given(leave=st.floats(0, 1), join=st.floats(0, 1), off=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_churn_is_seeded_and_follows_its_chain(leave, join, off, seed) -> None:
    churn = Churn(leave=leave, join=join, initially_offline=off)
    a = online_rounds(20, 6, churn, np.random.default_rng(seed))
    assert np.array_equal(a, online_rounds(20, 6, churn, np.random.default_rng(seed)))
    assert a[0].sum() == 20 - round(off * 20)
    if leave == 0:
        assert (a[1:] >= a[:-1]).all()  # nobody leaves
    if join == 0:
        assert (a[1:] <= a[:-1]).all()  # nobody comes back


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), online=st.integers(0, 12))
def test_requests_come_from_online_clients_at_most_one_each(seed, online) -> None:
    world = build_world(small_spec())
    here = list(world.clients[:online])
    arrivals = draw_arrivals(here, world.domains, np.random.default_rng(seed))
    assert len({a.client for a in arrivals}) == len(arrivals)
    assert {a.client for a in arrivals} <= set(here)
    assert [a.client for a in arrivals] == [c for c in here if c in {a.client for a in arrivals}]
    assert all(4 <= a.samples <= 8 for a in arrivals)


def test_the_trajectory_is_the_same_for_the_same_seed_and_not_for_another() -> None:
    spec = small_spec(rounds=4)
    world = build_world(spec)
    a, b, c = (trajectory(world, spec.dynamics, 4, s) for s in (6001, 6001, 6002))
    assert all(np.array_equal(x, y) for x, y in zip(a.positions, b.positions)) and a.arrivals == b.arrivals
    assert np.array_equal(a.online, b.online)
    assert not all(np.array_equal(x, y) for x, y in zip(a.positions, c.positions))


def test_links_follow_the_channel_models_rule_at_the_new_positions() -> None:
    spec = small_spec(rounds=3)
    world = build_world(spec)
    traj = trajectory(world, spec.dynamics, 3, spec.seed)
    scn = round_scenario(world, traj.positions[2], world.clients, {}, None, "r3")
    assert not np.allclose(traj.positions[2], traj.positions[0])  # they did move
    xy = {n.id: np.array(n.position) for n in scn.clients}
    for a in scn.clients:
        for b in scn.clients:
            if a.id == b.id:
                continue
            d = float(np.hypot(*(xy[a.id] - xy[b.id])))
            snr = float(channel.snr_db(a.tx_power_w, channel.d2d_path_loss_db(np.array(d)), channel.D2D_BANDWIDTH_HZ))
            rate = scn.d2d_rate.get((a.id, b.id))
            assert (rate is not None) == (snr >= channel.D2D_MIN_SNR_DB)
            if rate is not None:  # positions are rounded to the millimetre in the scenario
                assert math.isclose(rate, float(channel.shannon_bps(snr, channel.D2D_BANDWIDTH_HZ)), rel_tol=1e-4)
            if a.tx_power_w == b.tx_power_w:
                assert (rate is None) == ((b.id, a.id) not in scn.d2d_rate)  # equal powers: symmetric
    assert {l.client for l in scn.server_links} == {n.id for n in scn.clients}  # out of reach: not in the round


def test_each_nodes_energy_adds_up_to_the_cost_models_round_energy() -> None:
    world = build_world(small_spec())
    requests = {c: InferenceRequest(samples=6) for c in world.clients[-2:]}
    scn = round_scenario(world, world.positions, world.clients, requests, world.base.finetune, "r1")
    plan = solve(scn, "largest-first").plan
    assert plan is not None and len(plan.clusters) >= 3
    spent = node_energy(scn, plan)
    assert math.isclose(sum(spent.values()), round_cost(scn, plan).energy_j, rel_tol=1e-12)
    assert all(v >= 0 for v in spent.values()) and any(scn.node[n].kind == "edge" for n in spent)


@settings(max_examples=50, deadline=None)
@given(spent=st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.floats(0, 5)), min_size=1, max_size=8),
       recharge=st.floats(0, 1), seed=st.integers(0, 2**32 - 1))
def test_batteries_never_go_negative_nor_above_capacity(spent, recharge, seed) -> None:
    batteries = Batteries.drawn("abc", Battery(capacity_j=(1.0, 3.0)), np.random.default_rng(seed))
    for round_spent in spent:
        before = dict(batteries.charge)
        batteries = batteries.after(round_spent, recharge)
        for c, q in batteries.charge.items():
            assert 0.0 <= q <= batteries.capacity[c]
            if round_spent.get(c, 0) > 0:
                assert q == max(0.0, before[c] - round_spent[c])
