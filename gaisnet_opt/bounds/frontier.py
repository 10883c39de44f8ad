"""The chain search's heap of partial chains, filled one expansion at a time.

An expansion offers every (neighbour, last unit) child at once: about 330 of
them per expansion in a dense 10,000-client cell, of which few are ever
popped. Pushing each onto a heap as an object cost most of a pricing round,
so a `Batch` keeps one expansion's children as arrays sorted by key and only
its least child is on the heap; popping it builds that child's `Partial`
and puts the batch's next child on. Each child keeps the tie-breaking rank
one heap of every child would have given it (offer order, then position),
so the pops come in exactly the same order as from that heap (lazy
successor generation, as in partial-expansion A*: Yoshizumi, Miura and
Ishida, AAAI 2000).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import numpy as np

Range = tuple[int, int, int]
"""(node index, first unit, last unit)."""


@dataclass(frozen=True)
class Partial:
    """A partial chain on the heap: its exact figures so far, the penalties of its nodes, its server, its path."""

    secs: float
    dl: float
    ul: float
    joules: float
    pen: float
    server: int
    path: tuple[Range, ...]


@dataclass
class Batch:
    """One expansion's children in offer order, with `order` their positions by key (ties by position): their keys,
    whether each is complete, figures, server, and path (`prefix` plus (node, `first`, last))."""

    keys: list[float]
    done: list[bool]
    figures: np.ndarray
    """[child, secs/dl/ul/joules/pen]."""
    servers: list[int]
    prefix: tuple[Range, ...]
    nodes: list[int]
    first: int
    lasts: list[int]
    rank: int
    """The tie-breaking rank of the batch's first child as offered; child i (offer order) has rank + i."""
    order: list[int]
    """Offer positions, in key order."""
    at: int = 0

    def partial(self, i: int) -> Partial:
        secs, dl, ul, joules, pen = self.figures[i].tolist()
        return Partial(secs, dl, ul, joules, pen, self.servers[i], (*self.prefix, (self.nodes[i], self.first, self.lasts[i])))


class Frontier:
    """Partial chains by estimate, cheapest first, none above `limit`; with `cap`, also none above the cap-th
    cheapest complete chain offered (it and the cheaper ones are popped first: the rest would never be)."""

    def __init__(self, limit: float = math.inf, cap: int | None = None) -> None:
        self.limit, self.cap = limit, cap
        self._heap: list[tuple[float, int, int, Batch]] = []
        self._rank = 0
        self._kept: list[float] = []  # the cap cheapest complete keys offered, negated (a max-heap)

    def __bool__(self) -> bool:
        return bool(self._heap)

    def bound(self) -> float:
        """Keys above this are not kept."""
        if self.cap is not None and len(self._kept) >= self.cap:
            return min(self.limit, -self._kept[0])
        return self.limit

    def peek(self) -> tuple[float, bool]:
        """The least key on the heap (a lower bound on every chain not popped yet) and whether its chain is
        complete."""
        f, _, i, batch = self._heap[0]
        return f, batch.done[i]

    def offer(self, keys: np.ndarray, done: np.ndarray, figures: np.ndarray, servers: list[int],
              prefix: tuple[Range, ...], nodes: list[int], first: int, lasts: list[int]) -> None:
        """Children in offer order (`figures` [child, secs/dl/ul/joules/pen]); those above `bound`, with this
        batch's complete children counted among the cheapest, are dropped: none would be popped before the cap-th
        complete chain, so the pops up to it are those of a heap that pruned child by child."""
        rank = self._rank
        self._rank += len(keys)
        keep = keys <= self.bound()
        if self.cap is not None:
            for f in np.sort(keys[keep & done]).tolist()[:self.cap]:
                heapq.heappush(self._kept, -f)
                if len(self._kept) > self.cap:
                    heapq.heappop(self._kept)
            keep &= keys <= self.bound()
        idx = np.flatnonzero(keep)
        if not len(idx):
            return
        order = idx[np.argsort(keys[idx], kind="stable")].tolist()
        batch = Batch(keys.tolist(), done.tolist(), figures, servers, prefix, nodes, first, lasts, rank, order)
        self._push(batch)

    def pop(self) -> tuple[float, bool, Partial]:
        """The cheapest partial chain: its key, whether it is complete, the chain."""
        f, _, i, batch = heapq.heappop(self._heap)
        batch.at += 1
        if batch.at < len(batch.order):
            self._push(batch)
        return f, batch.done[i], batch.partial(i)

    def _push(self, batch: Batch) -> None:
        i = batch.order[batch.at]
        heapq.heappush(self._heap, (batch.keys[i], batch.rank + i, i, batch))
