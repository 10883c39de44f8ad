"""The floor's capped searches: dominance between partial chains keeps the search exact, a search cut at its pops
gives a finite lower bound, and the capped floor is never above the uncapped floor or the optimum."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.chain_search import Search
from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.bounds.start_bounds import FLOOR_POPS, Start, StartBounds
from gaisnet_opt.generator import generate
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from tests.support.exact_start import exact_value
from tests.support.joint_cases import brute_force, scenarios

SLACK = 1e-9
"""Relative rounding slack between a bound and a value summed in another order (as in test_floor.py)."""


def _starts(sb: StartBounds) -> list[Start]:
    return [("inference", r) for r in sb.requests] + [("finetune", s) for s in sb.sources]


def _repro() -> Scenario:
    """compare_bench's dense/homogeneous/aggregator regime, 15 clients, seed 2, three clusters: identical phones,
    whose ties took one request's exact energy search 182,240 expansions (about 15 s)."""
    from gaisnet_opt.solvers.service import with_clusters

    return with_clusters(generate(15, 2, area_per_client_m2=2500.0, heterogeneous=False, edge_slots=0), 3)


def test_the_floor_of_many_identical_devices_stays_within_its_pops():
    scenario = _repro()
    capped = StartBounds(scenario)
    low = floors(scenario, 3, starts=capped)
    assert capped.expanded <= 3 * FLOOR_POPS  # was 182,611 with the uncapped searches
    cut = [b for b in capped._lower.values() if not b.exact]
    assert cut and all(math.isfinite(b.value) for b in cut)  # a cut is a bound, not "no cluster fits"
    exact = StartBounds(scenario, floor_pops=None)
    whole = floors(scenario, 3, starts=exact)
    assert exact.expanded < 10_000  # dominance alone: the same floor from 7,823 expansions
    assert all(b.exact for b in exact._lower.values())
    assert low[0] == whole[0] and whole[1] * (1 - 1e-3) <= low[1] <= whole[1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), pops=st.sampled_from([0, 1, 2, 4, 8]))
def test_a_capped_start_bound_is_below_the_exact_one_and_dominance_keeps_it_exact(scenario, pops):
    plain, exact, capped = StartBounds(scenario), StartBounds(scenario, floor_pops=None), StartBounds(scenario, floor_pops=pops)
    for start in _starts(plain):
        for objective in ("latency", "energy"):
            for edges in (True, False):
                best = exact_value(plain, start, objective, edges)  # the search without dominance or cap
                whole, cut = exact.lower(start, objective, edges), capped.lower(start, objective, edges)
                assert whole.exact and (whole.value == best or math.isclose(whole.value, best, rel_tol=SLACK))
                assert cut.value <= best * (1 + SLACK) or best == math.inf
                if cut.exact:
                    assert cut.value == whole.value
                else:
                    assert math.isfinite(cut.value) and cut.chain is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), pops=st.sampled_from([0, 1, 2, 4, 8]))
def test_the_capped_floor_never_exceeds_the_uncapped_floor_or_the_optimum(scenario, pops):
    lo = scenario.finetune.min_clusters
    capped = floors(scenario, lo, starts=StartBounds(scenario, floor_pops=pops))
    whole = floors(scenario, lo, starts=StartBounds(scenario, floor_pops=None))
    for a, b, kind in zip(capped, whole, ("latency", "energy"), strict=True):
        assert a <= b * (1 + SLACK) or b == math.inf
        best = brute_force(scenario, Objective(kind=kind))
        if best is not None:
            assert a <= best[0] * (1 + SLACK), kind


DEVICE = ("flops", "memory_bytes", "energy_per_flop", "tx_power_w", "pass_overhead_s")


def _twins(scenario: Scenario, same_links: bool) -> Scenario:
    """Every client with the first one's device figures (and, with `same_links`, every D2D link at one rate):
    the ties dominance is for."""
    first = next(v for v in scenario.nodes if v.kind == "client")
    nodes = tuple(v.model_copy(update={f: getattr(first, f) for f in DEVICE}) if v.kind == "client" else v
                  for v in scenario.nodes)
    d2d = tuple(x.model_copy(update={"rate_bps": scenario.d2d[0].rate_bps}) for x in scenario.d2d) if same_links else scenario.d2d
    return scenario.model_copy(update={"nodes": nodes, "d2d": d2d})


def _same_optimum(sb: StartBounds, start: Start, objective: str, deadline: float | None, penalty: np.ndarray | None) -> int:
    """The plain search's optimum and the one with dominance agree (deadline and penalties in the label); the
    expansions dominance saved."""
    base = sb.search(start, objective)
    lat = base.h if objective == "latency" else sb.search(start, "latency").h
    search = Search(sb.graph, base.fig, objective, base.h, lat, deadline, base.barred)
    node = sb.graph.index[start[1]]
    plain = search.chains(node, penalty=penalty)
    spent = search.last_pops
    pruned = search.chains(node, penalty=penalty, dominance=True)
    assert len(plain) == len(pruned)
    if plain:
        assert math.isclose(pruned[0].value, plain[0].value, rel_tol=SLACK)
        assert deadline is None or pruned[0].latency_s <= deadline * (1 + SLACK)
    return spent - search.last_pops


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(max_clients=6, max_units=6), objective=st.sampled_from(["latency", "energy"]),
       twins=st.sampled_from([None, False, True]), data=st.data())
def test_dominance_finds_the_same_optimum_under_a_deadline_and_penalties(scenario, objective, twins, data):
    scenario = scenario if twins is None else _twins(scenario, twins)
    sb = StartBounds(scenario)
    n = len(sb.graph.ids)
    penalty = np.array(data.draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 3.0]), min_size=n, max_size=n)))
    for start in _starts(sb):
        loose = exact_value(sb, start, "latency")
        if math.isfinite(loose):
            _same_optimum(sb, start, objective, loose * data.draw(st.sampled_from([1.0, 1.5, 4.0])), penalty)


def test_dominance_finds_the_same_optimum_among_identical_phones():
    """compare_bench's dense homogeneous regimes at 8 clients: every start, objective, deadline and penalty."""
    saved = 0
    for seed in range(3):
        for slots in (0, 2):
            sb = StartBounds(generate(8, seed, area_per_client_m2=2500.0, heterogeneous=False, edge_slots=slots))
            rng = np.random.default_rng(seed)
            for start in _starts(sb):
                loose = exact_value(sb, start, "latency")
                for objective in ("latency", "energy"):
                    for deadline in (None, loose, 1.3 * loose):
                        saved += _same_optimum(sb, start, objective, deadline, None)
                        penalty = rng.choice([0.0, 0.0, 0.2], size=len(sb.graph.ids)) * (1 if objective == "latency" else 10)
                        saved += _same_optimum(sb, start, objective, deadline, penalty)
    assert saved > 0  # measured: 4,406 expansions without dominance, 3,800 with
