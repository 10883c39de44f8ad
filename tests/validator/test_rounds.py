"""The round loop: every round's inference requests served, a cached one without delivery."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)

B = cluster_from_counts("finetune", ["c1", "c3"], [1, 5])


def test_a_cached_request_gets_no_delivery(tmp_path):
    scenario = digits_world()
    nodes = tuple(n.model_copy(update={"request": n.request.model_copy(update={"cached": True})}) if n.request else n
                  for n in scenario.nodes)
    cached = scenario.model_validate(scenario.model_dump() | {"nodes": [n.model_dump() for n in nodes]})
    plan = Plan(clusters=(B, two_cluster_plan().clusters[2]))
    report = validate(cached, plan, rounds=1, out_dir=tmp_path)
    serving = [m for m in report.members if m.kind == "inference"]
    assert serving and all(m.delivery_bytes == m.delivery_bytes_pred == 0 for m in serving)
