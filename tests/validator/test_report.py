"""The report: measured beside predicted, and the host fit behind its predicted seconds (o + FLOPs / F per pass)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.validator import validate  # noqa: E402
from gaisnet_opt.validator.checkpoint import CHECKPOINT  # noqa: E402
from gaisnet_opt.validator.meters import MemberMeter  # noqa: E402
from gaisnet_opt.validator.report import calibrate  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)


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


def test_report_sets_measured_beside_predicted(tmp_path):
    report = validate(digits_world(), two_cluster_plan(), rounds=2, out_dir=tmp_path)
    for name in ("report.json", "report.md", CHECKPOINT):
        assert (tmp_path / name).stat().st_size > 0
    body = json.loads((tmp_path / "report.json").read_text())
    assert [r["round"] for r in body["rounds"]] == [0, 1, 2]
    assert all(h["fwd_bytes"] == h["fwd_bytes_pred"] and h["bwd_bytes"] == h["bwd_bytes_pred"] for h in body["hops"])
    assert [h.role for h in report.hops].count("return") == 1
    assert all(c.comm_bytes_per_round == pytest.approx(c.comm_bytes_per_round_pred) for c in report.clusters)
    for m in report.members:
        assert m.fwd_flops == pytest.approx(m.fwd_flops_pred, rel=0.01)
        assert m.memory_bytes == pytest.approx(m.memory_bytes_pred, rel=0.10)
    assert all(m.delivery_bytes == m.delivery_bytes_pred and m.upload_bytes == m.upload_bytes_pred for m in report.members)
    assert report.host_flops_per_s > 0
    assert [x.samples for x in report.rounds[2].inference] == [6]
