"""SL inference (paper §III.D, Fig. 5): the request runs down the inference chain, the result returns to its start point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gaisnet_opt.plan import Member
from gaisnet_opt.validator.meters import HopMeter, Meter, nbytes
from gaisnet_opt.validator.split_chain import LOCAL, Link, SplitChain, Units


@dataclass(frozen=True)
class Served:
    """What the start point holds after its request: the end point's logits, and their predicted classes."""

    logits: torch.Tensor
    predictions: torch.Tensor


class InferenceChain(SplitChain):
    """A split chain without optimizers, plus the return hop from the end point to the start point."""

    def __init__(self, units: Units, members: Sequence[Member], clients: frozenset[str] | None = None, link: Link = LOCAL):
        super().__init__(units, members, clients, link)
        first, last = self.workers[0].node, self.workers[-1].node
        self.return_hop = HopMeter(last, first) if len(self.workers) > 1 else None

    def member_meters(self, k: int) -> list[Meter]:
        """As a split chain's, and the start point also keeps the return hop's (it receives over it)."""
        own = super().member_meters(k)
        return [*own, self.return_hop] if k == 0 and self.return_hop is not None else own

    def serve(self, images: torch.Tensor | None, chunk: int, samples: int | None = None) -> Served | None:
        """Classify `images` along the chain, `chunk` at a time (the cost model's working set holds at most B samples);
        the logits cross back to the start point (unless it is the end).

        A process without the start point's images passes their number, `samples`, and gets None.
        """
        total = len(images) if images is not None else samples
        assert total is not None
        parts = []
        with torch.no_grad():
            for first in range(0, total, chunk):
                rows = min(chunk, total - first)
                piece = None if images is None else images[first : first + rows]
                logits = self.link.home(self.forward(piece, rows=rows)[1][-1], rows)
                if logits is None:
                    continue  # the start point is elsewhere
                if self.return_hop is not None:
                    self.return_hop.passes += 1
                    self.return_hop.fwd_bytes += nbytes(logits)
                    logits = logits.clone()  # the start point's own copy
                parts.append(logits)
        if not parts:
            return None
        logits = torch.cat(parts)
        return Served(logits=logits, predictions=logits.argmax(dim=1))
