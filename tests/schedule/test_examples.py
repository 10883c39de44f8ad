"""The paper's Table V (arXiv:2401.02668, section V.F): totals and decisions."""

from __future__ import annotations

import pytest

from gaisnet_opt.schedule import compare_policies, paper_table5, solve_schedule
from gaisnet_opt.schedule.examples import PAPER_MLCP, PAPER_MSIP, PAPER_RS, PAPER_TOTALS
from gaisnet_opt.schedule.policies import random_summary, replay_labels


@pytest.fixture(scope="module")
def inst():
    return paper_table5()


def test_mlcp_total_and_the_papers_decisions(inst) -> None:
    result = solve_schedule(inst, "mlcp")
    assert result.total == PAPER_TOTALS["mlcp"] == 650.0
    assert " ".join(result.labels) == PAPER_MLCP
    assert [r.profit for r in result.rounds] == [50, -50, -50] + [100] * 7


def test_mlcp_reports_the_three_optimal_schedules(inst) -> None:
    opt = solve_schedule(inst, "mlcp").optimal_schedules
    assert opt is not None and opt.count == 3 and not opt.unique
    # the other two: fine-tune c before serving A, or in rounds 1-2 and serve B
    for other in ("c A c C C C C C C C", "c c B C C C C C C C"):
        assert replay_labels(inst, other).total == 650.0


def test_milp_agrees_with_the_dp(inst) -> None:
    result = solve_schedule(inst, "mlcp-milp")
    assert result.status == "optimal"
    assert result.total == 650.0


def test_msip_total_and_decisions(inst) -> None:
    result = solve_schedule(inst, "msip")
    assert result.total == PAPER_TOTALS["msip"] == 500.0
    assert " ".join(result.labels) == PAPER_MSIP


def test_papers_rs_sequence_scores_minus_75(inst) -> None:
    result = replay_labels(inst, PAPER_RS)
    assert result.total == PAPER_TOTALS["rs-paper"] == -75.0
    assert [r.profit for r in result.rounds] == [-50, -50, -50, 50, -50, 50, -50, 50, -50, 75]
    assert result.rounds[-1].levels == {"A": 3, "B": 2, "C": 1}


def test_rs_mean_over_1000_seeds_is_reproducible_and_below_msip(inst) -> None:
    first = random_summary(inst, seed=0, runs=1000)
    assert first == random_summary(inst, seed=0, runs=1000)
    assert first.runs == 1000 and first.seeds == "0..999"
    assert first.max <= 650.0
    assert first.mean < 500.0


def test_a_schedule_breaking_the_rules_is_refused(inst) -> None:
    with pytest.raises(ValueError, match="round 1"):
        replay_labels(inst, "B A B C C C C C C C")  # round 1 asks for A: B cannot be served


def test_comparison_holds_every_policy_once(inst) -> None:
    comparison = compare_policies(inst, seed=3, runs=10)
    assert [r.policy for r in comparison.results] == ["mlcp", "mlcp-milp", "msip", "rs"]
    assert comparison.results[3].params == {"seed": 3}
    assert [s.policy for s in comparison.summaries] == ["rs"]
