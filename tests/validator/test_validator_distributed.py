"""The distributed engine: same result as the in-process one, only smashed data, gradients, labels, modules and results
cross, a killed or hung member is survived; launched here (forkserver) and from the CLI. Every test has a wall-clock guard."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gaisnet_opt.cli.validate import register  # noqa: E402
from gaisnet_opt.io import save  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import build_model  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
from gaisnet_opt.validator.distributed import KINDS, PATIENCE, free_port, launch  # noqa: E402
from gaisnet_opt.validator.fedavg import tunable_state  # noqa: E402
from gaisnet_opt.validator.model import build_for  # noqa: E402
from gaisnet_opt.validator.run import CHECKPOINT, run_config  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

torch.set_num_threads(1)

A = cluster_from_counts("finetune", ["c0", "e0"], [2, 4])  # c0 holds embed and block_1 (a prompt): gradients come back
B = cluster_from_counts("finetune", ["c1", "c3"], [2, 4])
SERVE = cluster_from_counts("inference", ["c4", "e0"], [3, 3])
GUARD_S = 80
TIMEOUT_S = 15.0


@pytest.fixture(autouse=True)
def wall_clock_guard():
    """No test may hang: SIGALRM raises in the test, and `launch` kills its processes on the way out."""

    def expired(signum, frame):
        raise TimeoutError(f"test still running after {GUARD_S} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(GUARD_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _unequal_world():
    """digits_world with c1 holding 24 samples to c0's 40, so FedAvg's weights matter."""
    scenario = digits_world()
    nodes = [n.model_copy(update={"data": n.data.model_copy(update={"samples": 24})}) if n.id == "c1" else n
             for n in scenario.nodes]
    return scenario.model_validate(scenario.model_dump() | {"nodes": [n.model_dump() for n in nodes]})


def _config(rounds: int):
    return run_config(rounds, "digits", None, 0, "classes", 0.5, 1e-2, "prompts")


def _state(out_dir) -> dict[str, torch.Tensor]:
    return torch.load(out_dir / CHECKPOINT, weights_only=True)["state"]


def _close(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6, rtol=0) for k in a)


@pytest.mark.slow
def test_same_parameters_and_bytes_as_in_process_and_only_allowed_messages_cross(tmp_path):
    scenario, plan = _unequal_world(), Plan(clusters=(A, B, SERVE))  # 5 processes: e0 (rank 0), c0, c1, c3, c4
    rounds, iters, batch = 2, scenario.training.local_iters, scenario.training.batch_size
    here = validate(scenario, plan, rounds=rounds, out_dir=tmp_path / "here")
    there = launch(scenario, plan, _config(rounds), out_dir=tmp_path / "there", timeout=TIMEOUT_S,
                   record=tmp_path / "wire", deadline=GUARD_S - 10)

    assert _close(_state(tmp_path / "there"), _state(tmp_path / "here"))
    assert not _close(_state(tmp_path / "here"), tunable_state(build_for(scenario.profile, None, 0)))  # training moved them
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
    tunable = {tuple(p.shape) for p in build_model(DIGITS_VIT).parameters() if p.requires_grad}
    sent, received = Counter(), Counter()
    for node, messages in logs.items():
        for m in messages:
            assert m["kind"] in KINDS
            assert m["shape"][1:] != [1, 8, 8]  # no image ever crosses
            if m["kind"] == "parameters":
                assert tuple(m["shape"]) in tunable and m["op"] in ("reduce", "broadcast")
            if m["kind"] == "labels":
                assert node in ("c0", "c1") or m["op"] == "recv"  # only start points send labels
                assert m["shape"] == [batch] and m["dtype"] == "int64"
            if m["op"] in ("send", "recv"):
                peer = nodes[m["peers"][0]]
                key = (node, peer) if m["op"] == "send" else (peer, node)
                (sent if m["op"] == "send" else received)[(*key, m["kind"], tuple(m["shape"]))] += 1
    assert sent == received  # every message was received, as sent, by the process it was sent to
    for start in ("c0", "c1"):  # a data source sends only its smashed data, labels and results
        assert {m["kind"] for m in logs[start] if m["op"] == "send"} == {"smashed", "labels", "result"}
    # what crossed each hop is what the meters say, smashed data forward and gradients back
    steps = rounds * iters
    hop = {(h.src, h.dst, h.role): h for h in here.hops}
    for start, end in (("c0", "e0"), ("c1", "c3")):
        smashed = [m for m in logs[start] if m["op"] == "send" and m["kind"] == "smashed"]
        grads = [m for m in logs[end] if m["op"] == "send" and m["kind"] == "gradient"]
        assert len(smashed) == len(grads) == steps
        assert sum(4 * math.prod(m["shape"]) for m in smashed) == steps * hop[(start, end, "chain")].fwd_bytes > 0
        assert sum(4 * math.prod(m["shape"]) for m in grads) == steps * hop[(start, end, "chain")].bwd_bytes > 0
    logits = [m for m in logs["e0"] if m["op"] == "send" and m["kind"] == "result" and nodes[m["peers"][0]] == "c4"
              and len(m["shape"]) == 2]  # the other results to c4 are rank 0's 1-d decisions
    assert sum(4 * math.prod(m["shape"]) for m in logits) == rounds * hop[("e0", "c4", "return")].fwd_bytes > 0


def test_a_killed_member_is_survived_and_reported(tmp_path):
    scenario = digits_world()
    fault = Fault(round=1, node="c3", iteration=1)  # c3's process exits (os._exit) mid-round 1
    seen: list[int] = []
    report = launch(scenario, Plan(clusters=(A, B)), _config(2), [fault], out_dir=tmp_path / "killed",
                    timeout=TIMEOUT_S, deadline=GUARD_S - 10, progress=lambda record, total: seen.append(record.round))
    assert seen == [1, 2]  # rank 0's progress reached this process
    assert report.rounds[1].failures == ["cluster 1: member c3 failed at iteration 1"]  # as the in-process engine says
    assert report.rounds[2].failures == ["cluster 1: member c3 is gone (lost in round 1)"]
    assert report.rounds[2].train_loss is not None  # training went on
    assert report.rounds[1].seconds < TIMEOUT_S  # noticed as its connection closed, well within the timeout
    # with B left out from round 1 on, the run is exactly A's alone
    validate(scenario, Plan(clusters=(A,)), rounds=2, out_dir=tmp_path / "alone")
    assert _close(_state(tmp_path / "killed"), _state(tmp_path / "alone"))


def _spawned() -> list[int]:
    """Live processes this test process started through another (launch's fork server): none may outlast a run."""
    def parent(pid: str) -> int:
        stat = Path("/proc", pid, "stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[1])

    pids = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                pids[int(entry.name)] = parent(entry.name)
            except (OSError, ValueError):
                pass  # gone meanwhile
    return sorted(pid for pid, ppid in pids.items() if pids.get(ppid) == os.getpid())


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc to see the processes left over")
def test_a_hung_member_is_survived_and_reported(tmp_path):
    scenario, timeout = digits_world(), 3.0  # short: a hang is noticed only by the timeout
    fault = Fault(round=1, node="c3", iteration=1, kind="hang")  # c3's process stays alive but silent from mid-round 1
    report = launch(scenario, Plan(clusters=(A, B)), _config(2), [fault], out_dir=tmp_path / "hung",
                    timeout=timeout, deadline=GUARD_S - 10)
    assert report.rounds[1].failures == ["cluster 1: member c3 failed at iteration 1"]  # as a killed member is reported
    assert report.rounds[2].failures == ["cluster 1: member c3 is gone (lost in round 1)"]
    assert report.rounds[2].train_loss is not None  # training went on
    # not seen as a closed connection but waited out: a timeout at c1, PATIENCE more at rank 0
    assert timeout <= report.rounds[1].seconds < (PATIENCE + 2) * timeout
    assert _spawned() == []  # the hung process did not outlive the run
    validate(scenario, Plan(clusters=(A,)), rounds=2, out_dir=tmp_path / "alone")  # A's FedAvg went on, B left out
    assert _close(_state(tmp_path / "hung"), _state(tmp_path / "alone"))


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """A second command, so typer keeps sub-command names."""

    return app


def test_cli_distributed_engine(tmp_path):
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    save(digits_world(), scenario)
    save(Plan(clusters=(B,)), plan)  # 3 processes: e0 aggregates, c1 and c3 train
    runner = CliRunner()
    r = runner.invoke(_app(), ["validate", str(scenario), str(plan), "--engine", "distributed", "--nprocs", "4",
                               "--out", str(tmp_path / "never")])
    assert r.exit_code == 2 and "the plan needs 3 processes (e0, c1, c3)" in r.output and not (tmp_path / "never").exists()
    out = tmp_path / "run"
    r = runner.invoke(_app(), ["validate", str(scenario), str(plan), "--rounds", "1", "--engine", "distributed",
                               "--nprocs", "3", "--timeout", str(TIMEOUT_S), "--out", str(out)])
    assert r.exit_code == 0, r.output
    body = json.loads((out / "report.json").read_text())
    assert [h["fwd_bytes"] == h["fwd_bytes_pred"] > 0 for h in body["hops"]] == [True]
    assert body["rounds"][1]["train_loss"] is not None and body["rounds"][1]["failures"] == []


@pytest.mark.slow
def test_torchrun_launch_env_rendezvous(tmp_path):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "torchrun").is_file() or not (bin_dir / "gaisnet-opt").is_file():
        pytest.skip("torchrun or the gaisnet-opt script is not installed next to this interpreter")
    save(digits_world(), tmp_path / "s.json")
    save(Plan(clusters=(B,)), tmp_path / "p.json")
    cmd = [str(bin_dir / "torchrun"), "--nnodes", "1", "--nproc-per-node", "3", "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), "--no-python", str(bin_dir / "gaisnet-opt"), "validate", "s.json", "p.json",
           "--rounds", "1", "--engine", "distributed", "--timeout", str(TIMEOUT_S), "--out", "run"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=GUARD_S - 15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its workers
            proc.wait()
    assert proc.returncode == 0, output
    assert "rank 0 (e0) finished" in output and "rank 2 (c3) finished" in output
    validate(digits_world(), Plan(clusters=(B,)), rounds=1, out_dir=tmp_path / "here")
    assert _close(_state(tmp_path / "run"), _state(tmp_path / "here"))
