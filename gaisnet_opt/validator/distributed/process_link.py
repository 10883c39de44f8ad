"""One chain's hops between processes (a `split_chain.Link`): this rank sends or receives at the hops its members end.

Each message is stamped in the chain's trace at both ends (the start of the
send, the completion of the receive), so rank 0 can time every transfer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from gaisnet_opt.cost import LABEL_BYTES
from gaisnet_opt.validator.distributed.wire import Wire
from gaisnet_opt.validator.run_setup import Setup
from gaisnet_opt.validator.trace import Trace, now


@dataclass
class ProcessLink:
    """Sends and receives of one chain's tensors over the `Wire`."""

    wire: Wire
    ranks: tuple[int, ...]
    """the rank of every member"""
    lasts: tuple[int, ...]
    """the last unit of every member: what it emits is that unit's output"""
    trace: Trace = field(default_factory=Trace)

    def attach(self, trace: Trace) -> None:
        self.trace = trace

    def here(self, k: int) -> bool:
        return self.ranks[k] == self.wire.rank

    def _cross(self, kind: str, hop: int, src: int, dst: int, t: torch.Tensor | None, shape: Sequence[int],
               dtype: torch.dtype) -> torch.Tensor | None:
        if self.here(src) and self.here(dst):
            return t
        start = now()
        if self.here(src):
            assert t is not None
            self.wire.send(kind, t, self.ranks[dst])
            self.trace.add(f"send:{kind}", hop, start, now())
        elif self.here(dst):
            got = self.wire.recv(kind, shape, dtype, self.ranks[src])
            self.trace.add(f"recv:{kind}", hop, start, now())
            return got
        return None

    def _emitted(self, k: int, rows: int) -> tuple[list[int], torch.dtype]:
        shape, dtype = self.wire.shapes[self.lasts[k]]
        return [rows, *shape], dtype

    def smashed(self, k: int, x: torch.Tensor | None, labels: torch.Tensor | None, rows: int,
                labelled: bool) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        shape, dtype = self._emitted(k - 1, rows)
        if not labelled:
            return self._cross("smashed", k, k - 1, k, x, shape, dtype), None
        # one message, the smashed data's bytes then the labels': one transfer per hop, as the cost model prices it
        size = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
        packed = None if x is None or labels is None else torch.cat(
            [x.detach().contiguous().view(-1).view(torch.uint8), labels.contiguous().view(torch.uint8)])
        got = self._cross("smashed", k, k - 1, k, packed, [size + rows * LABEL_BYTES], torch.uint8)
        if got is None:
            return None, None
        # each its own storage, as the sender's were: what autograd saves of them counts their bytes only
        return got[:size].view(dtype).reshape(shape).clone(), got[size:].view(torch.long).clone()

    def gradient(self, k: int, grad: torch.Tensor | None, like: torch.Tensor | None) -> torch.Tensor | None:
        shape, dtype = (like.shape, like.dtype) if like is not None else ((), torch.float32)
        return self._cross("gradient", k, k, k - 1, grad, shape, dtype)

    def home(self, logits: torch.Tensor | None, rows: int) -> torch.Tensor | None:
        last = len(self.ranks) - 1
        return self._cross("result", last, last, 0, logits, *self._emitted(last, rows))


def unit_shapes(setup: Setup) -> list[tuple[torch.Size, torch.dtype]]:
    """Each unit's output shape per sample and dtype (one sample through the whole model)."""
    cfg = setup.model.cfg
    x = torch.zeros(1, cfg.in_chans, cfg.img_size, cfg.img_size)
    out = []
    with torch.no_grad():
        for _, unit in setup.model.units():
            x = unit(x)
            out.append((x.shape[1:], x.dtype))
    return out
