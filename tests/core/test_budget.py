"""`Budget`: one wall-clock limit per call, phases timed, checks that raise once it is spent."""

from __future__ import annotations

import math

import pytest

from gaisnet_opt.budget import SOLVER_RESERVE_S, SOLVER_RESERVE_SHARE, TICK_EVERY, Budget, OutOfTime


class Manual:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_check_raises_naming_the_phase_once_spent():
    clock = Manual()
    b = Budget(2.0, clock=clock)
    with b.phase("table"):
        clock.now = 1.5
        b.check()
        assert b.left() == pytest.approx(0.5)
        clock.now = 2.0
        with pytest.raises(OutOfTime) as exc:
            b.check()
    assert exc.value.phase == "table" and b.phases["table"] == pytest.approx(2.0)


def test_phases_sum_over_repeats_and_nest_back():
    clock = Manual()
    b = Budget(None, clock=clock)
    for _ in range(2):
        with b.phase("solver"):
            clock.now += 1.0
    assert b.phases == {"solver": 2.0} and b.current == "setup" and math.isinf(b.left())


def test_tick_checks_on_entry_and_every_tick_every():
    clock = Manual()
    b = Budget(1.0, clock=clock)
    clock.now = 5.0
    with b.phase("model"), pytest.raises(OutOfTime):
        b.tick()  # the first tick in a phase reads the clock
    b = Budget(1.0, clock=clock)
    with b.phase("model"):
        b.tick()
        clock.now = 10.0
        for _ in range(TICK_EVERY - 1):
            b.tick()  # between two readings the clock is not looked at
        with pytest.raises(OutOfTime):
            b.tick()


def test_the_solver_gets_what_is_left_less_the_reserve():
    clock = Manual()
    b = Budget(10.0, clock=clock)
    clock.now = 4.0
    assert b.solver_seconds() == pytest.approx(6.0 - SOLVER_RESERVE_S - SOLVER_RESERVE_SHARE * 10.0)
    clock.now = 11.0
    assert b.solver_seconds() == 0.0
    assert Budget(None).solver_seconds() is None
