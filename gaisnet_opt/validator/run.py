"""`validate`: execute a plan with real HFSL training and SL inference, round by round, resumable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import torch

from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.calibration import HostCalibration
from gaisnet_opt.validator.data import Partition
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.inprocess import InProcess
from gaisnet_opt.validator.model import Tune
from gaisnet_opt.validator.records import ValidationReport
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
    network: Literal["loopback", "emulate"] = "loopback",
    time_scale: float = 1.0,
    calibration: HostCalibration | str | Path | None = None,
) -> ValidationReport:
    """Train the plan's fine-tuning clusters for `rounds` rounds, serve its inference requests each round, and report.

    A checkpoint is written after every round; `resume=True` continues the run
    whose checkpoint is in `out_dir` and ends where an uninterrupted run ends.
    `engine="distributed"` runs every chain member and the aggregating edge
    server as its own torch.distributed process (`validator.distributed`):
    `nprocs` (default: as many as the plan needs) are spawned here, meeting at
    `master_addr:master_port` (port 0: a free one), and a member silent for
    `timeout` seconds is declared lost. Their messages cross this host's
    loopback, or, `network="emulate"`, links shaped to the scenario's rates
    divided by `time_scale`, each node in a network namespace of its own
    (`validator.network`; needs root and iproute2).

    `calibration` (a `HostCalibration` or its file, from `gaisnet-opt
    calibrate`) gives the host speed the predicted seconds are priced at, and
    the run computes with its thread count; without one, the report fits the
    run's own passes and says so.

    Refused with an InputError (nothing written): a plan the checker rejects, a
    scenario profile that does not describe the model trained, unreadable data or
    checkpoint, a checkpoint of another run to resume, a process count the plan does not need,
    a calibration of another model or batch size, an emulated network where it cannot be built.
    """
    if engine == "inprocess" and network == "emulate":
        raise InputError("validate", [("network", "emulate needs engine 'distributed': in one process nothing crosses a link")])
    config = run_config(rounds, data, checkpoint, seed, partition_scheme, alpha, lr, tune,
                        network="inprocess" if engine == "inprocess" else network, time_scale=time_scale,
                        calibration=calibration)
    threads = config.calibration.threads if config.calibration is not None else torch.get_num_threads()
    if engine == "distributed":
        from gaisnet_opt.validator.distributed.launch import launch

        return launch(scenario, plan, config, faults, out_dir=out_dir, resume=resume, nprocs=nprocs,
                      master_addr=master_addr, master_port=master_port, timeout=timeout, progress=progress,
                      threads=threads)
    setup = prepare(scenario, plan, config, faults)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return run_rounds(setup, InProcess(), out_dir, resume, progress)
    finally:
        torch.set_num_threads(previous)
