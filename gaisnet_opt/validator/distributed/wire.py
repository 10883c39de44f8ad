"""Every message between the processes of a distributed run: typed by kind, waited on with a timeout, recorded.

Tensors cross as they are; control data (statuses, decisions, meters) crosses
as JSON in a byte tensor after its length, so nothing is coded into floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from gaisnet_opt.validator.faults import LostPeer

KINDS = ("smashed", "gradient", "labels", "parameters", "result", "control")
"""What may cross between processes (`Wire` refuses anything else): "result" is an inference result going home,
"control" the run's own bookkeeping."""


@dataclass
class Wire:
    """This process's end of every message."""

    rank: int
    nodes: tuple[str, ...]
    timeout: float
    record: bool = False
    log: list[dict[str, Any]] = field(default_factory=list)
    shapes: list[tuple[torch.Size, torch.dtype]] = field(default_factory=list)
    """each unit's output per sample (set once the model is built), so receivers know what arrives"""
    _groups: dict[tuple[int, ...], Any] = field(default_factory=dict)
    _links: dict[tuple[int, int], Any] = field(default_factory=dict)

    def _note(self, op: str, kind: str, t: torch.Tensor, peers: Sequence[int]) -> None:
        if kind not in KINDS:
            raise ValueError(f"'{kind}' may not cross between processes")
        if self.record:
            self.log.append({"op": op, "kind": kind, "dtype": str(t.dtype).removeprefix("torch."),
                             "shape": list(t.shape), "peers": list(peers)})

    def _wait(self, start: Callable[[], Any], peers: Sequence[int], patience: float = 1) -> None:
        """Start an operation and wait for it; a closed connection or the timeout is a lost peer."""
        try:
            start().wait(timeout=timedelta(seconds=self.timeout * patience))
        except RuntimeError as exc:  # gloo: connection closed, or the timeout
            lost = ", ".join(self.nodes[p] for p in peers)
            raise LostPeer(lost, str(exc).strip().splitlines()[0]) from None

    def connect(self, pairs: Sequence[tuple[int, int]]) -> None:
        """A process group of its own for each pair of ranks that exchange messages; every process calls this with
        the same pairs in the same order. Gloo closes every connection of a group when a wait in it times out, so on
        one shared group a peer that hangs would cut this process off from all the others, not only from itself."""
        for a, b in pairs:
            self._links[(a, b)] = dist.new_group([a, b], timeout=timedelta(seconds=self.timeout),
                                                 use_local_synchronization=False)

    def _link(self, peer: int) -> Any:
        return self._links[(min(self.rank, peer), max(self.rank, peer))]

    def send(self, kind: str, t: torch.Tensor, dst: int) -> None:
        self._note("send", kind, t, [dst])
        self._wait(lambda: dist.isend(t.contiguous(), dst, group=self._link(dst)), [dst])

    def recv(self, kind: str, shape: Sequence[int], dtype: torch.dtype, src: int, patience: float = 1) -> torch.Tensor:
        t = torch.empty(tuple(shape), dtype=dtype)
        self._note("recv", kind, t, [src])
        self._wait(lambda: dist.irecv(t, src, group=self._link(src)), [src], patience)
        return t

    def send_data(self, data: Any, dst: int) -> None:
        """Control data (anything JSON can hold) to `dst`: its length, then its bytes."""
        body = torch.frombuffer(bytearray(json.dumps(data).encode()), dtype=torch.uint8)
        self.send("control", torch.tensor([len(body)], dtype=torch.int64), dst)
        self.send("control", body, dst)

    def recv_data(self, src: int, patience: float = 1) -> Any:
        """Control data sent by `src` with `send_data`."""
        size = int(self.recv("control", [1], torch.int64, src, patience))
        return json.loads(self.recv("control", [size], torch.uint8, src, patience).numpy().tobytes())

    def groups(self, rank_sets: Sequence[tuple[int, ...]]) -> None:
        """Make the groups not made yet; every live process calls this with the same sets in the same order."""
        for ranks in rank_sets:
            if ranks not in self._groups:
                self._groups[ranks] = dist.new_group(list(ranks), timeout=timedelta(seconds=self.timeout),
                                                     use_local_synchronization=False)

    def reduce(self, kind: str, t: torch.Tensor, ranks: tuple[int, ...]) -> None:
        """Sum `t` over `ranks` into rank 0's `t`."""
        self._note("reduce", kind, t, ranks)
        self._wait(lambda: dist.reduce(t, dst=0, group=self._groups[ranks], async_op=True), ranks)

    def broadcast(self, kind: str, t: torch.Tensor, ranks: tuple[int, ...]) -> None:
        """Rank 0's `t` into every other rank's `t`."""
        self._note("broadcast", kind, t, ranks)
        self._wait(lambda: dist.broadcast(t, src=0, group=self._groups[ranks], async_op=True), ranks)
