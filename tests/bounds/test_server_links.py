"""The factored server-link figures (`cost.ServerArrays`, read through `link_graph.ServerLinks`) equal the dense
`[server, node, first, last]` arrays they replace, bit for bit, on generated scenarios."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.budget import Budget
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.decompose.decompose import decompose
from gaisnet_opt.solvers.service import cluster_range
from tests.support.joint_cases import scenarios
from tests.support.old_server_arrays import DenseLinks, old_server_arrays


def _assert_same(scenario, kind, cached):
    graph = LinkGraph.of(scenario)
    links = graph.server_links(kind, cached)
    dl, ul, joules = old_server_arrays(scenario, kind, cached, graph.servers)
    ok = np.isfinite(dl) & np.isfinite(ul)
    nodes = np.arange(len(scenario.nodes))
    n = scenario.profile.n_units
    for k in range(len(graph.servers)):
        for j in range(n):
            assert np.array_equal(links.delivery_s(k, nodes, j), dl[k, :, j, j:])
            assert np.array_equal(links.upload_s(k, nodes, j), ul[k, :, j, j:])
            assert np.array_equal(links.ok(k, nodes, j), ok[k, :, j, j:])
            where = ok[k, :, j, j:]
            assert np.array_equal(links.link_j(k, nodes, j)[where], joules[k, :, j, j:][where])
    assert np.array_equal(links.any_ok, ok.any(axis=0))
    assert np.array_equal(links.least_j, np.where(ok, joules, np.inf).min(axis=0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), kind=st.sampled_from(["finetune", "inference"]), cached=st.booleans())
def test_factored_server_links_equal_the_dense_arrays(scenario, kind, cached):
    _assert_same(scenario, kind, cached)


@settings(max_examples=6, deadline=None)
@given(n=st.integers(20, 200), seed=st.integers(0, 10**6), kind=st.sampled_from(["finetune", "inference"]),
       cached=st.booleans())
def test_on_generated_scenarios_too(n, seed, kind, cached):
    _assert_same(generate(n, seed=seed), kind, cached)


def _on_dense(run):
    """`run()` with every `LinkGraph` reading the dense oracle arrays instead of the factored ones."""
    def dense(graph, kind, cached):
        return DenseLinks(graph.scenario, kind, cached, graph.servers)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LinkGraph, "server_links", dense)
        return run()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_floor_is_the_same_on_either_form(scenario):
    lo, _ = cluster_range(scenario)
    assert floors(scenario, lo) == _on_dense(lambda: floors(scenario, lo))


@pytest.mark.parametrize("n, seed", [(40, 1), (80, 2)])
def test_the_decomposition_is_the_same_on_either_form(n, seed):
    scenario = generate(n, seed=seed)
    run = lambda: decompose(scenario, Objective(kind="latency"), budget=Budget(None))
    a, b = run(), _on_dense(run)
    # the objective and bound, not the plan: where the heuristic's plan is already optimal it is returned, and
    # its local search runs for seconds, so which of several optimal plans it ends on depends on the host's speed
    assert (a.objective, a.bound) == (b.objective, b.bound)
    assert a.plan is not None
