"""The training checkpoint written after every round, and the fingerprint that ties it to its run.

A checkpoint holds the aggregated tunable modules, the records so far, every
chain's meters and torch's RNG state. Batches are a stateless function of
(seed, client, step), so resuming from it ends exactly where an uninterrupted
run ends. The fingerprint covers everything that shapes the result except the
number of rounds (the backbone by its content, not its path); resuming with
different inputs is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from gaisnet_opt.errors import InputError
from gaisnet_opt.io import atomic_write
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.records import UNFINGERPRINTED, RunConfig

CHECKPOINT = "checkpoint.pt"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's content."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def fingerprint(scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault]) -> str:
    """A digest of the run's inputs, the number of rounds and the testbed's settings aside; the backbone checkpoint
    counts by its content (a file rewritten in place is another backbone)."""
    backbone = None if config.checkpoint is None else file_digest(config.checkpoint)
    body = json.dumps([scenario.model_dump(mode="json"), plan.model_dump(mode="json"),
                       config.model_dump(mode="json", exclude=UNFINGERPRINTED), [asdict(f) for f in faults], backbone],
                      sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def save_checkpoint(out_dir: Path, payload: dict[str, object]) -> None:
    """Write `payload` (its `fingerprint` included) as the checkpoint in `out_dir`, atomically."""
    atomic_write(out_dir / CHECKPOINT, lambda tmp: torch.save(payload, tmp))


def read_checkpoint(out_dir: str | Path, fingerprint: str) -> dict[str, object] | None:
    """The checkpoint in `out_dir` if there is one (None otherwise); an InputError if unreadable or of another run."""
    ckpt = Path(out_dir) / CHECKPOINT
    if not ckpt.is_file():
        return None
    try:
        saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unreadable file is bad input, whatever the loader raised
        raise InputError(str(ckpt), [("checkpoint", f"cannot read: {exc}")]) from None
    if saved.get("fingerprint") != fingerprint:
        raise InputError(str(ckpt), [("fingerprint", "the checkpoint is of another run (scenario, plan, data, checkpoint, seed or options differ)")])
    return saved
