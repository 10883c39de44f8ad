"""SL inference (paper §III.D, Fig. 5): the request runs down the inference chain, the result returns to its start point."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gaisnet_opt.plan import Member
from gaisnet_opt.validator.engine import HopMeter, SplitChain, Units, nbytes


@dataclass(frozen=True)
class Served:
    """What the start point holds after its request: the end point's logits, and their predicted classes."""

    logits: torch.Tensor
    predictions: torch.Tensor


class InferenceChain(SplitChain):
    """A split chain without optimizers, plus the return hop from the end point to the start point."""

    def __init__(self, units: Units, members: Sequence[Member], clients: frozenset[str] | None = None):
        super().__init__(units, members, clients)
        first, last = self.workers[0].node, self.workers[-1].node
        self.return_hop = HopMeter(last, first) if len(self.workers) > 1 else None

    def serve(self, images: torch.Tensor, chunk: int) -> Served:
        """Classify `images` along the chain, `chunk` at a time (the cost model's working set holds at most B samples);
        the logits cross back to the start point (unless it is the end)."""
        parts = []
        with torch.no_grad():
            for piece in images.split(chunk):
                logits = self.forward(piece)[1][-1]
                if self.return_hop is not None:
                    self.return_hop.passes += 1
                    self.return_hop.fwd_bytes += nbytes(logits)
                    logits = logits.clone()  # the start point's own copy
                parts.append(logits)
        logits = torch.cat(parts)
        return Served(logits=logits, predictions=logits.argmax(dim=1))
