"""Split heuristics: each gives every chain member a unit count; `split.solve_split` evaluates them.

`uniform` (equal counts), `proportional` (counts in proportion to compute,
the paper's split), `memory-fill` (each member filled to its memory in chain
order) and `balance-by-flops` (torchgpipe's block partition of the units'
FLOPs). All four use every member of the chain (none is skipped), so they
need at least as many units as members. They never call the cost model
themselves: one evaluation path (plan -> checker -> cost model) judges them all.
"""

from __future__ import annotations

from collections.abc import Callable

from gaisnet_opt.cost import effective_flops
from gaisnet_opt.instances.split_table import SplitTable

Heuristic = Callable[[SplitTable, list[str]], list[int]]


class NoSplit(ValueError):
    """The heuristic cannot produce counts for this chain (the message says why)."""


def _work(table: SplitTable) -> list[float]:
    """Per-sample FLOPs of each unit in one pass: forward and backward for fine-tuning, forward for inference."""
    units = table.scenario.profile.units
    return [u.fwd_flops + (u.bwd_flops if table.kind == "finetune" else 0.0) for u in units]


def _need_enough_units(table: SplitTable, chain: list[str]) -> None:
    if len(chain) > table.n_units:
        raise NoSplit(f"the chain has {len(chain)} members but the model only {table.n_units} units; heuristics use every member")


def uniform_counts(n_units: int, n_members: int) -> list[int]:
    """Units per member, as equal as possible, the earlier members taking the remainder."""
    base, extra = divmod(n_units, n_members)
    return [base + (i < extra) for i in range(n_members)]


def uniform(table: SplitTable, chain: list[str]) -> list[int]:
    """Equal unit counts; the first n mod K members take one extra unit."""
    _need_enough_units(table, chain)
    return uniform_counts(table.n_units, len(chain))


def proportional(table: SplitTable, chain: list[str]) -> list[int]:
    """Unit counts in proportion to each member's compute (largest remainder, at least one each).

    The paper's "equal proportion to resources" split. Remainder ties go to the earlier member.
    """
    _need_enough_units(table, chain)
    n, k = table.n_units, len(chain)
    flops = [effective_flops(table.scenario.node[c]) for c in chain]
    spare = n - k  # one unit each first, the rest in proportion
    shares = [spare * f / sum(flops) for f in flops]
    counts = [1 + int(s) for s in shares]
    order = sorted(range(k), key=lambda i: (-(shares[i] - int(shares[i])), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def memory_fill(table: SplitTable, chain: list[str]) -> list[int]:
    """Fill each member, in chain order, with as many units as its memory holds; the end point takes the rest.

    Every later member keeps at least one unit. The end point may overflow: the checker then names it.
    """
    _need_enough_units(table, chain)
    n, k = table.n_units, len(chain)
    counts, first = [], 0
    for i, node in enumerate(chain[:-1]):
        seg = table.segments(node)
        last = first
        while last + 1 <= n - 1 - (k - 1 - i) and seg.memory_bytes[first][last + 1] <= seg.capacity_bytes:
            last += 1
        counts.append(last - first + 1)
        first = last + 1
    return [*counts, n - first]


def balance_by_flops(table: SplitTable, chain: list[str]) -> list[int]:
    """Block partition of the units' compute into K contiguous blocks, as torchgpipe balances GPUs.

    torchgpipe's `balance_by_time` partitions measured times; this partitions
    each unit's FLOPs per sample (`_work`), the cost model's proxy for them.
    Follows torchgpipe's `balance/blockpartition.py` (kakaobrain/torchgpipe), which
    implements Bárány and Grinberg, "Block partitions of sequences" (Israel J. Math.
    2015, arXiv:1308.2452): normalise the sequence to [0, 1], start from equal
    counts, and move one element at a time towards a minimal block from its
    neighbour on the side of a maximal block until max <= min + 1. Ties as in
    torchgpipe: the maximal block of highest index, the minimal of lowest. Like
    torchgpipe it assumes identical devices (compare `proportional`). A member
    left without a unit makes the heuristic give up.
    """
    _need_enough_units(table, chain)
    work, k = _work(table), len(chain)
    n = len(work)
    lo, span = min(work), max(work) - min(work)
    norm = [(x - lo) / span if span else 0.0 for x in work]
    cuts = [n // k * (i + 1) for i in range(k - 1)] + [n]  # cuts[i]: end (exclusive) of block i

    def sizes() -> list[tuple[float, int]]:
        return [(sum(norm[(cuts[i - 1] if i else 0) : cuts[i]]), i) for i in range(k)]

    while True:
        top, p = max(sizes())
        while True:
            low, q = min(sizes())
            if top <= low + 1:
                counts = [c - b for b, c in zip([0, *cuts[:-1]], cuts)]
                if min(counts) < 1:
                    raise NoSplit(f"the block partition leaves {chain[counts.index(min(counts))]} without a unit")
                return counts
            h = q - 1 if p < q else q + 1
            if p < q:
                cuts[h] -= 1  # the last element of B_h joins B_q
            else:
                cuts[q] += 1  # the first element of B_h joins B_q
            if p == h:
                break


HEURISTICS: dict[str, Heuristic] = {
    "uniform": uniform, "proportional": proportional, "memory-fill": memory_fill, "balance-by-flops": balance_by_flops,
}
