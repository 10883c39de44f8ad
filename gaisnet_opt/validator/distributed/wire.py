"""Every message between the processes of a distributed run: typed by kind, waited on with a timeout, recorded.

Tensors cross as they are; control data (statuses, decisions, meters) crosses
as JSON in a byte tensor after its length, so nothing is coded into floats.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from gaisnet_opt.validator.faults import LostPeer

T = TypeVar("T")

KINDS = ("smashed", "gradient", "result", "delivery", "upload", "backhaul", "control")
"""What may cross between processes (`Wire` refuses anything else): "smashed" is a unit's output (in training with
the batch's labels after it, as bytes), "result" an inference result going home,
"delivery" and "upload" a client's tunable modules from and to the edge server, "backhaul" another edge server's
(over no link the cost model prices), "control" the run's own bookkeeping."""

TAGS = {"control": 1, "delivery": 2, "upload": 2, "backhaul": 2}
"""Each kind's message stream between two processes (the rest: 0): rank 0 receives a member's control data and
modules in a thread of their own while its main thread may be that member's chain neighbour, and a receive takes
the first message of its tag."""


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
    _links: dict[tuple[int, int], Any] = field(default_factory=dict)

    def _note(self, op: str, kind: str, t: torch.Tensor, peers: Sequence[int]) -> None:
        if kind not in KINDS:
            raise ValueError(f"'{kind}' may not cross between processes")
        if self.record:
            self.log.append({"op": op, "kind": kind, "dtype": str(t.dtype).removeprefix("torch."),
                             "shape": list(t.shape), "peers": list(peers)})

    def _guarded(self, op: Callable[[], T], peer: int) -> T:
        """`op()`, where gloo's RuntimeError (a closed connection, or the timeout) is the peer lost."""
        try:
            return op()
        except RuntimeError as exc:
            raise LostPeer(self.nodes[peer], str(exc).strip().splitlines()[0]) from None

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
        self.finish(self.post_send(kind, t, dst), dst)

    def recv(self, kind: str, shape: Sequence[int], dtype: torch.dtype, src: int, patience: float = 1) -> torch.Tensor:
        t, work = self.post_recv(kind, shape, dtype, src)
        self.finish(work, src, patience)
        return t

    def post_send(self, kind: str, t: torch.Tensor, dst: int) -> Any:
        """Start sending `t` to `dst`; `finish` waits for it (so several sends can run at once)."""
        self._note("send", kind, t, [dst])
        return self._guarded(lambda: dist.isend(t.contiguous(), dst, group=self._link(dst), tag=TAGS.get(kind, 0)), dst)

    def post_recv(self, kind: str, shape: Sequence[int], dtype: torch.dtype, src: int) -> tuple[torch.Tensor, Any]:
        """Start receiving a tensor from `src` into a new one; `finish` waits for it."""
        t = torch.empty(tuple(shape), dtype=dtype)
        self._note("recv", kind, t, [src])
        return t, self._guarded(lambda: dist.irecv(t, src, group=self._link(src), tag=TAGS.get(kind, 0)), src)

    def finish(self, work: Any, peer: int, patience: float = 1) -> None:
        """Wait for a posted send or receive; a closed connection or the timeout is a lost peer."""
        self._guarded(lambda: work.wait(timeout=timedelta(seconds=self.timeout * patience)), peer)

    def send_data(self, data: Any, dst: int) -> None:
        """Control data (anything JSON can hold) to `dst`: its length, then its bytes."""
        body = torch.frombuffer(bytearray(json.dumps(data).encode()), dtype=torch.uint8)
        self.send("control", torch.tensor([len(body)], dtype=torch.int64), dst)
        self.send("control", body, dst)

    def recv_data(self, src: int, patience: float = 1) -> Any:
        """Control data sent by `src` with `send_data`."""
        size = int(self.recv("control", [1], torch.int64, src, patience))
        return json.loads(self.recv("control", [size], torch.uint8, src, patience).numpy().tobytes())
