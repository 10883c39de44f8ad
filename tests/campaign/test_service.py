"""The policy bridge: gain curves, the rebased instance, and each policy's decision on hand-made offers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt.campaign.curves import GainCurve
from gaisnet_opt.campaign.service import Offer, chosen, decide, open_loop_levels, open_loop_schedule, round_problem
from gaisnet_opt.campaign.world import DomainWorld, build_world
from gaisnet_opt.schedule.dp import MAX_STATES
from tests.campaign.support import small_spec

accuracies = st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(measured=accuracies, prior=st.floats(0.0, 1.0), ceiling=st.floats(0.5, 1.0))
def test_a_curve_is_what_was_measured_then_rises_towards_its_ceiling(measured, prior, ceiling) -> None:
    curve = GainCurve(tuple(measured), prior, ceiling)
    assert [curve.at(i) for i in range(len(measured))] == measured
    ahead = [curve.at(curve.level + k) for k in range(6)]
    assert ahead == sorted(ahead)
    assert all(a <= max(ceiling, measured[-1]) + 1e-12 for a in ahead) and ahead[0] == measured[-1]
    assert 0.0 <= curve.gain() <= 1.0


def test_the_gain_rate_learns_from_the_measured_steps() -> None:
    flat = GainCurve((0.2, 0.9, 0.9, 0.9), prior_gain=0.5)
    assert math.isclose(flat.gain(), (0.5 + 0.875 + 0 + 0) / 4)
    assert math.isclose(flat.at(4), 0.9 + 0.1 * flat.gain())
    assert GainCurve((0.2,), 0.5).measure(0.6).measured == (0.2, 0.6)


@pytest.fixture(scope="module")
def domains() -> tuple[DomainWorld, ...]:
    return build_world(small_spec()).domains


def _offers(requests_a: int, tune_price: float = 1.0) -> list[Offer]:
    out = [Offer("finetune", "A", (), tune_price), Offer("finetune", "B", (), tune_price)]
    out += [Offer("serve", "A", (), 0.5, f"c{i}", 6 + i) for i in range(requests_a)]
    return out


def _problem(domains, offers, acc_a=0.2, horizon=3, capacity=1):
    curves = {"A": GainCurve((acc_a,), 0.9), "B": GainCurve((0.5,), 0.0)}  # B expects nothing from fine-tuning
    return round_problem(domains, curves, offers, {"A": 5, "B": 5}, horizon, capacity, False, {}, "t"), curves


def test_the_instance_prices_requests_by_the_curve_and_the_offers(domains) -> None:
    problem, curves = _problem(domains, _offers(2))
    a, b = problem.instance.models
    q_bar = (4 + 8) / 2  # the domain's expected inputs, not this round's (6 and 7)
    assert math.isclose(a.profits[0], 1.0 * 0.2 * q_bar - 0.5)
    assert math.isclose(a.profits[1], 1.0 * curves["A"].at(1) * q_bar - 0.5)
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
