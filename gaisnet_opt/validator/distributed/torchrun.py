"""One process of a torchrun launch (env:// rendezvous), on one machine or many; see the package docstring."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch

from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Partition
from gaisnet_opt.validator.distributed.process import rank_main
from gaisnet_opt.validator.distributed.topology import check_topology
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.model import Tune
from gaisnet_opt.validator.run_setup import DEFAULT_LR, DEFAULT_TIMEOUT_S, run_config


def under_torchrun() -> bool:
    """Whether this process was started by torchrun (or any env:// launcher): RANK and WORLD_SIZE are set."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def run_from_env(
    scenario: Scenario, plan: Plan, rounds: int = 5, data: str | Path = "digits", checkpoint: str | Path | None = None,
    seed: int = 0, out_dir: str | Path = "validation", resume: bool = False, *, partition_scheme: Partition = "classes",
    alpha: float = 0.5, lr: float = DEFAULT_LR, faults: Sequence[Fault] = (), tune: Tune = "prompts",
    timeout: float = DEFAULT_TIMEOUT_S,
) -> str:
    """Run as one process of a torchrun launch (`validate`'s options; the rendezvous from RANK, WORLD_SIZE,
    MASTER_ADDR, MASTER_PORT); returns this process's node. Rank 0 writes the report in `out_dir`."""
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    topo = check_topology(scenario, plan, faults, world)
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune)
    rank_main(rank, world, "env://", scenario, plan, config, faults, str(out_dir), resume, timeout,
              torch.get_num_threads(), None, None)
    return topo.nodes[rank]
