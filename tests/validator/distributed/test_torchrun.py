"""A torchrun launch (env:// rendezvous) runs the same processes, ends as the in-process engine, and survives a
member's process dying (torchrun would end the whole job if a worker it watches failed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.io import save  # noqa: E402
from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.validator import validate  # noqa: E402
from gaisnet_opt.validator.checkpoint import CHECKPOINT  # noqa: E402
from gaisnet_opt.validator.distributed.launch import free_port  # noqa: E402
from gaisnet_opt.validator.records import ValidationReport  # noqa: E402
from tests.support.validator_runs import marked, marked_env, same_state, state_of, wait_for  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

A = cluster_from_counts("finetune", ["c0", "e0"], [2, 4])
B = cluster_from_counts("finetune", ["c1", "c3"], [2, 4])
GUARD_S = 80
TIMEOUT_S = 15.0
BIN = Path(sys.executable).parent


def _torchrun(tmp_path: Path, plan: Plan, nprocs: int, rounds: int, marker: str) -> subprocess.Popen[str]:
    if not (BIN / "torchrun").is_file() or not (BIN / "gaisnet-opt").is_file():
        pytest.skip("torchrun or the gaisnet-opt script is not installed next to this interpreter")
    save(digits_world(), tmp_path / "s.json")
    save(plan, tmp_path / "p.json")
    cmd = [str(BIN / "torchrun"), "--nnodes", "1", "--nproc-per-node", str(nprocs), "--master-addr", "127.0.0.1",
           "--master-port", str(free_port()), "--no-python", str(BIN / "gaisnet-opt"), "validate", "s.json", "p.json",
           "--rounds", str(rounds), "--engine", "distributed", "--timeout", str(TIMEOUT_S), "--out", "run"]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=marked_env(marker))


def _finish(proc: subprocess.Popen[str]) -> str:
    try:
        output, _ = proc.communicate(timeout=GUARD_S - 15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # torchrun and its workers
            proc.wait()
    return output


@pytest.mark.slow
def test_torchrun_launch_env_rendezvous(tmp_path):
    output = _finish(_torchrun(tmp_path, Plan(clusters=(B,)), 3, 1, f"torchrun-{os.getpid()}"))
    assert "rank 0 (e0) finished" in output and "rank 2 (c3) finished" in output, output
    validate(digits_world(), Plan(clusters=(B,)), rounds=1, out_dir=tmp_path / "here")
    assert same_state(state_of(tmp_path / "run"), state_of(tmp_path / "here"), 1e-6)  # torchrun sets its own threads


def _rank_process(marker: str, rank: int) -> int | None:
    """The deepest process of `rank` (the member's own process, below any worker that supervises it)."""
    mine = [pid for pid in marked(marker) if f"RANK={rank}\0".encode() in Path(f"/proc/{pid}/environ").read_bytes()
            and b"LOCAL_RANK" in Path(f"/proc/{pid}/environ").read_bytes()]
    parents = {int(Path(f"/proc/{pid}/stat").read_text().split()[3]) for pid in mine}
    leaves = [pid for pid in mine if pid not in parents]
    return leaves[0] if len(leaves) == 1 else None


@pytest.mark.slow
def test_torchrun_survives_a_member_process_killed(tmp_path):
    """c3's process is killed (SIGKILL) in round 2: the job goes on without it and rank 0 reports it."""
    marker = f"torchrun-kill-{os.getpid()}"
    proc = _torchrun(tmp_path, Plan(clusters=(A, B)), 4, 3, marker)  # ranks: e0, c0, c1, c3
    try:
        assert wait_for(lambda: (tmp_path / "run" / CHECKPOINT).is_file(), GUARD_S / 2), "round 1 never ended"
        victim = _rank_process(marker, 3)
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
    finally:
        output = _finish(proc)
    assert proc.returncode == 0, output
    assert "rank 3 (c3) was lost" in output and "rank 0 (e0) finished" in output, output
    report = ValidationReport.model_validate_json((tmp_path / "run" / "report.json").read_text())
    failures = [r.failures for r in report.rounds]
    assert failures[1] == [] and failures[2][0].startswith("cluster 1: member c3 failed"), failures
    assert failures[3] == ["cluster 1: member c3 is gone (lost in round 2)"]
