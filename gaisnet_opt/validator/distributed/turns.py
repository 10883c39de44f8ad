"""What one member's part of a cluster's turn sends to rank 0, and rank 0's thread that receives it.

A member ends its part of a turn with three messages to rank 0, the
aggregating edge server: its status (its view of the cluster, or its
inference accuracy), then, if it finished and its tunable modules move, the
upload, then its trace and meters. Rank 0 receives them in a thread per
member (`Report`), on tags of their own, so it can be a chain member itself
meanwhile; a member whose process is gone shows as a `LostPeer`.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from gaisnet_opt.validator.distributed.wire import Wire
from gaisnet_opt.validator.faults import LostPeer
from gaisnet_opt.validator.fedavg import ClusterView
from gaisnet_opt.validator.meters import Meter, meter_data
from gaisnet_opt.validator.trace import Event, Trace, now


def send_status(wire: Wire, view: ClusterView, accuracy: float | None = None) -> None:
    """A member's status at the end of its part: its view of the cluster (and, a start point's, the accuracy)."""
    wire.send_data({"view": asdict(view), "accuracy": accuracy}, 0)


def send_modules(wire: Wire, kind: str, flat: torch.Tensor, k: int, trace: Trace) -> None:
    """Member k's tuned modules to rank 0 (an upload, or an edge server's backhaul), stamped."""
    start = now()
    wire.send(kind, flat, 0)
    trace.add(f"send:{kind}", k, start, now())


def send_trace(wire: Wire, events: list[Event], meters: list[Meter]) -> None:
    """A member's stamps of the turn and its meters so far."""
    wire.send_data({"events": events, "meters": meter_data(meters)}, 0)


@dataclass
class Report:
    """Rank 0's thread receiving member k's (at `rank`) end of a turn: `upload` is the kind and size of the modules
    it sends if it finished (None: it sends none), `patience` the timeouts to wait for its status."""

    wire: Wire
    rank: int
    k: int
    upload: tuple[str, int] | None
    patience: float
    view: ClusterView | None = None
    accuracy: float | None = None
    modules: torch.Tensor | None = None
    events: list[Event] = field(default_factory=list)
    meters: list[dict[str, Any]] | None = None
    lost: LostPeer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> Report:
        self._thread = threading.Thread(target=self._receive, name=f"report-{self.rank}", daemon=True)
        self._thread.start()
        return self

    def join(self) -> Report:
        assert self._thread is not None
        self._thread.join()
        return self

    def _receive(self) -> None:
        try:
            status = self.wire.recv_data(self.rank, self.patience)
            self.view, self.accuracy = ClusterView.from_data(status["view"]), status["accuracy"]
            if self.upload is not None and self.view.failure is None:
                kind, size = self.upload
                start = now()
                self.modules = self.wire.recv(kind, [size], torch.float32, self.rank)
                self.events.append((f"recv:{kind}", self.k, 0, start, now()))
            body = self.wire.recv_data(self.rank)
            self.events += [tuple(e) for e in body["events"]]
            self.meters = body["meters"]
        except LostPeer as exc:
            self.lost = exc
