"""A torchrun launch (env:// rendezvous) runs the same processes and ends as the in-process engine."""

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
from gaisnet_opt.validator.distributed.launch import free_port  # noqa: E402
from tests.support.validator_runs import same_state, state_of  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

B = cluster_from_counts("finetune", ["c1", "c3"], [2, 4])
GUARD_S = 80
TIMEOUT_S = 15.0


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
    assert same_state(state_of(tmp_path / "run"), state_of(tmp_path / "here"), 1e-6)
