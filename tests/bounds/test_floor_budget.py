"""The floor checks the budget as it goes (per start point, per search built, every 64 expansions of a search) and
stops at whichever check finds it spent."""

from __future__ import annotations

import pytest

from gaisnet_opt.bounds.floor import floors
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.generator import generate


class CountingBudget(Budget):
    """No limit of its own; raises at the `stop_at`-th check (0: never)."""

    checks = 0
    stop_at = 0

    def check(self) -> None:
        self.checks += 1
        if self.checks == self.stop_at:
            raise OutOfTime(self.current)


def test_the_floor_checks_inside_searches_and_stops_where_the_budget_runs_out():
    scenario = generate(60, seed=5)
    counting = CountingBudget(None)
    whole = floors(scenario, 2, counting)
    assert counting.checks > 1
    late = CountingBudget(None)
    late.stop_at = counting.checks  # the very last check
    with pytest.raises(OutOfTime):
        floors(scenario, 2, late)
    assert floors(scenario, 2) == whole  # the checks change nothing else
