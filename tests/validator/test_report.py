"""The report: measured beside predicted per member, hop and cluster, per each member's own passes."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
from gaisnet_opt.validator.checkpoint import CHECKPOINT  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)


def test_report_sets_measured_beside_predicted(tmp_path):
    report = validate(digits_world(), two_cluster_plan(), rounds=2, out_dir=tmp_path)
    for name in ("report.json", "report.md", CHECKPOINT):
        assert (tmp_path / name).stat().st_size > 0
    body = json.loads((tmp_path / "report.json").read_text())
    assert [r["round"] for r in body["rounds"]] == [0, 1, 2]
    assert all(h["fwd_bytes"] == h["fwd_bytes_pred"] and h["bwd_bytes"] == h["bwd_bytes_pred"]
               and h["label_bytes"] == h["label_bytes_pred"] for h in body["hops"])
    assert [h.label_bytes > 0 for h in report.hops] == [h.role == "chain" and h.cluster < 2 for h in report.hops]
    assert [h.role for h in report.hops].count("return") == 1
    assert all(c.comm_bytes_per_round == pytest.approx(c.comm_bytes_per_round_pred) for c in report.clusters)
    for m in report.members:
        assert m.fwd_flops == pytest.approx(m.fwd_flops_pred, rel=0.01)
        assert m.memory_bytes == pytest.approx(m.memory_bytes_pred, rel=0.10)
    assert all(m.delivery_bytes == m.delivery_bytes_pred and m.upload_bytes == m.upload_bytes_pred for m in report.members)
    assert report.calibration.fit.flops_per_s > 0
    assert [x.samples for x in report.rounds[2].inference] == [6]
    assert report.round_latency_s is None and all(c.latency_s is None for c in report.clusters)  # no link in process


def test_a_failed_cluster_keeps_exact_per_pass_figures_and_is_flagged(tmp_path):
    """Each member's figures per its own passes: c3 failed before its compute of iteration 1, so c1 ran two forward
    passes and one backward, c3 one of each; dividing by the start point's passes gave -50 % / -29 % errors."""
    plan = Plan(clusters=(cluster_from_counts("finetune", ["c1", "c3"], [2, 4]),))
    report = validate(digits_world(iters=3), plan, rounds=1, out_dir=tmp_path, faults=[Fault(round=1, node="c3", iteration=1)])
    assert report.clusters[0].failed_rounds == 1
    for m in report.members:
        assert m.fwd_flops == pytest.approx(m.fwd_flops_pred, rel=0.01), m.node
        assert m.bwd_flops == pytest.approx(m.bwd_flops_pred, rel=0.01), m.node
    assert "| 1 |" in (tmp_path / "report.md").read_text()  # the cluster's failed rounds, flagged
