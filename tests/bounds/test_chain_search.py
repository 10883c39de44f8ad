"""The exact chain search finds each start point's cheapest clusters: the brute force's (no other requester in
the chain), value for value."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.chain_search import Search
from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.cost import batch_samples, cluster_cost
from tests.support.joint_cases import clusters_from, scenarios


def _search(scenario, kind, start, objective):
    graph = LinkGraph.of(scenario)
    request = scenario.node[start].request
    cached = kind == "inference" and request is not None and request.cached
    fig = graph.figures(kind, batch_samples(scenario, kind, start), cached)
    search = Search.build(graph, fig, objective)
    search.barred = np.array([v.request is not None for v in scenario.nodes])
    return graph, search


def _starts(scenario):
    return [("inference", r.id) for r in scenario.requesters] + [("finetune", d.id) for d in scenario.data_sources]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), objective=st.sampled_from(["latency", "energy"]))
def test_the_search_finds_each_starts_optimum_and_every_chain_within_a_limit(scenario, objective):
    for kind, start in _starts(scenario):
        graph, search = _search(scenario, kind, start, objective)
        barred = {r.id for r in scenario.requesters} - {start}  # each requester starts its own cluster
        costs = [cluster_cost(scenario, c) for c in clusters_from(scenario, kind, start) if not barred & set(c.chain)]
        values = sorted(c.latency_s if objective == "latency" else c.energy_j for c in costs)
        found = search.chains(graph.index[start])
        if not values:
            assert found == []
            continue
        assert len(found) == 1 and math.isclose(found[0].value, values[0], rel_tol=1e-9)
        priced = cluster_cost(scenario, found[0].cluster(graph, kind))
        assert math.isclose(priced.latency_s, found[0].latency_s, rel_tol=1e-9)
        assert math.isclose(priced.energy_j, found[0].energy_j, rel_tol=1e-9)
        limit = values[len(values) // 2]
        within = search.chains(graph.index[start], limit=limit * (1 + 1e-9), cap=10**6)
        assert len(within) == sum(v <= limit * (1 + 1e-9) for v in values)
        assert [c.value for c in within] == sorted(c.value for c in within)
