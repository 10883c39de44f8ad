"""The scenario generator: seeded, sized 2..20,000 clients, links from the channel model."""

from __future__ import annotations

import numpy as np
import pytest

from gaisnet_opt import channel, generator
from gaisnet_opt.devices import CLIENT_CLASSES, EDGE_SERVER
from gaisnet_opt.generator import MAX_CLIENTS, generate
from tests.support.generator_oracle import all_pairs_d2d_links, all_pairs_server_links


def test_same_seed_same_scenario_other_seed_other():
    assert generate(30, seed=7) == generate(30, seed=7)
    assert generate(30, seed=7) != generate(30, seed=8)


@pytest.mark.parametrize("n", [5, 20, 200, 2000])
def test_sizes(n):
    s = generate(n, seed=1)
    assert len(s.clients) == n
    assert len(s.edges) >= 1
    assert len(s.data_sources) >= 1
    assert all(s.servers_of(c.id) for c in s.clients), "every client reaches an edge server"


def test_links_follow_the_channel_model():
    s = generate(40, seed=2)
    pos = {n.id: np.array(n.position) for n in s.nodes}
    power = {n.id: n.tx_power_w for n in s.nodes}
    linked = set(s.d2d_rate)
    for a in s.clients:
        for b in s.clients:
            if a.id == b.id:
                continue
            d = float(np.linalg.norm(pos[a.id] - pos[b.id]))
            snr = float(channel.snr_db(power[a.id], channel.d2d_path_loss_db(np.array(d)), channel.D2D_BANDWIDTH_HZ))
            # positions are rounded to the millimetre: allow a hair of slack at the threshold
            if snr > channel.D2D_MIN_SNR_DB + 1e-3:
                rate = s.d2d_rate[(a.id, b.id)]
                assert rate == pytest.approx(float(channel.shannon_bps(snr, channel.D2D_BANDWIDTH_HZ)), rel=1e-4)
            elif snr < channel.D2D_MIN_SNR_DB - 1e-3:
                assert (a.id, b.id) not in linked


def test_shannon_and_path_loss_values():
    # 10 MHz at 0 dB SNR carries exactly 10 Mbit/s; 100 m D2D loses 140.7 - 36.7 = 104 dB
    assert float(channel.shannon_bps(np.array(0.0), 10e6)) == pytest.approx(10e6)
    assert float(channel.d2d_path_loss_db(np.array(100.0))) == pytest.approx(104.0)
    assert float(channel.cell_path_loss_db(np.array(1000.0))) == pytest.approx(128.1)


def test_devices_draw_from_their_class_ranges():
    s = generate(100, seed=4)
    classes = {dc.name: dc for dc in (*CLIENT_CLASSES, EDGE_SERVER)}
    for n in s.nodes:
        dc = classes[n.device]
        assert dc.flops[0] <= n.flops <= dc.flops[1]
        assert dc.memory_bytes[0] <= n.memory_bytes <= dc.memory_bytes[1]
    assert {n.device for n in s.clients} == {dc.name for dc in CLIENT_CLASSES}
    assert {n.device for n in generate(30, seed=4, heterogeneous=False).clients} == {"phone"}


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="clients"):
        generate(1)
    with pytest.raises(ValueError, match=f"clients: {MAX_CLIENTS + 1} is outside 2..{MAX_CLIENTS}"):
        generate(MAX_CLIENTS + 1)
    with pytest.raises(ValueError, match="source_fraction"):
        generate(10, source_fraction=1.5)
    for name in ("area_per_client_m2", "cell_m"):
        with pytest.raises(ValueError, match=f"{name}: 0.0 is not positive"):
            generate(10, **{name: 0.0})


@pytest.mark.parametrize(("n", "seed", "options"), [
    (2, 0, {}), (2, 11, {}), (3, 5, {"area_per_client_m2": 10.0}), (40, 1, {}),
    (300, 2, {}), (301, 9, {"area_per_client_m2": 300.0, "heterogeneous": False}),
    (500, 4, {"area_per_client_m2": 40_000.0, "cell_m": 500.0}), (2000, 7, {}),
])
def test_grid_search_equals_the_all_pairs_loops(monkeypatch, n, seed, options):
    """Same seed, same scenario JSON as the generator's former all-pairs loops: links, rates and order."""
    grid = generate(n, seed, **options)
    monkeypatch.setattr(generator, "_d2d_links", all_pairs_d2d_links)
    monkeypatch.setattr(generator, "_server_links", all_pairs_server_links)
    oracle = generate(n, seed, **options)
    assert grid.model_dump_json() == oracle.model_dump_json()
    assert len(grid.d2d) > 0 or n < 40


def test_rows_beyond_the_old_limit_match_the_all_pairs_loop():
    """At 5,000 clients (past the oracle's 2,000) a sample of clients' outgoing links is an all-pairs row's."""
    s = generate(5000, seed=3)
    clients = s.clients
    xy = np.array([c.position for c in clients])
    power = np.array([c.tx_power_w for c in clients])
    out: dict[str, list[tuple[str, float]]] = {}
    for link in s.d2d:
        out.setdefault(link.src, []).append((link.dst, link.rate_bps))
    for i in np.random.default_rng(0).choice(len(clients), size=25, replace=False):
        d = np.hypot(*(xy - xy[i]).T)
        snr = channel.snr_db(power[i], channel.d2d_path_loss_db(d), channel.D2D_BANDWIDTH_HZ)
        # positions are rounded to the millimetre: pairs within a hair of the threshold may go either way
        sure = {f"c{j}" for j in np.flatnonzero(snr > channel.D2D_MIN_SNR_DB + 1e-3) if j != i}
        maybe = {f"c{j}" for j in np.flatnonzero(snr >= channel.D2D_MIN_SNR_DB - 1e-3) if j != i}
        got = [dst for dst, _ in out.get(f"c{i}", [])]
        assert sure <= set(got) <= maybe
        assert got == sorted(got, key=lambda c: int(c[1:])), "destinations in index order"


@pytest.mark.parametrize("layout", ["uniform", "clumped", "one spot", "negative"])
def test_near_pairs_finds_every_pair_within_reach(layout):
    rng = np.random.default_rng(5)
    points = {
        "uniform": rng.uniform(0, 1000, size=(400, 2)),
        "clumped": np.concatenate([rng.normal(c, 15, size=(60, 2)) for c in (100, 500, 900)]),
        "one spot": np.full((30, 2), 7.0),
        "negative": rng.uniform(-3000, -2000, size=(200, 2)),
    }[layout]
    queries = np.concatenate([points[:50], rng.uniform(points.min(), points.max(), size=(20, 2))])
    reach = 60.0
    q, p, d = generator._near_pairs(points, queries, reach)
    all_d = np.hypot(*(points[None, :, :] - queries[:, None, :]).transpose(2, 0, 1))
    want_q, want_p = np.nonzero(all_d <= reach)
    assert list(zip(q.tolist(), p.tolist())) == list(zip(want_q.tolist(), want_p.tolist()))
    assert np.array_equal(d, all_d[q, p])


def test_near_pairs_of_nothing_is_empty():
    q, p, d = generator._near_pairs(np.empty((0, 2)), np.zeros((3, 2)), 100.0)
    assert len(q) == len(p) == len(d) == 0


def test_reach_inverts_the_path_loss():
    for model, loss in ((channel.D2D_PATH_LOSS, channel.d2d_path_loss_db), (channel.CELL_PATH_LOSS, channel.cell_path_loss_db)):
        for power, threshold in ((0.2, 0.0), (39.8, -5.0)):
            r = channel.reach_m(power, model, 10e6, threshold)
            at = float(channel.snr_db(power, loss(np.array(r)), 10e6))
            beyond = float(channel.snr_db(power, loss(np.array(r * 1.01)), 10e6))
            assert at == pytest.approx(threshold, abs=1e-9) and beyond < threshold
    assert channel.reach_m(0.0, channel.D2D_PATH_LOSS, 10e6, 0.0) == 0.0


def test_servers_of_lists_a_clients_servers_in_scenario_order():
    s = generate(400, seed=6, cell_m=300.0)
    for c in s.clients:
        assert s.servers_of(c.id) == [l.server for l in s.server_links if l.client == c.id]
    assert max(len(s.servers_of(c.id)) for c in s.clients) > 1, "some client reaches several servers"
    assert s.servers_of("nobody") == []
