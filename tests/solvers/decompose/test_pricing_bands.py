"""Pricing sweeps its penalised estimates at the ends of each request's sample band and interpolates them: the
estimate never exceeds the penalised sweep at the request's own samples (the one it replaces), so every search
stays exact: a start's least reduced cost equals the brute force's where the search completes, and is never above
it where the search is cut (with or without the re-search that carries the way home, in the round it is cut and
in the next, which searches that request by its own sweep first)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.completion import to_head
from gaisnet_opt.bounds.start_bounds import StartBounds
from gaisnet_opt.cost import cluster_cost
from gaisnet_opt.generator import generate
from gaisnet_opt.scenario import Scenario, Training
from gaisnet_opt.solvers.decompose.master import Prices
from gaisnet_opt.solvers.decompose.pricing import EPS, Pricer
from tests.support.exact_start import exact_value
from tests.support.joint_cases import clusters_from, scenarios


def _below(a: np.ndarray, b: np.ndarray) -> bool:
    """a <= b entrywise, to rounding (infinite b admits anything)."""
    return bool(np.all((a <= b * (1 + 1e-12)) | np.isinf(b)))


def _prices(sb: StartBounds, rng: np.random.Generator, scale: float) -> Prices:
    """Random node penalties (≥ 0, some zero) and credits near each start's unpenalised optimum."""
    n = len(sb.graph.ids)
    penalty = np.where(rng.random(n) < 0.5, 0.0, rng.random(n) * scale)
    def near(value: float) -> float:
        return value * rng.uniform(0.8, 3.0) + scale if math.isfinite(value) else scale

    request = {r: near(sb.relaxed(("inference", r), "energy")) for r in sb.requests}
    values = [v for v in (sb.relaxed(("finetune", s), "energy") for s in sb.sources) if math.isfinite(v)]
    return Prices(penalty, request, near(float(np.median(values))) if values else scale)


def _own_sweep(pricer: Pricer, key, penalty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The penalised energy sweep and the latency sweep at the key's own samples, over its own figures and the cost
    model's hops (what pricing swept before bands)."""
    g = pricer.sb.graph
    kind, samples, cached = key
    own = g.figures(kind, samples, cached)
    toll = np.where(pricer.barred, math.inf, penalty)
    tolled = replace(own, seg=replace(own.seg, compute_j=own.seg.compute_j + toll[:, None, None]), out={})
    return to_head(g, tolled, "energy"), to_head(g, own, "latency")


def _assert_bands_below_own(scenario: Scenario, seed: int, deadline: bool) -> None:
    sb = StartBounds(scenario)
    if deadline and sb.requests:
        d = exact_value(sb, ("inference", sb.requests[0]), "latency")
        sb = StartBounds(scenario, d if math.isfinite(d) else None)
    pricer = Pricer(sb)
    rng = np.random.default_rng(seed)
    for round_ in range(2):  # a second round's penalties are swept anew
        prices = _prices(sb, rng, 10.0 ** rng.uniform(-3, 1))
        for r in sb.requests:
            key = sb.key(("inference", r))
            h, lat = pricer.estimate(key, prices.penalty)
            own_h, own_lat = _own_sweep(pricer, key, prices.penalty)
            assert _below(h, own_h), (round_, key)
            assert (lat is None) == (sb.deadline_s is None)
            if lat is not None:
                assert _below(lat, own_lat), (round_, key)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31), deadline=st.booleans())
def test_the_band_estimate_never_exceeds_the_own_sample_penalised_sweep(scenario, seed, deadline):
    _assert_bands_below_own(scenario, seed, deadline)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), overhead=st.sampled_from([0.0, 1e-3]), batch=st.sampled_from([4, 16]),
       deadline=st.booleans())
def test_on_generated_scenarios_with_many_sample_counts(seed, overhead, batch, deadline):
    base = generate(40, seed=seed, request_fraction=0.3)
    nodes = tuple(v.model_copy(update={"pass_overhead_s": overhead}) for v in base.nodes)
    scenario = base.model_copy(update={"nodes": nodes, "training": Training(batch_size=batch)})
    _assert_bands_below_own(scenario, seed, deadline)


def _least_by_brute_force(scenario: Scenario, sb: StartBounds, start, prices: Prices) -> float:
    """The start's least reduced cost over every cluster (no other requester in it): energy plus its members'
    penalties, less the start's credit (infinite: none)."""
    kind, node = start
    barred = {r.id for r in scenario.requesters} - {node}
    g = sb.graph
    values = [cluster_cost(scenario, c).energy_j + sum(prices.penalty[g.index[m]] for m in c.chain)
              for c in clusters_from(scenario, kind, node) if not barred & set(c.chain)]
    return min(values, default=math.inf) - prices.credit(kind, node)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31), pops=st.sampled_from([1, 3, 2000]),
       home=st.booleans())
def test_the_least_reduced_costs_are_the_brute_forces_or_below_where_cut(scenario, seed, pops, home):
    sb = StartBounds(scenario)
    starts = [("inference", r) for r in sb.requests] + [("finetune", s) for s in sb.sources]
    rng = np.random.default_rng(seed)
    pricer = Pricer(sb, home=home)
    for _ in range(2):  # the second round searches the requests cut in the first by their own sweep first
        prices = _prices(sb, rng, 10.0 ** rng.uniform(-3, 0))
        priced = pricer.price(starts, prices, cap=1, pops=pops)
        assert priced.complete
        for s in starts:
            exact = _least_by_brute_force(scenario, sb, s, prices)
            least = priced.least[s]
            assert least <= exact + 1e-9 * max(1.0, abs(exact)) or math.isinf(exact), (s, least, exact)
            if pops == 2000 and exact < -EPS - 1e-9 * abs(exact):  # a complete search finds the optimum
                assert math.isclose(least, exact, rel_tol=1e-9, abs_tol=1e-12), (s, least, exact)
        for c in priced.columns:  # every column is priced as the cost model prices its cluster
            assert math.isclose(c.cost, cluster_cost(scenario, c.chain.cluster(sb.graph, c.kind)).energy_j,
                                rel_tol=1e-9)


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), deadline=st.booleans())
def test_where_memory_binds_inside_a_band(seed, deadline):
    """Clients whose memory holds a unit at a request's samples but not at its band's upper end: the upper end is
    swept over the lower end's memory mask, so the estimate stays below the own-sample sweep."""
    from gaisnet_opt.bounds.start_bounds import band
    from gaisnet_opt.cost import member_memory

    base = generate(40, seed=seed, request_fraction=0.3)
    scenario = base.model_copy(update={"training": Training(batch_size=64)})
    sb = StartBounds(scenario)
    inside = [sb.key(("inference", r))[1] for r in sb.requests]
    inside = [s for s in inside if band(s, 64)[0] < s]
    if not inside:
        return
    s = inside[0]
    need = [member_memory(scenario, "inference", u, u, s) for u in range(scenario.profile.n_units)]
    nodes = tuple(v.model_copy(update={"memory_bytes": max(need) * (1 + 1e-6)}) if v.kind == "client" else v
                  for v in scenario.nodes)
    _assert_bands_below_own(scenario.model_copy(update={"nodes": nodes}), seed, deadline)
