"""The validator (docs/model.md §8): execute a plan with real HFSL training and SL inference, measure it against the cost model.

Needs torch (the `torch` extra); the core toolkit does not import this package.

Two engines run the same per-member code: `inprocess` (the default: every
member in this process) and `distributed` (`validator.distributed`: a gloo
process per chain member and one for the aggregating edge server, rank 0).
`validate(..., engine="distributed")` or `gaisnet-opt validate --engine
distributed [--nprocs N]` spawns them on this machine, over loopback or, with
`--network emulate [--time-scale S]` (root, iproute2), each in a network
namespace of its own, every link shaped to the scenario's rate divided by S
(`validator.network`); `gaisnet-opt calibrate -o host.json` measures this
host beforehand, and `--calibration host.json` predicts the run's seconds
with it. Across machines, run
the same command under torchrun on every host; each process then finds its
rank and the rendezvous in the env:// variables torchrun sets (RANK,
WORLD_SIZE, MASTER_ADDR, MASTER_PORT), e.g. on each of two hosts

    torchrun --nnodes 2 --node-rank <0|1> --nproc-per-node 2 --master-addr <host of rank 0> \
        --master-port 29500 --no-python gaisnet-opt validate s.json p.json --engine distributed

with WORLD_SIZE equal to the processes the plan needs (the edge server, then
each chain node in plan order) and the same input files on every host; rank
0 writes the report.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gaisnet_opt.validator.faults import Fault
    from gaisnet_opt.validator.records import ValidationReport
    from gaisnet_opt.validator.run import validate

__all__ = ["Fault", "ValidationReport", "validate"]

_FACADE = {"Fault": "gaisnet_opt.validator.faults", "ValidationReport": "gaisnet_opt.validator.records",
           "validate": "gaisnet_opt.validator.run"}


def __getattr__(name: str) -> object:
    """The facade loads torch on first use, so a part that needs none (`validator.network`) imports cheaply."""
    if name in _FACADE:
        import importlib

        return getattr(importlib.import_module(_FACADE[name]), name)
    raise AttributeError(f"module 'gaisnet_opt.validator' has no attribute {name!r}")
