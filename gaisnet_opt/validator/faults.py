"""Members that drop out: injected faults, and how a drop-out shows to the rest of the chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal["exit", "hang"]


@dataclass(frozen=True)
class Fault:
    """Injected: `node` drops out of the given round before its compute of `iteration` (0-based).

    `kind` matters only to the distributed engine, whose neighbours of a dead process see its connections close but
    can tell a hung one (alive and silent) only by the timeout: "exit" kills the member's process, "hang" keeps it
    silent far longer than any wait. In one process both are the same drop-out.
    """

    round: int
    node: str
    iteration: int = 0
    kind: FaultKind = "exit"

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"fault kind '{self.kind}': expected one of {', '.join(get_args(FaultKind))}")


class MemberFailure(RuntimeError):
    """A chain member dropped out mid-round (injected with `Fault`)."""

    def __init__(self, node: str, iteration: int):
        super().__init__(f"member {node} failed at iteration {iteration}")
        self.node = node
        self.iteration = iteration


class LostPeer(ConnectionError):
    """A link's other end stopped answering (its process died or timed out)."""

    def __init__(self, node: str, reason: str):
        super().__init__(f"lost {node}: {reason}")
        self.node = node
