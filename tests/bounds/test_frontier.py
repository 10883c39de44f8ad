"""The frontier pops what one heap of every offered chain would pop, in the same order, ties included: the
search's results do not depend on children being kept in sorted batches."""

from __future__ import annotations

import heapq
import itertools
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gaisnet_opt.bounds.frontier import Frontier

KEYS = st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0, 7.0])  # few values: many ties


@st.composite
def offers(draw):
    """Batches of (key, complete) children, and where pops happen between them."""
    batches = draw(st.lists(st.lists(st.tuples(KEYS, st.booleans()), max_size=8), min_size=1, max_size=6))
    pops = draw(st.lists(st.integers(0, 4), min_size=len(batches), max_size=len(batches)))
    return batches, pops


def _reference(batches, pops, limit, cap):
    """One heap of every child, pruned as the search's old push did: each child above the bound as it stands
    when offered (the limit, or the cap-th cheapest complete child kept so far) is dropped."""
    heap, kept, tick, out = [], [], itertools.count(), []

    def bound():
        return min(limit, -kept[0]) if cap is not None and len(kept) >= cap else limit

    for b, (batch, n) in enumerate(zip(batches, pops, strict=True)):
        for i, (f, done) in enumerate(batch):
            if f > bound():
                continue
            if done and cap is not None:
                heapq.heappush(kept, -f)
                if len(kept) > cap:
                    heapq.heappop(kept)
            heapq.heappush(heap, (f, next(tick), done, (b, i)))
        for _ in range(n):
            if heap:
                out.append(heapq.heappop(heap))
    while heap:
        out.append(heapq.heappop(heap))
    return out


def _popped(batches, pops, limit, cap):
    front, out, tags = Frontier(limit, cap), [], []
    for b, (batch, n) in enumerate(zip(batches, pops, strict=True)):
        keys = np.array([f for f, _ in batch], dtype=float)
        done = np.array([d for _, d in batch], dtype=bool)
        figures = np.zeros((len(batch), 5))
        figures[:, 0] = np.arange(len(batch))  # the child's position comes back in its figures
        front.offer(keys, done, figures, [b] * len(batch), (), list(range(len(batch))), 0, [0] * len(batch))
        for _ in range(n):
            if front:
                tags.append(front.peek())
                out.append(front.pop())
    while front:
        tags.append(front.peek())
        out.append(front.pop())
    return out, tags


@settings(max_examples=300, deadline=None)
@given(case=offers(), limit=st.sampled_from([math.inf, 2.0, 1.0]), cap=st.sampled_from([None, 1, 2]))
def test_the_frontier_pops_in_one_heaps_order_until_the_cap_is_reached(case, limit, cap):
    batches, pops = case
    want = _reference(batches, pops, limit, cap)
    got, peeked = _popped(batches, pops, limit, cap)
    # what a search reads: the pops up to the cap-th complete one (the cheaper ones come first; after it the
    # search stops, and the old heap held children the cap had not pruned yet)
    upto = len(want)
    if cap is not None:
        done = [i for i, w in enumerate(want) if w[2]]
        upto = done[cap - 1] + 1 if len(done) >= cap else len(want)
    assert [(f, d) for f, d, _ in got[:upto]] == [(w[0], w[2]) for w in want[:upto]]
    assert [(p.server, int(p.secs)) for _, _, p in got[:upto]] == [w[3] for w in want[:upto]]
    assert peeked == [(f, d) for f, d, _ in got]
    assert all(f <= limit for f, _, _ in got)

