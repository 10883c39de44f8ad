"""A start point's minimal clusters within a limit: cheapest first, none holding every member of another.

For a packing only a cluster's members count (the master's rows are its
start's, its kind's and its members'), so a cluster whose members include
another's from the same start is never needed: the other stands in for it
and is no slower. The chain search's A* order (`bounds.chain_search`) makes
that cheap to use: a partial chain whose nodes already hold a found
cluster's is dropped, and since estimates are lower bounds, the cluster that
dominates it was found at a value no higher than any completion of it. So the
listing is complete for every threshold below its `cut`: any cluster from
the start within such a threshold holds the members of a listed one that is
no slower (docs/model.md §7.4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gaisnet_opt.bounds.chain_search import Chain, Search
from gaisnet_opt.bounds.frontier import Frontier
from gaisnet_opt.budget import Budget

ROUNDING = 1e-9
"""Relative slack on the limit while searching: estimates and values are sums taken in different orders."""
CHECK_EVERY = 64
"""Expansions between two budget checks (one expansion takes about a millisecond at 2,000 clients)."""


@dataclass(frozen=True)
class Listing:
    """One start's (node index) minimal clusters within `limit`, cheapest first; complete below `cut`
    (infinite: up to `limit`, every cluster from the start was enumerated or holds a listed one's members)."""

    start: int
    chains: tuple[Chain, ...]
    limit: float
    cut: float

    def complete(self, z: float) -> bool:
        """Whether every cluster within z holds the members of a listed one within z."""
        return z <= self.limit and z < self.cut


def minimal_chains(search: Search, start: int, limit: float, cap: int, pops: int, budget: Budget) -> Listing:
    """The minimal clusters from `start` within `limit`: at most `cap`, after at most `pops` expansions (where
    either stops, `cut` is the least estimate left: no cluster below it was missed)."""
    zeros = np.zeros(len(search.graph.ids))
    found: list[Chain] = []
    held: dict[int, list[frozenset[int]]] = {}  # found clusters' members, by their least node but the start
    front = Frontier(limit + ROUNDING * abs(limit))
    search.seed_heap(start, zeros, front)  # the search's own steps: only the dominance test is added
    expanded = 0
    while front:
        f, done = front.peek()
        if expanded >= pops or (done and len(found) >= cap):
            return Listing(start, tuple(found), limit, f)
        _, _, p = front.pop()
        budget.tick()  # most pops are dominated partials, dropped without an expansion
        nodes = frozenset(v for v, _, _ in p.path)
        if any(h <= nodes for v in nodes for h in held.get(v, ())):
            continue
        if done:
            found.append(search.complete(f, p, start))
            held.setdefault(min(nodes - {start}, default=start), []).append(nodes)
            continue
        search.expand(start, p, zeros, front, True)
        expanded += 1
        if expanded % CHECK_EVERY == 0:
            budget.check()  # an expansion pushes a whole neighbourhood: checked more often than by `tick`
    return Listing(start, tuple(found), limit, math.inf)
