"""The scenario generator: seeded, sized 2..2,000 clients, links from the channel model."""

from __future__ import annotations

import numpy as np
import pytest

from gaisnet_opt import channel
from gaisnet_opt.devices import CLIENT_CLASSES, EDGE_SERVER
from gaisnet_opt.generator import generate


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
    with pytest.raises(ValueError, match="source_fraction"):
        generate(10, source_fraction=1.5)
