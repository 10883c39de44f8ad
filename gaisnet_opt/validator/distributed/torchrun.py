"""One process of a torchrun launch (env:// rendezvous), on one machine or many; see the package docstring.

torchrun ends the whole job when one of its workers fails, so the worker it
starts only supervises: the rank runs in a child process, and a member's
child that dies (its loss is the run's to report, and rank 0 reports it)
leaves a worker that ends normally. Rank 0's failure is the run's and fails
the worker. The child ends with its worker (`lifeline`), and a SIGTERM from
torchrun reaches it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch

from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.calibration import HostCalibration
from gaisnet_opt.validator.data import Partition
from gaisnet_opt.validator.distributed.process import rank_main
from gaisnet_opt.validator.distributed.topology import check_topology
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.model import Tune
from gaisnet_opt.validator.run_setup import DEFAULT_LR, DEFAULT_TIMEOUT_S, prepare, run_config


def under_torchrun() -> bool:
    """Whether this process was started by torchrun (or any env:// launcher): RANK and WORLD_SIZE are set."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def run_from_env(
    scenario: Scenario, plan: Plan, rounds: int = 5, data: str | Path = "digits", checkpoint: str | Path | None = None,
    seed: int = 0, out_dir: str | Path = "validation", resume: bool = False, *, partition_scheme: Partition = "classes",
    alpha: float = 0.5, lr: float = DEFAULT_LR, faults: Sequence[Fault] = (), tune: Tune = "prompts",
    timeout: float = DEFAULT_TIMEOUT_S, network: Literal["loopback", "emulate"] = "loopback", time_scale: float = 1.0,
    calibration: HostCalibration | str | Path | None = None,
) -> tuple[str, int]:
    """Run as one process of a torchrun launch (`validate`'s options; the rendezvous from RANK, WORLD_SIZE,
    MASTER_ADDR, MASTER_PORT); returns this process's node and its rank's exit code (0, or a lost member's).
    Rank 0 writes the report in `out_dir`. An InputError for bad inputs, or an emulated network (its namespaces are
    made by the launcher that spawns every rank, `validate`)."""
    if network == "emulate":
        raise InputError("validate", [("network", "emulate needs every rank spawned on this host by `validate`, "
                                                  "not by torchrun")])
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune, network="loopback",
                        time_scale=time_scale, calibration=calibration)
    prepare(scenario, plan, config, faults)  # bad input fails here, before any rendezvous
    topo = check_topology(scenario, plan, faults, world)
    threads = config.calibration.threads if config.calibration is not None else torch.get_num_threads()
    child = mp.get_context("fork").Process(
        target=rank_main, name=f"rank-{rank}",
        args=(rank, world, "env://", scenario, plan, config, tuple(faults), str(out_dir), resume, timeout, threads,
              None, None, os.getpid()))
    child.start()
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(child.pid or 0, signal.SIGTERM))
    try:
        child.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    code = child.exitcode or 0
    if code and rank == 0:
        raise RuntimeError(f"rank 0 ({topo.nodes[0]}), the run, failed with exit code {code}")
    return topo.nodes[rank], code
