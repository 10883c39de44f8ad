"""The host speed behind predicted seconds: fitted to o + FLOPs / F (backward / (η·F)), measured once, saved, used."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.io import save  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from gaisnet_opt.validator.calibration import (  # noqa: E402
    SpeedFit,
    best_fit,
    calibrate_host,
    fit_speed,
    meter_points,
    on_host,
)
from gaisnet_opt.validator.meters import MemberMeter  # noqa: E402
from gaisnet_opt.validator.model import digits_profile  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

torch.set_num_threads(1)


def meter(fwd_flops: float, bwd_flops: float, speed: float, overhead: float, bwd_speed: float | None = None,
          passes: int = 4) -> MemberMeter:
    """A member whose every pass took exactly o + f / F, one of its `passes` counted and not timed."""
    timed = passes - 1
    bwd_speed = bwd_speed or speed
    return MemberMeter(
        node="n", first=0, last=0, passes=passes, bwd_passes=passes if bwd_flops else 0, fwd_flops=fwd_flops * passes,
        bwd_flops=bwd_flops * passes, timed_passes=timed, timed_bwd_passes=timed if bwd_flops else 0,
        fwd_s=timed * (overhead + fwd_flops / speed), bwd_s=timed * (overhead + bwd_flops / bwd_speed) if bwd_flops else 0.0,
    )


def test_recovers_speed_and_overhead():  # embed-only, one block, five blocks: the paper's chain members
    meters = [meter(2.6e5, 0, 4e10, 5e-4), meter(7e7, 7.5e7, 4e10, 5e-4), meter(2.8e8, 3e8, 4e10, 5e-4)]
    fit = fit_speed(meter_points(meters, "training"))
    assert fit.flops_per_s == pytest.approx(4e10, rel=1e-9) and fit.pass_overhead_s == pytest.approx(5e-4, rel=1e-9)
    assert fit.bwd_efficiency == 1.0 and fit.rms_s == pytest.approx(0, abs=1e-12)


def test_a_slower_backward_is_fitted_apart_only_when_the_data_say_so():
    slow = [meter(2.6e5, 0, 4e10, 5e-4, 3e10), meter(7e7, 7.5e7, 4e10, 5e-4, 3e10), meter(2.8e8, 3e8, 4e10, 5e-4, 3e10)]
    single, used = best_fit(meter_points(slow, "training"))
    assert single.bwd_efficiency == 1.0 and single.rms_relative_error > 0.01 and used.rms_s < single.rms_s / 1e6
    assert used.bwd_efficiency == pytest.approx(0.75, rel=1e-9) and used.flops_per_s == pytest.approx(4e10, rel=1e-9)
    same = [meter(2.6e5, 0, 4e10, 5e-4), meter(7e7, 7.5e7, 4e10, 5e-4), meter(2.8e8, 3e8, 4e10, 5e-4)]
    single, used = best_fit(meter_points(same, "training"))
    assert used == single  # no gain from a backward speed of its own


def test_a_negative_intercept_falls_back_to_the_origin():
    meters = [meter(1e8, 0, 4e10, 0), meter(2e8, 0, 2e10, 0)]  # the second is slower per FLOP: the line crosses below 0
    points = meter_points(meters, "training")
    fit = fit_speed(points)
    assert fit.pass_overhead_s == 0.0
    # through the origin, 1/F minimizes Σ (t - f/F)²: F = Σ f² / Σ f·t
    assert fit.flops_per_s == pytest.approx(sum(p.flops**2 for p in points) / sum(p.flops * p.seconds for p in points))


def test_nothing_timed_is_not_calibrated():
    assert best_fit(meter_points([MemberMeter(node="n", first=0, last=0, passes=1, fwd_flops=1e6)], "training")) is None


def test_the_testbed_computes_as_the_host_and_divides_every_rate():
    scenario = digits_world()
    fit = SpeedFit(flops_per_s=2e10, pass_overhead_s=1e-3, bwd_efficiency=0.8, rms_s=0.0, rms_relative_error=0.0)
    testbed = on_host(scenario, fit, time_scale=4)
    edge = testbed.node["e0"]
    assert edge.flops / edge.slots == 2e10 and testbed.node["c0"].flops == 2e10  # per cluster, as effective_flops gives
    assert all(n.pass_overhead_s == 1e-3 and n.bwd_efficiency == 0.8 for n in testbed.nodes)
    assert testbed.rate("c0", "c1") == scenario.rate("c0", "c1") / 4 and testbed.rate("e0", "c2") == scenario.rate("e0", "c2") / 4


@pytest.mark.slow
def test_a_saved_calibration_predicts_a_later_run(tmp_path):
    scenario = digits_world()
    host = calibrate_host(digits_profile(), batch=scenario.training.batch_size, steps=3, repeats=1)
    assert {(p.mode, p.direction) for p in host.points} == {("training", "forward"), ("training", "backward"),
                                                            ("serving", "forward")} and len(host.points) > 20
    # the fits are least squares of the seconds, so the one used is never worse in those (its relative error can
    # be: 0.2705 against the single speed's 0.2683 in one CI run)
    assert host.fit.rms_s <= host.single.rms_s and host.threads == 1
    save(host, tmp_path / "host.json")
    plan = Plan(clusters=(cluster_from_counts("finetune", ["c1", "c3"], [2, 4]),))
    report = validate(scenario, plan, rounds=1, out_dir=tmp_path / "run", calibration=tmp_path / "host.json")
    assert report.calibration.source == str(tmp_path / "host.json") and report.calibration.fit == host.fit
    assert report.config.calibration == host  # the report holds the calibration it used, measured beforehand
    wrong = host.model_copy(update={"batch": 64})
    with pytest.raises(InputError, match=r"calibration.batch.*batch 64.*batch 8"):
        validate(scenario, plan, rounds=1, out_dir=tmp_path / "never", calibration=wrong)
    assert not (tmp_path / "never").exists()


def test_a_run_without_calibration_says_its_seconds_are_a_fit(tmp_path):
    plan = Plan(clusters=(cluster_from_counts("finetune", ["c1", "c3"], [2, 4]),))
    report = validate(digits_world(), plan, rounds=1, out_dir=tmp_path)
    assert report.calibration.source == "this run (a fit, not a prediction)" and report.calibration.measured_at is None
    assert isinstance(report.calibration.fit, SpeedFit) and meter_points([], "serving") == []
