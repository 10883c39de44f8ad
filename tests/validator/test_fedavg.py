"""FedAvg: sample weights, and which clusters are averaged (one decision for both engines)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.validator.fedavg import ClusterView, decide, fedavg  # noqa: E402


def test_fedavg_weights_by_samples():
    one, three = {"p": torch.ones(2)}, {"p": torch.full((2,), 3.0)}
    assert torch.equal(fedavg([(one, 30.0), (three, 10.0)])["p"], torch.full((2,), 1.5))


def test_decide_weights_finished_clusters_by_samples_and_names_the_culprit():
    views = {
        0: [ClusterView(loss=1.0), ClusterView(samples=30.0)],  # end point and start point in two processes
        1: [ClusterView(failure=("c3", 4)), ClusterView(failure=("c2", 2)), ClusterView(failure=("c3", None))],
        2: [ClusterView(loss=4.0, samples=10.0)],
    }
    decision = decide(views, {3: "member c9 is gone (lost in round 1)"})
    assert decision.weights == {0: 30.0, 1: 0.0, 2: 10.0, 3: 0.0}
    assert decision.train_loss == (1.0 * 30 + 4.0 * 10) / 40
    # a lost process (iteration unknown) is the culprit before the members that saw it go, at the earliest they saw
    assert decision.failures == ("cluster 1: member c3 failed at iteration 4", "cluster 3: member c9 is gone (lost in round 1)")
    lost = decide({0: [ClusterView(failure=("c1", None))]}, {})
    assert lost.failures == ("cluster 0: member c1 failed (its process is gone)",) and lost.train_loss is None
