"""The distributed engine: same result as the in-process one, only smashed data, gradients, labels, modules and control
data cross, a killed or hung member is survived. Every test has a wall-clock guard."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.cost import LABEL_BYTES  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
from gaisnet_opt.validator.distributed.engine import PATIENCE  # noqa: E402
from gaisnet_opt.validator.distributed.launch import launch  # noqa: E402
from gaisnet_opt.validator.distributed.wire import KINDS  # noqa: E402
from gaisnet_opt.validator.fedavg import tunable_state  # noqa: E402
from gaisnet_opt.validator.model import build_for  # noqa: E402
from tests.support.validator_runs import config, same_state, spawned, state_of, wall_clock_guard  # noqa: E402
from tests.support.validator_worlds import digits_world, unequal_world  # noqa: E402

torch.set_num_threads(1)

A = cluster_from_counts("finetune", ["c0", "e0"], [2, 4])  # c0 holds embed and block_1 (a prompt): gradients come back
B = cluster_from_counts("finetune", ["c1", "c3"], [2, 4])
SERVE = cluster_from_counts("inference", ["c4", "e0"], [3, 3])
GUARD_S = 80
TIMEOUT_S = 15.0


@pytest.fixture(autouse=True)
def guard():
    with wall_clock_guard(GUARD_S):
        yield


@pytest.mark.slow
def test_same_parameters_and_bytes_as_in_process_and_only_allowed_messages_cross(tmp_path):
    scenario, plan = unequal_world(), Plan(clusters=(A, B, SERVE))  # 5 processes: e0 (rank 0), c0, c1, c3, c4
    rounds, iters, batch = 2, scenario.training.local_iters, scenario.training.batch_size
    here = validate(scenario, plan, rounds=rounds, out_dir=tmp_path / "here")
    there = launch(scenario, plan, config(rounds), out_dir=tmp_path / "there", timeout=TIMEOUT_S,
                   record=tmp_path / "wire", deadline=GUARD_S - 10)

    assert same_state(state_of(tmp_path / "there"), state_of(tmp_path / "here"))  # the same arithmetic, bit for bit
    assert not same_state(state_of(tmp_path / "here"), tunable_state(build_for(scenario.profile, None, 0)), 1e-6)  # training moved them
    assert [(h.src, h.dst, h.role, h.fwd_bytes, h.bwd_bytes) for h in there.hops] == \
           [(h.src, h.dst, h.role, h.fwd_bytes, h.bwd_bytes) for h in here.hops]
    for m, n in zip(there.members, here.members):
        assert (m.node, m.fwd_flops, m.bwd_flops, m.delivery_bytes, m.upload_bytes, m.memory_bytes) == \
               (n.node, n.fwd_flops, n.bwd_flops, n.delivery_bytes, n.upload_bytes, n.memory_bytes)
    assert [r.train_loss for r in there.rounds[1:]] == pytest.approx([r.train_loss for r in here.rounds[1:]], abs=1e-6)
    assert [(r.test_accuracy, [x.accuracy for x in r.inference], r.failures) for r in there.rounds] == \
           [(r.test_accuracy, [x.accuracy for x in r.inference], []) for r in here.rounds]

    files = [json.loads((tmp_path / "wire" / f"rank{r}.json").read_text()) for r in range(5)]
    nodes = [f["node"] for f in files]
    logs = {f["node"]: f["messages"] for f in files}
    assert nodes == ["e0", "c0", "c1", "c3", "c4"]
    sent, received = Counter(), Counter()
    for node, messages in logs.items():
        for m in messages:
            assert m["kind"] in KINDS
            assert m["shape"][1:] != [1, 8, 8]  # no image ever crosses
            if m["kind"] in ("delivery", "upload"):  # one flat message of a client's tunable modules, to or from e0
                assert m["dtype"] == "float32" and len(m["shape"]) == 1 and "e0" in (node, nodes[m["peers"][0]])
            if m["op"] in ("send", "recv"):
                peer = nodes[m["peers"][0]]
                key = (node, peer) if m["op"] == "send" else (peer, node)
                (sent if m["op"] == "send" else received)[(*key, m["kind"], tuple(m["shape"]))] += 1
    assert sent == received  # every message was received, as sent, by the process it was sent to
    for start in ("c0", "c1"):  # a data source sends only its smashed data (with the labels), its modules, control data
        assert {m["kind"] for m in logs[start] if m["op"] == "send"} == {"smashed", "upload", "control"}
    # deliveries and uploads are metered as the bytes sent: float32 modules, not float64 sums
    member = {(m.cluster, m.node): m for m in here.members}
    for cluster, node in ((0, "c0"), (1, "c1"), (1, "c3"), (2, "c4")):
        delivered = [m for m in logs["e0"] if m["op"] == "send" and m["kind"] == "delivery" and nodes[m["peers"][0]] == node]
        uploaded = [m for m in logs[node] if m["op"] == "send" and m["kind"] == "upload"]
        assert sum(4 * math.prod(m["shape"]) for m in delivered) == rounds * member[(cluster, node)].delivery_bytes > 0
        assert sum(4 * math.prod(m["shape"]) for m in uploaded) == rounds * member[(cluster, node)].upload_bytes
    assert member[(1, "c3")].upload_bytes == member[(1, "c3")].upload_bytes_pred > 0
    # what crossed each hop is what the meters say: smashed data with the batch's labels in one message forward
    # (bytes: the float32 values', then the int64 labels'), gradients back
    steps = rounds * iters
    hop = {(h.src, h.dst, h.role): h for h in here.hops}
    for start, end in (("c0", "e0"), ("c1", "c3")):
        smashed = [m for m in logs[start] if m["op"] == "send" and m["kind"] == "smashed"]
        grads = [m for m in logs[end] if m["op"] == "send" and m["kind"] == "gradient"]
        assert len(smashed) == len(grads) == steps and all(m["dtype"] == "uint8" for m in smashed)
        chain = hop[(start, end, "chain")]
        assert chain.label_bytes == batch * LABEL_BYTES
        assert sum(math.prod(m["shape"]) for m in smashed) == steps * (chain.fwd_bytes + chain.label_bytes)
        assert sum(4 * math.prod(m["shape"]) for m in grads) == steps * chain.bwd_bytes > 0
    logits = [m for m in logs["e0"] if m["op"] == "send" and m["kind"] == "result" and nodes[m["peers"][0]] == "c4"]
    assert sum(4 * math.prod(m["shape"]) for m in logits) == rounds * hop[("e0", "c4", "return")].fwd_bytes > 0


def test_a_killed_member_is_survived_and_reported_as_in_process(tmp_path):
    scenario = digits_world()
    fault = Fault(round=1, node="c3", iteration=1)  # c3's process exits (os._exit) mid-round 1
    seen: list[int] = []
    report = launch(scenario, Plan(clusters=(A, B)), config(2), [fault], out_dir=tmp_path / "killed",
                    timeout=TIMEOUT_S, deadline=GUARD_S - 10, progress=lambda record, total: seen.append(record.round))
    assert seen == [1, 2]  # rank 0's progress reached this process
    assert report.rounds[1].failures == ["cluster 1: member c3 failed at iteration 1"]
    assert report.rounds[2].failures == ["cluster 1: member c3 is gone (lost in round 1)"]
    assert report.rounds[2].train_loss is not None  # training went on
    assert report.rounds[1].seconds < TIMEOUT_S  # noticed as its connection closed, well within the timeout
    # one rule for both engines: the same fault in process gives the same rounds and the same parameters
    here = validate(scenario, Plan(clusters=(A, B)), rounds=2, out_dir=tmp_path / "here", faults=[fault])
    assert [r.failures for r in here.rounds] == [r.failures for r in report.rounds]
    assert same_state(state_of(tmp_path / "killed"), state_of(tmp_path / "here"))
    validate(scenario, Plan(clusters=(A,)), rounds=2, out_dir=tmp_path / "alone")  # B is left out from round 1 on
    assert same_state(state_of(tmp_path / "killed"), state_of(tmp_path / "alone"))


def test_resume_after_a_lost_member_ends_where_an_uninterrupted_run_ends(tmp_path):
    """The checkpoint records who was lost: c3's fresh process in the resumed run stays out."""
    scenario, plan, fault = digits_world(), Plan(clusters=(A, B)), [Fault(round=1, node="c3", iteration=1)]
    launch(scenario, plan, config(2), fault, out_dir=tmp_path / "straight", timeout=TIMEOUT_S, deadline=GUARD_S - 10)
    launch(scenario, plan, config(1), fault, out_dir=tmp_path / "stopped", timeout=TIMEOUT_S, deadline=GUARD_S - 10)
    resumed = launch(scenario, plan, config(2), fault, out_dir=tmp_path / "stopped", resume=True, timeout=TIMEOUT_S,
                     deadline=GUARD_S - 10)
    assert resumed.rounds[2].failures == ["cluster 1: member c3 is gone (lost in round 1)"]
    assert same_state(state_of(tmp_path / "stopped"), state_of(tmp_path / "straight"))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc to see the processes left over")
@pytest.mark.parametrize("order", ["hung first", "hung last"])
def test_a_hung_member_costs_only_its_own_cluster(tmp_path, order):
    """c3 hangs in round 1: only its cluster fails, it alone is blamed, whatever the order of the clusters, and the
    other cluster's FedAvg goes on; a hang is seen only by the timeout, at c1 and then at rank 0."""
    scenario, timeout = digits_world(), 2.0
    plan = Plan(clusters=(B, A) if order == "hung first" else (A, B))
    hung = plan.clusters.index(B)
    fault = Fault(round=1, node="c3", iteration=1, kind="hang")  # c3's process stays alive but silent from mid-round 1
    report = launch(scenario, plan, config(2), [fault], out_dir=tmp_path / "hung", timeout=timeout, deadline=GUARD_S - 10)
    assert report.rounds[1].failures == [f"cluster {hung}: member c3 failed at iteration 1"]
    assert report.rounds[2].failures == [f"cluster {hung}: member c3 is gone (lost in round 1)"]
    assert report.rounds[2].train_loss is not None  # training went on
    assert timeout <= report.rounds[1].seconds < (PATIENCE + 2) * timeout
    assert spawned() == []  # the hung process did not outlive the run
    validate(scenario, Plan(clusters=(A,)), rounds=2, out_dir=tmp_path / "alone")
    assert same_state(state_of(tmp_path / "hung"), state_of(tmp_path / "alone"))
