"""The policy bridge: gain curves, the rebased instance, and each policy's decision on hand-made offers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt.campaign.curves import GainCurves
from gaisnet_opt.campaign.service import Offer, chosen, decide, open_loop_levels, open_loop_schedule, round_problem
from gaisnet_opt.campaign.world import DomainWorld, build_world
from gaisnet_opt.schedule.dp import MAX_STATES
from tests.campaign.support import small_spec

accuracies = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)


def _curves(a: tuple[float, ...], b: tuple[float, ...], model: str = "pooled", prior: float = 0.5,
            ceiling: float = 1.0) -> GainCurves:
    return GainCurves({"A": a, "B": b}, {"A": prior, "B": prior}, {"A": ceiling, "B": ceiling}, model)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(a=accuracies, b=accuracies, prior=st.floats(0.0, 1.0), ceiling=st.floats(0.5, 1.0),
       model=st.sampled_from(["pooled", "own"]))
def test_a_curve_is_what_was_measured_then_rises_towards_its_ceiling(a, b, prior, ceiling, model) -> None:
    curves = _curves(tuple(a), tuple(b), model, prior, ceiling)
    assert [curves.at("A", i) for i in range(len(a))] == a and curves.now("A") == a[-1]
    ahead = [curves.at("A", curves.level("A") + k) for k in range(6)]
    assert ahead == sorted(ahead) and ahead[0] == a[-1]
    assert all(x <= max(ceiling, a[-1]) + 1e-12 for x in ahead)
    assert all(0.0 <= curves.gain("A", j) <= 1.0 for j in range(1, 8))


def test_one_rate_per_model_learns_from_its_own_rounds() -> None:
    curves = _curves((0.2, 0.9, 0.9, 0.9), (0.0,), "own")
    g = (0.5 + 0.875 + 0 + 0) / 4
    assert math.isclose(curves.gain("A", 4), g) and math.isclose(curves.at("A", 4), 0.9 + 0.1 * g)
    assert curves.gain("B", 1) == 0.5  # nothing measured: the prior
    assert curves.measure("B", 0.6).measured == {"A": (0.2, 0.9, 0.9, 0.9), "B": (0.0, 0.6)}


def test_pooled_rates_carry_one_models_rounds_to_another() -> None:
    """A's first round closed 95 % of its gap: B, never tuned, expects about as much from its first; a second round
    nobody measured is expected like the last one measured; once A's second round gains nothing, so does B's."""
    first = 0.715 / 0.75
    curves = _curves((0.25, 0.965), (0.0,))
    assert math.isclose(curves.gain("B", 1), (0.5 + first) / 2)
    assert math.isclose(curves.at("B", 1), (0.5 + first) / 2)
    assert math.isclose(curves.gain("A", 2), curves.gain("B", 1))
    flat = curves.measure("A", 0.965)
    assert math.isclose(flat.gain("B", 2), 0.5 / 2) and math.isclose(flat.gain("B", 5), 0.5 / 2)
    assert _curves((0.25, 0.965), (0.0,), "own").gain("B", 1) == 0.5  # the own model ignores A


@pytest.fixture(scope="module")
def domains() -> tuple[DomainWorld, ...]:
    return build_world(small_spec()).domains


def _offers(requests_a: int, tune_price: float = 1.0) -> list[Offer]:
    out = [Offer("finetune", "A", (), tune_price), Offer("finetune", "B", (), tune_price)]
    out += [Offer("serve", "A", (), 0.5, f"c{i}", 6 + i) for i in range(requests_a)]
    return out


def _problem(domains, offers, acc_a=0.2, horizon=3, capacity=1):
    curves = GainCurves({"A": (acc_a,), "B": (0.5,)}, {"A": 0.9, "B": 0.0}, {"A": 1.0, "B": 1.0})  # B expects nothing
    return round_problem(domains, curves, offers, {"A": 5, "B": 5}, horizon, capacity, False, {}, "t"), curves


def test_the_instance_prices_requests_by_the_curve_and_the_offers(domains) -> None:
    problem, curves = _problem(domains, _offers(2))
    a, b = problem.instance.models
    q_bar = (4 + 8) / 2  # the domain's expected inputs, not this round's (6 and 7)
    assert math.isclose(a.profits[0], 1.0 * 0.2 * q_bar - 0.5)
    assert math.isclose(a.profits[1], 1.0 * curves.at("A", 1) * q_bar - 0.5)
    assert a.finetune_cost == 1.0 and a.cap == 3 and b.cap == 3
    assert problem.demand.tolist() == [[2, 0]]
    assert np.allclose(problem.instance.expected_demand(), [[1.0, 1.0]] * 3)  # the Poisson rates


def test_a_model_without_a_fine_tuning_offer_cannot_be_fine_tuned(domains) -> None:
    offers = [o for o in _offers(1) if not (o.kind == "finetune" and o.domain == "B")]
    problem, _ = _problem(domains, offers)
    assert problem.instance.models[1].cap == 0


def test_mlcp_invests_where_msip_serves(domains) -> None:
    """A's requests are nearly worthless untuned and the curve promises a lot: the long view fine-tunes first."""
    problem, _ = _problem(domains, _offers(1), acc_a=0.05, horizon=3)
    assert decide("msip", problem, 0).label == "A"
    assert decide("mlcp", problem, 0).finetune == ("A",)
    assert decide("rs", problem, 7) == decide("rs", problem, 7)


def test_the_fixed_baseline_fine_tunes_what_it_planned(domains) -> None:
    problem, _ = _problem(domains, _offers(1), capacity=2)
    assert decide("fixed", problem, 0, planned=("B",)).label == "b+A"
    assert decide("fixed", problem, 0, planned=()).label == decide("msip", problem, 0).label
    schedule = open_loop_schedule(_problem(domains, _offers(1), horizon=5)[0], 5)
    assert len(schedule) == 5 and all(set(s) <= {"A", "B"} for s in schedule)


def test_a_decision_takes_the_most_profitable_requests(domains) -> None:
    problem, curves = _problem(domains, _offers(3), capacity=2)
    decision = decide("msip", problem, 0)
    assert decision.serve == ("A", "A")
    taken = chosen(decision, problem, domains, curves)
    assert [o.client for o in taken] == ["c2", "c1"]  # 8 and 7 inputs before 6


@given(models=st.integers(1, 12))
def test_the_open_loop_plans_as_many_levels_as_the_dynamic_program_holds(models) -> None:
    most = open_loop_levels(models)
    assert (most + 1) ** models <= MAX_STATES < (most + 2) ** models


def test_sampled_futures_see_the_rounds_expected_counts_hide() -> None:
    """Two slots, one request a round expected for each of three models, A and C tuned, B not, and only an A request
    now: one slot must fine-tune. On expected counts A and C fill every later round, so B's requests are never
    served and re-tuning A is worth more than tuning B; sampled Poisson rounds often leave B's requests a slot."""
    doms = [{"name": n, "classes": c, "sources": 2, "requests": {"rate": 1.0, "samples": [16, 24]}}
            for n, c in (("A", [0, 1, 2, 3]), ("B", [4, 5, 6]), ("C", [7, 8, 9]))]
    three = build_world(small_spec(domains=doms)).domains
    offers = [*(Offer("finetune", n, (), 0.5) for n in "ABC"), Offer("serve", "A", (), 0.5, "c1", 20)]
    curves = GainCurves({"A": (0.25, 0.96), "B": (0.0,), "C": (0.0, 0.96)}, dict.fromkeys("ABC", 0.5),
                        dict.fromkeys("ABC", 1.0))
    problem = round_problem(three, curves, offers, dict.fromkeys("ABC", 10), 5, 2, False, {}, "t")
    assert decide("mlcp", problem, 0, forecast="expected").label == "a+A"
    sampled = decide("mlcp", problem, 0, forecast="sampled", samples=64)
    assert sampled.label == "b+A"
    assert decide("mlcp", problem, 0, forecast="sampled", samples=64) == sampled  # seeded
