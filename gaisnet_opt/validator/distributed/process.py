"""One process of a distributed run, spawned by `launch` or started by torchrun: join, build, run, leave."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.distributed.engine import Distributed
from gaisnet_opt.validator.distributed.lifeline import die_with
from gaisnet_opt.validator.distributed.process_link import ProcessLink, unit_shapes
from gaisnet_opt.validator.distributed.topology import Topology
from gaisnet_opt.validator.distributed.wire import Wire
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.network.namespaces import IFNAME, setns
from gaisnet_opt.validator.records import RunConfig
from gaisnet_opt.validator.rounds import run_rounds
from gaisnet_opt.validator.run_setup import prepare


def rank_main(rank: int, world: int, init_method: str, scenario: Scenario, plan: Plan, config: RunConfig,
              faults: Sequence[Fault], out_dir: str, resume: bool, timeout: float, threads: int,
              record: str | None, progress: Any, starter: int, namespaces: Sequence[str] | None = None) -> None:
    """Run as `rank` of `world` (`record`: a directory for this process's message log; `progress`: a queue for
    rank 0's round records as JSON), and end with the process `starter`. With `namespaces` (one per rank), first
    enter this rank's: every socket it and its threads open is then in its node's emulated network."""
    if namespaces is not None:
        setns(namespaces[rank])
        os.environ["GLOO_SOCKET_IFNAME"] = IFNAME
    die_with(starter)
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world, timeout=timedelta(seconds=timeout))
    try:
        topo = Topology.of(scenario, plan)
        wire = Wire(rank, topo.nodes, timeout, record is not None)
        wire.connect(topo.links)
        node = topo.nodes[rank]
        setup = prepare(scenario, plan, config, faults,
                        link_for=lambda i: ProcessLink(wire, topo.clusters[i], tuple(m.last for m in plan.clusters[i].members)),
                        holds=lambda start: start == node)
        wire.shapes = unit_shapes(setup)
        engine = Distributed(wire, topo, setup)
        if rank == 0:
            run_rounds(setup, engine, out_dir, resume, None if progress is None else lambda rec, total: progress.put(rec.model_dump_json()))
        else:
            engine.follow()
        if record is not None:
            Path(record, f"rank{rank}.json").write_text(json.dumps({"node": node, "messages": wire.log}))
    finally:
        dist.destroy_process_group()
