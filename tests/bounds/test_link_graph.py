"""`LinkGraph.of` holds every link a chain may cross with `Scenario.rate` both ways, sorted by source."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings

from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.generator import generate
from tests.support.joint_cases import scenarios


def _rate(scenario, a, b):
    r = scenario.rate(a, b)
    return math.nan if r is None else r


def _assert_links(scenario):
    g = LinkGraph.of(scenario)
    pairs = sorted({*scenario.d2d_rate, *((x.client, x.server) for x in scenario.server_links),
                    *((x.server, x.client) for x in scenario.server_links)}, key=lambda p: (g.index[p[0]], g.index[p[1]]))
    got = [(g.ids[a], g.ids[b]) for a, b in zip(g.src, g.dst, strict=True)]
    assert got == pairs
    assert np.array_equal(g.fwd_rate, [_rate(scenario, a, b) for a, b in pairs], equal_nan=True)
    assert np.array_equal(g.bwd_rate, [_rate(scenario, b, a) for a, b in pairs], equal_nan=True)
    for i in range(len(g.ids)):
        assert all(g.src[g.indptr[i]:g.indptr[i + 1]] == i)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_the_graph_has_every_link_with_its_rates(scenario):
    _assert_links(scenario)


def test_on_a_generated_scenario():
    _assert_links(generate(150, seed=4))
