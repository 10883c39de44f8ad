"""Split learning along one chain, in process, measured as it runs.

Each chain member is a `Worker` holding only its units and an optimizer over
its own tunable tensors. Every hop is an explicit hand-off: the smashed tensor
crosses detached and the receiver's copy requires a gradient only if something
upstream is tunable; in the backward the gradient of that copy crosses back.
So what the meters count is what a real deployment would send.

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
from typing import Any, TypeVar

import torch
from torch import nn
from torch.nn import functional as F

from gaisnet_opt.plan import Member
from gaisnet_opt.profilers.flops import counted_macs
from gaisnet_opt.profilers.memory import peak_bytes, saved_bytes

Units = Sequence[tuple[str, nn.Module]]
"""The model as an ordered list of (name, module) whose composition is the whole model."""

T = TypeVar("T")

OPTIMIZERS: dict[str, Callable[[list[nn.Parameter], float], torch.optim.Optimizer]] = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "sgdm": lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}
"""The scenario's `training.optimizer` names (SPEC §2) as torch optimizers."""


def nbytes(t: torch.Tensor) -> int:
    """Bytes of the values a tensor holds (what a sender serializes), not of its storage."""
    return t.numel() * t.element_size()


class MemberFailure(RuntimeError):
    """A chain member dropped out mid-round (injected with `Fault`)."""

    def __init__(self, node: str, iteration: int):
        super().__init__(f"member {node} failed at iteration {iteration}")
        self.node = node
        self.iteration = iteration


@dataclass
class MemberMeter:
    """What one member computed and held, summed over its passes (iterations or requests)."""

    node: str
    first: int
    last: int
    rounds: int = 0
    passes: int = 0
    samples: int = 0
    fwd_flops: float = 0.0
    bwd_flops: float = 0.0
    timed_samples: int = 0
    """samples of the passes that were timed (the rest were counted)"""
    fwd_s: float = 0.0
    bwd_s: float = 0.0
    saved_bytes: int = 0
    """most bytes saved for backward in one pass"""
    peak_bytes: int = 0
    """most bytes of live activations in one pass without gradients (inference)"""
    state_bytes: int = 0
    """parameters, gradients and optimizer state held, at most"""
    delivered_bytes: int = 0
    uploaded_bytes: int = 0


@dataclass
class HopMeter:
    """Bytes that crossed one hop, summed over passes."""

    src: str
    dst: str
    passes: int = 0
    fwd_bytes: int = 0
    bwd_bytes: int = 0


@dataclass(frozen=True)
class _Probe:
    flops: int
    saved: int
    peak: int


def _optimizer_bytes(opt: torch.optim.Optimizer) -> int:
    return sum(nbytes(v) for state in opt.state.values() for v in state.values() if isinstance(v, torch.Tensor))


@dataclass
class Worker:
    """One chain member: its units, its optimizer, its meter."""

    node: str
    units: Units
    send_grad: bool
    """whether something upstream is tunable, so the gradient of the input must cross back"""
    meter: MemberMeter
    is_client: bool = True
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

    def new_round(self, optimizer: str | None, lr: float, deliver: bool = True) -> None:
        """Receive the delivered tunable modules (unless cached): a fresh optimizer, whose state lives only for the round."""
        tunable = self.tunable
        self.meter.rounds += 1
        self.optimizer = OPTIMIZERS[optimizer](tunable, lr) if optimizer and tunable else None
        if self.is_client and deliver:
            self.meter.delivered_bytes += sum(nbytes(p) for p in tunable)

    def end_round(self) -> None:
        """Upload the tuned modules to the edge server (a client's copy leaves the device)."""
        if self.is_client and self.optimizer is not None:
            self.meter.uploaded_bytes += sum(nbytes(p) for p in self.tunable)

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
            return box[0], probe, None
        start = time.perf_counter()
        out = run()
        return out, probe, time.perf_counter() - start

    def forward(self, received: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        """Own units in order; the end member of a training chain also takes the loss."""

        def run() -> torch.Tensor:
            x = received
            for _, unit in self.units:
                x = unit(x)
            return x if labels is None else F.cross_entropy(x, labels)

        grad = torch.is_grad_enabled()
        out, probe, secs = self._measured(("fwd", tuple(received.shape), grad), run, None if grad else received)
        m = self.meter
        m.passes += 1
        m.samples += received.shape[0]
        m.fwd_flops += probe.flops
        m.saved_bytes = max(m.saved_bytes, probe.saved)
        m.peak_bytes = max(m.peak_bytes, probe.peak)
        if secs is None:
            m.state_bytes = max(m.state_bytes, self._held())
        else:
            m.timed_samples += received.shape[0]
            m.fwd_s += secs
        return out

    def backward(self, out: torch.Tensor, grad: torch.Tensor | None, shape: tuple[int, ...]) -> None:
        """Backward through own units from `grad` on `out`, then the optimizer step (timed with it)."""

        def run() -> None:
            torch.autograd.backward(out, grad)

        _, probe, secs = self._measured(("bwd", shape), run)
        start = time.perf_counter()
        if self.optimizer is not None:
            self.optimizer.step()
        step_s = time.perf_counter() - start
        self.meter.bwd_flops += probe.flops
        if secs is None:  # a counted pass; the held bytes do not change after it
            self.meter.state_bytes = max(self.meter.state_bytes, self._held())
        else:
            self.meter.bwd_s += secs + step_s
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)


def _cross(t: torch.Tensor, requires_grad: bool) -> torch.Tensor:
    """The receiver's copy of a tensor that crossed a hop: no autograd link to the sender."""
    return t.detach().requires_grad_(requires_grad)


class SplitChain:
    """A chain of workers over `units`, split as `members` say (inclusive 0-based unit ranges)."""

    def __init__(self, units: Units, members: Sequence[Member], clients: frozenset[str] | None = None):
        tunable = [any(p.requires_grad for p in m.parameters()) for _, m in units]
        self.workers = [
            Worker(
                node=m.node, units=list(units[m.first : m.last + 1]), send_grad=any(tunable[: m.first]),
                meter=MemberMeter(m.node, m.first, m.last), is_client=clients is None or m.node in clients,
            )
            for m in members
        ]
        self.hops = [HopMeter(a.node, b.node) for a, b in zip(members, members[1:])]

    def new_round(self, optimizer: str | None, lr: float = 0.0, deliver: bool = True) -> None:
        """Every member receives its modules for a round (`optimizer` None: inference)."""
        for w in self.workers:
            w.new_round(optimizer, lr, deliver)

    def end_round(self) -> None:
        """Every member uploads its tuned modules."""
        for w in self.workers:
            w.end_round()

    def forward(
        self, images: torch.Tensor, labels: torch.Tensor | None = None, failing: str | None = None, iteration: int = 0,
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Hand the batch down the chain; returns what each member received and emitted."""
        received: list[torch.Tensor] = []
        emitted: list[torch.Tensor] = []
        x = images
        last = len(self.workers) - 1
        for k, w in enumerate(self.workers):
            if w.node == failing:
                raise MemberFailure(w.node, iteration)
            if k:
                hop = self.hops[k - 1]
                hop.passes += 1
                hop.fwd_bytes += nbytes(x)
                x = _cross(x, w.send_grad and torch.is_grad_enabled())
            received.append(x)
            x = w.forward(x, labels if k == last else None)
            emitted.append(x)
        return received, emitted

    def train_step(
        self, images: torch.Tensor, labels: torch.Tensor, failing: str | None = None, iteration: int = 0,
    ) -> float:
        """One split-learning iteration: forward hop by hop, loss at the end point, gradients back hop by hop."""
        received, emitted = self.forward(images, labels, failing, iteration)
        grad: torch.Tensor | None = None
        for k in reversed(range(len(self.workers))):
            w = self.workers[k]
            if not w.has_backward:
                break  # nothing upstream is tunable either
            w.backward(emitted[k], grad, tuple(received[k].shape))
            if k and w.send_grad:
                grad = received[k].grad
                assert grad is not None  # the copy required grad, so autograd filled it
                self.hops[k - 1].bwd_bytes += nbytes(grad)
        return float(emitted[-1].item())
