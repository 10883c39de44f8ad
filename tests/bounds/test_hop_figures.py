"""Hop figures: a node's out-links priced on their own (as the chain search asks, node by node) equal the whole
graph's bit for bit, both equal the cost model's formula as it stood (the oracle below), and the one-sample hops
scaled and shaded (the pricing sweeps' figures) stay below them within 1e-12 relative."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.bounds.start_bounds import StartBounds
from gaisnet_opt.cost import LABEL_BYTES, _transfer_array, hop_arrays, iterations
from gaisnet_opt.generator import generate
from gaisnet_opt.solvers.decompose.pricing import Pricer
from tests.support.joint_cases import scenarios


def _oracle(scenario, kind, samples, src, dst, fwd_rate, bwd_rate):
    """`cost.hop_arrays` before it read the watts node by node and skipped the zero backward terms."""
    units = scenario.profile.units[:-1]
    finetune = kind == "finetune"
    fwd_bytes = samples * (np.array([u.out_bytes for u in units]) + (LABEL_BYTES if finetune else 0.0))
    bwd_bytes = samples * np.array([u.grad_bytes for u in units]) if finetune else np.zeros(len(units))
    fwd_s = _transfer_array(fwd_bytes[None, :], fwd_rate[:, None])
    bwd_s = _transfer_array(bwd_bytes[None, :], bwd_rate[:, None])
    power = np.array([v.tx_power_w for v in scenario.nodes])
    it = iterations(scenario, kind)
    with np.errstate(invalid="ignore"):
        energy = it * (np.where(fwd_s == 0, 0.0, fwd_s * power[src][:, None])
                       + np.where(bwd_s == 0, 0.0, bwd_s * power[dst][:, None]))
    t = fwd_s + bwd_s
    return t, np.where(np.isfinite(t), energy, math.inf)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b)))
                                                                and np.all(np.signbit(a) == np.signbit(b)))


def _assert_node_by_node_is_the_whole(scenario) -> None:
    g = LinkGraph.of(scenario)
    for kind in ("inference", "finetune"):
        for samples in (1, 3, 17):
            whole = g.hops(kind, samples)
            t, e = _oracle(scenario, kind, samples, g.src, g.dst, g.fwd_rate, g.bwd_rate)
            assert _same(whole.iter_s, t) and _same(whole.energy_j, e)
            for u in range(len(g.ids)):
                sl = slice(g.indptr[u], g.indptr[u + 1])
                own = hop_arrays(scenario, kind, samples, g.src[sl], g.dst[sl], g.fwd_rate[sl], g.bwd_rate[sl])
                assert _same(own.iter_s, whole.iter_s[sl]) and _same(own.energy_j, whole.energy_j[sl])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_out_hops_node_by_node_equal_the_whole_graphs_and_the_formula(scenario):
    _assert_node_by_node_is_the_whole(scenario)


def test_on_a_generated_scenario():
    _assert_node_by_node_is_the_whole(generate(60, seed=3))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), samples=st.integers(1, 300))
def test_scaled_one_sample_hops_stay_below_and_within_1e_12(scenario, samples):
    sb = StartBounds(scenario, 1.0)  # a deadline: the seconds are scaled too
    pricer = Pricer(sb)
    for kind in ("inference", "finetune"):
        scaled, exact = pricer._scaled(kind, samples), sb.graph.hops(kind, samples)
        for got, want in ((scaled.iter_s, exact.iter_s), (scaled.energy_j, exact.energy_j)):
            finite = np.isfinite(want)
            assert np.array_equal(finite, np.isfinite(got))
            assert np.all(got[finite] <= want[finite])
            assert np.all(got[finite] >= want[finite] * (1 - 2e-12))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_expansions_shortcuts_skip_nothing_usable(scenario):
    """`in_links` lists the links `dst == v` does, and `may_hold` is True wherever some range is `usable`, so the
    search's early exits drop no extension."""
    g = LinkGraph.of(scenario)
    nodes = np.arange(len(g.ids))
    for v in nodes:
        assert np.array_equal(g.in_links(int(v)), np.flatnonzero(g.dst == v))
    for kind in ("inference", "finetune"):
        for cached in (False, True):
            fig = g.figures(kind, 2, cached, hops=False)
            for k in range(len(g.servers)):
                for j in range(scenario.profile.n_units):
                    usable = fig.usable(k, nodes, j).any(axis=1)
                    assert not np.any(usable & ~fig.may_hold(k, nodes, j))
