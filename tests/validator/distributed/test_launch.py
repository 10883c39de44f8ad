"""The launcher: no rank process outlives it, however it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.validator.checkpoint import CHECKPOINT  # noqa: E402
from gaisnet_opt.validator.distributed import lifeline  # noqa: E402
from gaisnet_opt.validator.network.namespaces import leftovers  # noqa: E402
from tests.support.validator_runs import marked, marked_env, network_unavailable, root_links, wait_for  # noqa: E402

LIFELINE = """
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("lifeline", sys.argv[1])  # stdlib only: no torch to import
lifeline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lifeline)
starter = os.getpid()
pid = os.fork()
if pid == 0:
    lifeline.die_with(starter)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
time.sleep(60)
"""

RUN = """
from gaisnet_opt.plan import Plan, cluster_from_counts
from gaisnet_opt.validator.distributed.launch import launch
from tests.support.validator_runs import config
from tests.support.validator_worlds import digits_world

if __name__ == "__main__":
    plan = Plan(clusters=(cluster_from_counts("finetune", ["c0", "e0"], [2, 4]),
                          cluster_from_counts("finetune", ["c1", "c3"], [2, 4])))
    launch(digits_world(iters=4), plan, config(8).model_copy(update={{"network": {network!r}}}), out_dir={out!r},
           timeout=15.0)
"""


def test_a_process_ends_with_its_starter():
    """The lifeline: a grandchild watching its parent ends as soon as the parent is killed."""
    child = subprocess.Popen([sys.executable, "-c", LIFELINE, lifeline.__file__], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())  # type: ignore[union-attr]
    child.kill()
    child.wait()
    assert wait_for(lambda: not os.path.exists(f"/proc/{grandchild}") or
                    open(f"/proc/{grandchild}/stat").read().split()[2] == "Z", 5)


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the processes left over")
def test_killing_the_launcher_ends_every_rank_process(tmp_path):
    """SIGKILL runs no cleanup in the launcher: each rank watches it and ends with it, writing no more checkpoints;
    an emulated network's reaper removes its namespaces, their veths and whatever runs in them (on loopback where the
    host cannot emulate: the ranks' lifeline is the same)."""
    network = "loopback" if network_unavailable() else "emulate"
    marker, before = f"launcher-kill-{os.getpid()}", root_links()
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(RUN.format(out=str(tmp_path / "run"), network=network)))
    errors = tmp_path / "launcher.err"
    with errors.open("w") as err:
        launcher = subprocess.Popen([sys.executable, str(script)], env=marked_env(marker), stdout=subprocess.DEVNULL,
                                    stderr=err)
    try:
        assert wait_for(lambda: (tmp_path / "run" / CHECKPOINT).is_file() or launcher.poll() is not None, 90)
        assert (tmp_path / "run" / CHECKPOINT).is_file(), f"round 1 never ended: {errors.read_text()[-2000:]}"
        assert len(marked(marker)) >= 4  # the launcher, its fork server and the ranks
        launcher.kill()
        launcher.wait()
        assert wait_for(lambda: marked(marker) == [], 10), f"left running: {marked(marker)}"
        assert wait_for(lambda: leftovers(f"gn-v{launcher.pid}") == [], 10) and root_links() == before
    finally:
        for pid in marked(marker):
            os.kill(pid, signal.SIGKILL)
    written = (tmp_path / "run" / CHECKPOINT).stat().st_mtime_ns
    assert not wait_for(lambda: (tmp_path / "run" / CHECKPOINT).stat().st_mtime_ns != written, 2)
