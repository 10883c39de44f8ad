"""Split learning along one chain, in process, measured as it runs.

Each chain member is a `Worker` holding only its units and an optimizer over
its own tunable tensors. Every hop is an explicit hand-off: the smashed tensor
crosses detached and the receiver's copy requires a gradient only if something
upstream is tunable; in the backward the gradient of that copy crosses back.
So what the meters count is what a real deployment would send.

How a tensor crosses a hop is the chain's `Link`: in this process (`LOCAL`,
every member here) or between processes (`validator.distributed.process_link`). The
per-member step code (`Worker.take`, `Worker.forward`, `Worker.give_back`)
and the chain's order of steps are the same for both; a process runs the
steps of its own members and the link sends or receives at the hops it ends.

Measuring must not distort what it measures: FLOPs (torch's FlopCounterMode
with the profiler's CPU attention formulas), saved activations (saved-tensor
hooks) and the peak of live activations in inference depend only on the input
shape, so the first pass of each shape is counted and not timed, and every
later pass of that shape is timed without any hook and credited those counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from typing import Any, Protocol, TypeVar

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.plan import Member
from gaisnet_opt.profilers.flops import counted_macs
from gaisnet_opt.profilers.memory import peak_bytes, saved_bytes
from gaisnet_opt.validator.faults import MemberFailure
from gaisnet_opt.validator.meters import HopMeter, MemberMeter, Meter, nbytes
from gaisnet_opt.validator.trace import Trace, now

Units = Sequence[tuple[str, nn.Module]]
"""The model as an ordered list of (name, module) whose composition is the whole model."""

T = TypeVar("T")

OPTIMIZERS: dict[str, Callable[[list[nn.Parameter], float], torch.optim.Optimizer]] = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "sgdm": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}
"""The scenario's `training.optimizer` names (docs/model.md §2) as torch optimizers."""


class Link(Protocol):
    """How the tensors of one chain cross its hops; hop k joins member k-1 to member k."""

    def attach(self, trace: Trace) -> None:
        """Stamp this chain's messages in `trace` (the chain's own)."""
        ...

    def here(self, k: int) -> bool:
        """Whether member k runs in this process."""
        ...

    def smashed(self, k: int, x: torch.Tensor | None, labels: torch.Tensor | None, rows: int,
                labelled: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Member k-1's output `x`, and, `labelled` (training), the batch's labels in the same message, as member k
        receives them: the labels travel with the smashed data to the end point, which takes the loss
        (None where member k is elsewhere)."""
        ...

    def gradient(self, k: int, grad: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
        """Member k's input gradient as member k-1 receives it (shaped `like` its output; None where it is elsewhere)."""
        ...

    def home(self, logits: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        """The end point's logits as the start point receives them (an inference result going home)."""
        ...


class _Local:
    """Every member in this process: a tensor crosses by being handed over (nothing to stamp)."""

    def attach(self, trace: Trace) -> None:
        pass

    def here(self, k: int) -> bool:
        return True

    def smashed(self, k: int, x: torch.Tensor | None, labels: torch.Tensor | None, rows: int,
                labelled: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        return x, labels

    def gradient(self, k: int, grad: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
        return grad

    def home(self, logits: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        return logits


LOCAL: Link = _Local()
"""The in-process link."""


@dataclass(frozen=True)
class _Probe:
    flops: int
    saved: int
    peak: int


def parcel(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """Tensors as one flat message (a delivery or an upload): their values in order, nothing else."""
    return torch.cat([t.detach().reshape(-1) for t in tensors]) if tensors else torch.empty(0)


def unparcel(flat: torch.Tensor, like: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    """The tensors `parcel` flattened, shaped and typed `like` them."""
    out, at = [], 0
    for t in like:
        out.append(flat[at : at + t.numel()].reshape(t.shape).to(t.dtype))
        at += t.numel()
    return out


def _optimizer_bytes(opt: torch.optim.Optimizer) -> int:
    return sum(nbytes(v) for state in opt.state.values() for v in state.values() if isinstance(v, torch.Tensor))


@dataclass
class Worker:
    """One chain member: its units, its optimizer, its meter."""

    node: str
    index: int
    """its place in the chain (the trace's k)"""
    units: Units
    send_grad: bool
    """whether something upstream is tunable, so the gradient of the input must cross back"""
    meter: MemberMeter
    trace: Trace
    is_client: bool = True
    idle_s: float = 0.0
    """seconds idle before each timed pass, as a chain member waits for its input (the calibration's: a pass after
    a wait runs slower than one straight after another)"""
    optimizer: torch.optim.Optimizer | None = None
    _probes: dict[tuple[Any, ...], _Probe] = field(default_factory=dict)

    @cached_property
    def params(self) -> list[nn.Parameter]:
        return [p for _, m in self.units for p in m.parameters()]

    @cached_property
    def tunable(self) -> list[nn.Parameter]:
        return [p for p in self.params if p.requires_grad]

    @property
    def has_backward(self) -> bool:
        return self.send_grad or bool(self.tunable)

    @property
    def parcel(self) -> torch.Tensor:
        """Its tunable tensors as one message, as a delivery or an upload sends them."""
        return parcel(self.tunable)

    def new_round(self, optimizer: str | None, lr: float, deliver: bool = True) -> None:
        """Receive the delivered tunable modules (unless cached): a fresh optimizer, whose state lives only for the round."""
        tunable = self.tunable
        self.meter.rounds += 1
        self.optimizer = OPTIMIZERS[optimizer](tunable, lr) if optimizer and tunable else None
        if self.moves and deliver:
            self.meter.delivered_bytes += nbytes(self.parcel)

    @property
    def moves(self) -> bool:
        """Whether its tunable modules cross a server link: a client's do, an edge server's stay (docs/model.md §4)."""
        return self.is_client and bool(self.tunable)

    def end_round(self) -> None:
        """Upload the tuned modules to the edge server (a client's copy leaves the device)."""
        if self.moves and self.optimizer is not None:
            self.meter.uploaded_bytes += nbytes(self.parcel)

    def _held(self) -> int:
        """Bytes of parameters, their gradients and the optimizer's state now held."""
        held = sum(nbytes(p) for p in self.params) + sum(nbytes(p.grad) for p in self.tunable if p.grad is not None)
        return held + (_optimizer_bytes(self.optimizer) if self.optimizer is not None else 0)

    def _measured(self, key: tuple[Any, ...], run: Callable[[], T], x: torch.Tensor | None = None) -> tuple[T, _Probe, float | None]:
        """Run once: counted and untimed for a new shape, timed otherwise.

        The count takes FLOPs and saved-for-backward bytes, and, given the input
        `x` of a pass without gradients, the peak of live activations.
        """
        probe = self._probes.get(key)
        if probe is not None and self.idle_s:
            time.sleep(self.idle_s)
        start = now()
        if probe is None:
            box: list[T] = []
            saved, peak = [0], [0]

            def counted() -> None:
                saved[0] = saved_bytes(lambda: box.append(run()), self.params)

            if x is None:
                macs = counted_macs(counted)
            else:
                macs = counted_macs(lambda: peak.__setitem__(0, peak_bytes(lambda _: counted(), x, self.params)))
            probe = self._probes[key] = _Probe(2 * macs, saved[0], peak[0])
            self.trace.add(str(key[0]), self.index, start, now())
            return box[0], probe, None
        out = run()
        end = now()
        self.trace.add(str(key[0]), self.index, start, end)
        return out, probe, end - start

    def take(self, x: torch.Tensor, labels: torch.Tensor | None, hop: HopMeter | None) -> torch.Tensor:
        """The input as this member holds it: the start point's own (`hop` None), else what crossed `hop` (with the
        labels, if they came too), metered, with no autograd link to the sender; it requires a gradient only if
        something upstream is tunable."""
        if hop is None:
            return x
        hop.passes += 1
        hop.fwd_bytes += nbytes(x)
        hop.label_bytes += 0 if labels is None else nbytes(labels)
        return x.detach().requires_grad_(self.send_grad and torch.is_grad_enabled())

    def forward(self, received: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Own units in order; the end member of a training chain also takes the loss."""

        def run() -> torch.Tensor:
            x = received
            for _, unit in self.units:
                x = unit(x)
            return x if labels is None else F.cross_entropy(x, labels)

        grad = torch.is_grad_enabled()
        out, probe, secs = self._measured(("forward", tuple(received.shape), grad), run, None if grad else received)
        m = self.meter
        m.passes += 1
        m.samples += received.shape[0]
        m.fwd_flops += probe.flops
        m.saved_bytes = max(m.saved_bytes, probe.saved)
        m.peak_bytes = max(m.peak_bytes, probe.peak)
        if secs is None:
            m.state_bytes = max(m.state_bytes, self._held())
        else:
            m.timed_passes += 1
            m.fwd_s += secs
        return out

    def backward(self, out: torch.Tensor, grad: torch.Tensor | None, shape: tuple[int, ...]) -> None:
        """Backward through own units from `grad` on `out`, then the optimizer step (timed apart)."""

        def run() -> None:
            torch.autograd.backward(out, grad)

        _, probe, secs = self._measured(("backward", shape), run)
        start = now()
        if self.optimizer is not None:
            self.optimizer.step()
        end = now()
        if self.optimizer is not None:
            self.trace.add("step", self.index, start, end)
        step_s = end - start
        self.meter.bwd_passes += 1
        self.meter.bwd_flops += probe.flops
        if secs is None:  # a counted pass; the held bytes do not change after it
            self.meter.state_bytes = max(self.meter.state_bytes, self._held())
        else:
            self.meter.timed_bwd_passes += 1
            self.meter.bwd_s += secs
            self.meter.step_s += step_s
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)

    def give_back(self, received: torch.Tensor, out: torch.Tensor, grad: torch.Tensor | None, hop: HopMeter | None) -> torch.Tensor | None:
        """Backward and step from `grad` on `out`; the gradient of the input to cross back over `hop` (metered),
        or None when nothing upstream is tunable."""
        self.backward(out, grad, tuple(received.shape))
        if hop is None or not self.send_grad:
            return None
        back = received.grad
        assert back is not None  # the copy required grad, so autograd filled it
        hop.bwd_passes += 1
        hop.bwd_bytes += nbytes(back)
        return back


class SplitChain:
    """A chain of workers over `units`, split as `members` say (inclusive 0-based unit ranges), crossing hops by `link`."""

    def __init__(self, units: Units, members: Sequence[Member], clients: frozenset[str] | None = None, link: Link = LOCAL):
        tunable = [any(p.requires_grad for p in m.parameters()) for _, m in units]
        self.trace = Trace()
        self.workers = [
            Worker(
                node=m.node, index=k, units=list(units[m.first : m.last + 1]), send_grad=any(tunable[: m.first]),
                meter=MemberMeter(m.node, m.first, m.last), trace=self.trace, is_client=clients is None or m.node in clients,
            )
            for k, m in enumerate(members)
        ]
        self.hops = [HopMeter(a.node, b.node) for a, b in pairwise(members)]
        self.link = link
        link.attach(self.trace)

    def member_meters(self, k: int) -> list[Meter]:
        """The meters member k keeps: its own and the hop it receives over."""
        return [self.workers[k].meter, *([self.hops[k - 1]] if k else [])]

    def meters(self) -> list[Meter]:
        """Every meter of the chain, member by member."""
        return [m for k in range(len(self.workers)) for m in self.member_meters(k)]

    def new_round(self, optimizer: str | None, lr: float = 0.0, deliver: bool = True) -> None:
        """Every member here receives its modules for a round (`optimizer` None: inference); the trace starts again."""
        self.trace.clear()
        for k, w in enumerate(self.workers):
            if self.link.here(k):
                w.new_round(optimizer, lr, deliver)

    def end_round(self) -> None:
        """Every member here uploads its tuned modules."""
        for k, w in enumerate(self.workers):
            if self.link.here(k):
                w.end_round()

    def forward(
        self, images: torch.Tensor | None, labels: torch.Tensor | None = None, failing: str | None = None, iteration: int = 0,
        *, rows: int | None = None, loss: bool | None = None,
    ) -> tuple[list[torch.Tensor | None], list[torch.Tensor | None]]:
        """Hand the batch down the chain; returns what each member received and emitted (None: a member elsewhere).

        `rows` (the batch's samples) and `loss` (whether the end point takes the loss; default: labels given)
        are for processes that do not hold the start point's images and labels.
        """
        n = rows if rows is not None else len(images)  # type: ignore[arg-type]
        with_loss = labels is not None if loss is None else loss
        last = len(self.workers) - 1
        received: list[torch.Tensor | None] = [None] * len(self.workers)
        emitted: list[torch.Tensor | None] = [None] * len(self.workers)
        x, y = images, labels if with_loss else None
        for k, w in enumerate(self.workers):
            if k:
                x, y = self.link.smashed(k, x, y, n, with_loss)
            if not self.link.here(k):
                x = y = None
                continue
            if w.node == failing:
                raise MemberFailure(w.node, iteration)
            assert x is not None  # member k is here, so its input is
            received[k] = x = w.take(x, y, self.hops[k - 1] if k else None)
            emitted[k] = x = w.forward(x, y if k == last else None)
        return received, emitted

    def train_step(
        self, images: torch.Tensor | None, labels: torch.Tensor | None, failing: str | None = None, iteration: int = 0,
        *, rows: int | None = None,
    ) -> float | None:
        """One split-learning iteration: forward hop by hop, loss at the end point, gradients back hop by hop.

        Returns the loss where the end point is (None elsewhere).
        """
        received, emitted = self.forward(images, labels, failing, iteration, rows=rows, loss=True)
        last = len(self.workers) - 1
        grad: torch.Tensor | None = None
        for k in reversed(range(len(self.workers))):
            w = self.workers[k]
            if not w.has_backward:
                break  # nothing upstream is tunable either
            if k < last:
                grad = self.link.gradient(k + 1, grad, emitted[k])
            if self.link.here(k):
                out, got = emitted[k], received[k]
                assert out is not None and got is not None
                grad = w.give_back(got, out, grad, self.hops[k - 1] if k else None)
            else:
                grad = None
        out = emitted[-1]
        return None if out is None else float(out.item())
