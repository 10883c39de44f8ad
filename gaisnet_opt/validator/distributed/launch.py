"""Spawn a distributed run's processes on this machine and return rank 0's report.

A fork server that has imported torch once starts the processes (torch, timm
and the data loader take seconds each to import); they meet at a free port
on 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import secrets
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.multiprocessing as mp

from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.checkpoint import read_checkpoint
from gaisnet_opt.validator.distributed.process import rank_main
from gaisnet_opt.validator.distributed.topology import check_topology
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.network.emulated import ClassStats, EmulatedNetwork
from gaisnet_opt.validator.network.namespaces import available
from gaisnet_opt.validator.records import LinkRow, RoundRecord, RunConfig, ValidationReport
from gaisnet_opt.validator.report_markdown import write_report
from gaisnet_opt.validator.rounds import ProgressFn
from gaisnet_opt.validator.run_setup import DEFAULT_TIMEOUT_S, prepare

PRELOAD = ["gaisnet_opt.validator.distributed.process", "sklearn.datasets"]
"""Imported once by the fork server the processes start from."""

RENDEZVOUS_PORT = 29500
"""Rank 0's port in an emulated network: each namespace has its own ports, so concurrent runs never collide."""


def free_port(addr: str = "127.0.0.1") -> int:
    """A TCP port free on `addr` now (bound to port 0 and released)."""
    with socket.socket() as s:
        s.bind((addr, 0))
        return int(s.getsockname()[1])


def launch(
    scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault] = (), *, out_dir: str | Path = "validation",
    resume: bool = False, nprocs: int | None = None, master_addr: str = "127.0.0.1", master_port: int = 0,
    timeout: float = DEFAULT_TIMEOUT_S, progress: ProgressFn | None = None, record: str | Path | None = None,
    deadline: float | None = None, threads: int | None = None,
) -> ValidationReport:
    """Spawn the plan's processes on this machine, run, and return rank 0's report.

    Inputs are checked here first (nothing is written or spawned for bad ones).
    `config.network == "emulate"`: every process in its node's namespace of an
    `EmulatedNetwork` built for this run (an InputError where it cannot be),
    removed however the run ends; the report then lists each link's bytes as
    the emulator counted them, and every wait's `timeout` grows with the time
    scale. `record`: a directory where each process writes
    every message it sent or received (kind, dtype, shape, peers) as
    rank<r>.json. `deadline`: seconds after which the processes are killed and
    a TimeoutError raised. Members still running `timeout` seconds after rank 0
    ends (a hung one) are killed.
    """
    setup = prepare(scenario, plan, config, faults)
    topo = check_topology(scenario, plan, faults, nprocs)
    if resume:
        read_checkpoint(out_dir, setup.fingerprint)
    del setup
    if config.network == "emulate" and (why := available()) is not None:
        raise InputError("validate", [("network", f"emulate: {why}")])
    if config.network == "emulate":
        timeout *= max(1.0, config.time_scale)  # a wait spans transfers, each time_scale times as long
    if record is not None:
        Path(record).mkdir(parents=True, exist_ok=True)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    records: Any = ctx.Queue()
    with contextlib.ExitStack() as stack:
        net = None
        if config.network == "emulate":
            net = stack.enter_context(EmulatedNetwork(f"v{os.getpid()}{secrets.token_hex(3)}", topo.nodes,
                                                      topo.scenario_links(scenario), config.time_scale))
        init = (f"tcp://{net.address(topo.nodes[0])}:{RENDEZVOUS_PORT}" if net is not None
                else f"tcp://{master_addr}:{master_port or free_port(master_addr)}")
        procs = mp.start_processes(
            rank_main, nprocs=topo.world, join=False, start_method="forkserver",
            args=(topo.world, init, scenario, plan, config, tuple(faults), str(out_dir), resume, timeout,
                  threads or torch.get_num_threads(), None if record is None else str(record), records, os.getpid(),
                  None if net is None else [net.namespace(n) for n in topo.nodes]),
        )
        _supervise(procs, records, config.rounds, timeout, progress, deadline)
        counted = net.stats() if net is not None else None
    if procs.processes[0].exitcode != 0:
        codes = {topo.nodes[r]: p.exitcode for r, p in enumerate(procs.processes)}
        raise RuntimeError(f"distributed validation failed: exit codes by node {codes}\n{_traceback(procs.error_files[0])}")
    report = ValidationReport.model_validate_json((Path(out_dir) / "report.json").read_text())
    if net is not None and counted is not None:
        report = report.model_copy(update={"links": link_rows(net, counted)})
        write_report(report, Path(out_dir))
    return report


def _supervise(procs: Any, records: Any, rounds: int, timeout: float, progress: ProgressFn | None,
               deadline: float | None) -> None:
    """Relay rank 0's round records to `progress` until it ends, give the others `timeout` seconds to end, then
    kill whatever still runs (also on any exception, Ctrl-C included)."""

    def relay(wait: float) -> bool:
        """Pass one round record from rank 0 to `progress`; False if none came within `wait` seconds."""
        try:
            line = records.get(timeout=wait) if wait else records.get_nowait()
        except queue.Empty:
            return False
        if progress is not None:
            progress(RoundRecord.model_validate_json(line), rounds)
        return True

    started = time.monotonic()
    rank0 = procs.processes[0]
    try:
        while rank0.is_alive():
            if deadline is not None and time.monotonic() - started > deadline:
                raise TimeoutError(f"distributed validation still running after {deadline} s")
            relay(0.2)
        for p in procs.processes[1:]:
            p.join(timeout)
        while relay(0):
            pass
    finally:
        for p in procs.processes:
            if p.is_alive():
                p.kill()
                p.join()


def link_rows(net: EmulatedNetwork, counted: dict[tuple[str, str | None], ClassStats]) -> list[LinkRow]:
    """The emulator's count of every class that carried bytes: a link of the scenario (its scaled rate), or a
    node's default class (pairs the scenario does not link: the rendezvous and control data only)."""
    return [LinkRow(src=src, dst=dst, rate_bps=net.rate(src, dst) if dst is not None else None, bytes=c.bytes,
                    packets=c.packets, drops=c.drops) for (src, dst), c in sorted(counted.items(), key=str) if c.bytes]


def _traceback(error_file: str) -> str:
    """What a spawned process raised (torch.multiprocessing writes it pickled), or '' if it wrote nothing."""
    path = Path(error_file)
    return str(pickle.loads(path.read_bytes())) if path.is_file() and path.stat().st_size else ""
