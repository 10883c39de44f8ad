"""A request's estimate is interpolated between sweeps at its sample band's ends: never above the sweep at its own
samples (the relaxation it replaces), so the search stays exact and the floor a lower bound."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.chain_search import Search
from gaisnet_opt.bounds.completion import to_head
from gaisnet_opt.bounds.start_bounds import StartBounds, band
from gaisnet_opt.generator import generate
from gaisnet_opt.scenario import Training
from tests.support.exact_start import exact_value
from tests.support.joint_cases import scenarios


@given(samples=st.integers(1, 5000), batch=st.integers(1, 64))
def test_a_band_holds_its_samples_and_its_passes_stay_above_the_line(samples, batch):
    a, b = band(samples, batch)
    assert a <= samples < b
    passes = lambda s: -(-s // batch)
    for s in range(a, b + 1):
        line = passes(a) + Fraction(s - a, b - a) * (passes(b) - passes(a))
        assert passes(s) >= line


def _below(a: np.ndarray, b: np.ndarray) -> bool:
    """a <= b entrywise, to rounding (infinite b admits anything)."""
    return bool(np.all((a <= b * (1 + 1e-12)) | np.isinf(b)))


def _assert_below_own_sweeps(scenario):
    sb = StartBounds(scenario)
    _assert_below_under_a_deadline(scenario, sb)
    for r in sb.requests:
        start = ("inference", r)
        _, samples, cached = sb.key(start)
        own = sb.graph.figures("inference", samples, cached)
        for objective in ("latency", "energy"):
            exact = Search(sb.graph, own, objective, to_head(sb.graph, own, objective))
            assert _below(sb.search(start, objective).h, exact.h)
            relaxed = sb.relaxed(start, objective)
            assert relaxed <= exact.estimates(np.array([sb.graph.index[r]]))[0] * (1 + 1e-12) or math.isinf(relaxed)
            assert relaxed <= exact_value(sb, start, objective) * (1 + 1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_estimates_stay_below_the_own_sample_sweep(scenario):
    _assert_below_own_sweeps(scenario)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), overhead=st.sampled_from([0.0, 1e-3]), batch=st.sampled_from([4, 16]))
def test_on_generated_scenarios_with_pass_overheads(seed, overhead, batch):
    base = generate(40, seed=seed)
    nodes = tuple(v.model_copy(update={"pass_overhead_s": overhead}) for v in base.nodes)
    _assert_below_own_sweeps(base.model_copy(update={"nodes": nodes, "training": Training(batch_size=batch)}))


def _assert_below_under_a_deadline(scenario, sb):
    """With a deadline at the first request's optimum, relaxed bounds still stay below the exact optima."""
    if not sb.requests:
        return
    deadline = exact_value(sb, ("inference", sb.requests[0]), "latency")
    if not math.isfinite(deadline):
        return
    tight = StartBounds(scenario, deadline)
    for r in tight.requests:
        for objective in ("latency", "energy"):
            assert tight.relaxed(("inference", r), objective) <= exact_value(tight, ("inference", r), objective) * (1 + 1e-12)
