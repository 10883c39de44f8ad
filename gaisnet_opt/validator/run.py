"""`validate`: execute a plan with real HFSL training and SL inference, round by round, resumable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Partition
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.inprocess import InProcess
from gaisnet_opt.validator.model import Tune
from gaisnet_opt.validator.report import ValidationReport
from gaisnet_opt.validator.rounds import ProgressFn, run_rounds
from gaisnet_opt.validator.run_setup import DEFAULT_LR, DEFAULT_TIMEOUT_S, prepare, run_config

EngineName = Literal["inprocess", "distributed"]


def validate(
    scenario: Scenario,
    plan: Plan,
    rounds: int = 5,
    data: str | Path = "digits",
    checkpoint: str | Path | None = None,
    seed: int = 0,
    out_dir: str | Path = "validation",
    resume: bool = False,
    *,
    partition_scheme: Partition = "classes",
    alpha: float = 0.5,
    lr: float = DEFAULT_LR,
    faults: Sequence[Fault] = (),
    progress: ProgressFn | None = None,
    tune: Tune = "prompts",
    engine: EngineName = "inprocess",
    nprocs: int | None = None,
    master_addr: str = "127.0.0.1",
    master_port: int = 0,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> ValidationReport:
    """Train the plan's fine-tuning clusters for `rounds` rounds, serve its inference requests each round, and report.

    A checkpoint is written after every round; `resume=True` continues the run
    whose checkpoint is in `out_dir` and ends where an uninterrupted run ends.
    `engine="distributed"` runs every chain member and the aggregating edge
    server as its own torch.distributed process (`validator.distributed`):
    `nprocs` (default: as many as the plan needs) are spawned here, meeting at
    `master_addr:master_port` (port 0: a free one), and a member silent for
    `timeout` seconds is declared lost.

    Refused with an InputError (nothing written): a plan the checker rejects, a
    scenario profile that does not describe the model trained, unreadable data or
    checkpoint, a checkpoint of another run to resume, a process count the plan does not need.
    """
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune)
    if engine == "distributed":
        from gaisnet_opt.validator.distributed.launch import launch

        return launch(scenario, plan, config, faults, out_dir=out_dir, resume=resume, nprocs=nprocs,
                      master_addr=master_addr, master_port=master_port, timeout=timeout, progress=progress)
    setup = prepare(scenario, plan, config, faults)
    return run_rounds(setup, InProcess(), out_dir, resume, progress)
