"""The host fit behind the validator's predicted seconds: seconds per pass = o + FLOPs / F."""

from __future__ import annotations

import pytest

from gaisnet_opt.validator.engine import MemberMeter
from gaisnet_opt.validator.report import calibrate


def meter(fwd_flops: float, bwd_flops: float, speed: float, overhead: float, passes: int = 4) -> MemberMeter:
    """A member whose every pass took exactly o + f / F, one of its `passes` counted and not timed."""
    timed = passes - 1
    return MemberMeter(
        node="n", first=0, last=0, passes=passes, fwd_flops=fwd_flops * passes, bwd_flops=bwd_flops * passes,
        timed_passes=timed, fwd_s=timed * (overhead + fwd_flops / speed),
        bwd_s=timed * (overhead + bwd_flops / speed) if bwd_flops else 0.0,
    )


def test_recovers_speed_and_overhead():  # embed-only, one block, five blocks: the paper's chain members
    meters = [meter(2.6e5, 0, 4e10, 5e-4), meter(7e7, 7.5e7, 4e10, 5e-4), meter(2.8e8, 3e8, 4e10, 5e-4)]
    speed, overhead = calibrate(meters)
    assert speed == pytest.approx(4e10, rel=1e-9)
    assert overhead == pytest.approx(5e-4, rel=1e-9)


def test_a_negative_intercept_falls_back_to_the_origin():
    meters = [meter(1e8, 0, 4e10, 0), meter(2e8, 0, 2e10, 0)]  # the second is slower per FLOP: the line crosses below 0
    speed, overhead = calibrate(meters)
    assert overhead == 0.0
    rates = [4e10, 2e10]  # f / t of each pass; 1/F minimizes Σ (f/(F·t) - 1)²
    assert speed == pytest.approx(sum(r * r for r in rates) / sum(rates))


def test_nothing_timed_is_not_calibrated():
    assert calibrate([MemberMeter(node="n", first=0, last=0, passes=1, fwd_flops=1e6)]) is None
