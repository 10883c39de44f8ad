"""Helpers for tests that run the validator: the trained state a run left, comparing states, a wall-clock guard,
the processes a run left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

from gaisnet_opt.validator.checkpoint import CHECKPOINT
from gaisnet_opt.validator.records import RunConfig
from gaisnet_opt.validator.run_setup import run_config


def config(rounds: int) -> RunConfig:
    """`validate`'s defaults for `rounds` rounds, for the engines' own entry points."""
    return run_config(rounds, "digits", None, 0, "classes", 0.5, 1e-2, "prompts")


def state_of(out_dir: Path) -> dict[str, torch.Tensor]:
    """The aggregated tunable modules in a run's checkpoint."""
    return torch.load(out_dir / CHECKPOINT, weights_only=True)["state"]


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 0.0) -> bool:
    """Same names, every tensor within `atol`."""
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)


@contextmanager
def wall_clock_guard(seconds: int) -> Iterator[None]:
    """No test may hang: SIGALRM raises in the test (and a launcher kills its processes on the way out)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"test still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def spawned() -> list[int]:
    """Live processes this test process started through another (a launcher's fork server): none may outlast a run."""

    def parent(pid: str) -> int:
        stat = Path("/proc", pid, "stat").read_text()
        return int(stat[stat.rindex(")") + 2 :].split()[1])

    pids = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                pids[int(entry.name)] = parent(entry.name)
            except (OSError, ValueError):
                pass  # gone meanwhile
    return sorted(pid for pid, ppid in pids.items() if pids.get(ppid) == os.getpid())


REPO = Path(__file__).resolve().parents[2]


def marked_env(marker: str) -> dict[str, str]:
    """The environment of a child Python that imports `tests.support` (the repository root on its path, as pytest
    puts it on the test's own) and carries `marker` for `marked`."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return os.environ | {"GAISNET_TEST_RUN": marker, "PYTHONPATH": path}


def marked(marker: str) -> list[int]:
    """Live processes whose environment holds `marker` (a test's launcher and everything it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes() and (entry / "stat").read_text().split()[2] != "Z":
                    found.append(int(entry.name))
            except OSError:
                pass  # gone meanwhile, or not ours to read
    return sorted(found)


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    """Whether `condition()` holds within `seconds` (polled)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def network_unavailable() -> str | None:
    """Why this host cannot emulate networks (None: it can); printed, so a skip says why."""
    from gaisnet_opt.validator.network.namespaces import available

    reason = available()
    if reason is not None:
        print(f"network emulation unavailable: {reason}", file=sys.stderr)
    return reason


def needs_network() -> pytest.MarkDecorator:
    """Skip, with the reason, where this host cannot emulate networks (no root, no iproute2); CI runs as root."""
    reason = network_unavailable()
    return pytest.mark.skipif(reason is not None, reason=f"network emulation unavailable: {reason}")


def root_links() -> set[str]:
    """The interfaces of the root network namespace."""
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip() for line in out.splitlines()}
