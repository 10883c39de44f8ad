"""Exact split by dynamic programming: a label-setting shortest path over (next unit, member).

States alternate between "member b starts at unit j" and "member a holds
unit j-1 and hands on"; segment arcs join the first to the second, hop arcs
(possibly skipping inner members whose neighbours are linked) the second to
the first, so the number of blocks is a decision. Arc weights are the
`SplitInstance`'s, read from the cost-model table.

The latency objective is not additive: delivery and upload are maxima over
members. Labels therefore carry (cost, max delivery, max upload), and a label
A is dropped only when it cannot beat another B whatever the rest of the path:
B.cost + (B.dl - A.dl)⁺ + (B.ul - A.ul)⁺ <= A.cost. This keeps the DP exact for
the cost model's value. The bottleneck objective carries (closed stages'
maximum, the open stage's seconds). Ties: arcs are explored in chain order,
then by increasing last unit, and a label only replaces strictly better ones,
so among equal plans the first found in that order wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaisnet_opt.solvers.split_table import Seg, SplitInstance

# A label: (key0, key1, key2, previous label, segment taken or None).
# sum objectives: (cost, weighted max delivery, weighted max upload); bottleneck: (closed max, open stage, 0).
Label = tuple


@dataclass(frozen=True)
class DPSolution:
    """The optimal path's segments and its value by the instance's weights (the cost model re-evaluates it)."""

    segs: list[Seg]
    value: float


def _sum_dominated(new: Label, old: Label) -> bool:
    """`new` is no better than `old` for every completion."""
    return old[0] + max(old[1] - new[1], 0.0) + max(old[2] - new[2], 0.0) <= new[0]


def _max_dominated(new: Label, old: Label) -> bool:
    return old[0] <= new[0] and old[1] <= new[1]


def _insert(labels: list[Label], new: Label, dominated) -> None:
    for old in labels:
        if dominated(new, old):
            return
    labels[:] = [old for old in labels if not dominated(old, new)]
    labels.append(new)


def split_dp(inst: SplitInstance) -> DPSolution | None:
    """The optimal split of `inst`, or None when no path exists (see `split.diagnose` for why)."""
    n, k = inst.n_units, inst.n_members
    bottleneck = inst.weights.form == "bottleneck"
    dominated = _max_dominated if bottleneck else _sum_dominated
    starts: dict[tuple[int, int], list[Label]] = {(0, 0): [(0.0, 0.0, 0.0, None, None)]}
    ends: dict[tuple[int, int], list[Label]] = {}
    segs_from, hops_from = inst.segs_from, inst.hops_from
    for j in range(n):
        if j > 0:  # hand unit j-1's output on to a later member
            for a in range(k - 1):
                labels = ends.get((a, j))
                if not labels:
                    continue
                for h in hops_from.get((a, j - 1), ()):
                    bucket = starts.setdefault((h.b, j), [])
                    for lab in labels:
                        if bottleneck:
                            new = (max(lab[0], lab[1] + h.stage), 0.0, 0.0, lab, None)
                        else:
                            new = (lab[0] + h.cost, lab[1], lab[2], lab, None)
                        _insert(bucket, new, dominated)
        for b in range(k):
            labels = starts.get((b, j))
            if not labels:
                continue
            for s in segs_from.get((b, j), ()):
                bucket = ends.setdefault((b, s.last + 1), [])
                for lab in labels:
                    if bottleneck:
                        new = (lab[0], s.stage, 0.0, lab, s)
                    else:
                        new = (lab[0] + s.cost, max(lab[1], s.dl), max(lab[2], s.ul), lab, s)
                    _insert(bucket, new, dominated)
    best, best_value = None, 0.0
    for lab in ends.get((k - 1, n), ()):
        value = max(lab[0], lab[1] + inst.return_stage) if bottleneck else lab[0] + lab[1] + lab[2] + inst.constant
        if best is None or value < best_value:
            best, best_value = lab, value
    if best is None:
        return None
    segs: list[Seg] = []
    while best is not None:
        if best[4] is not None:
            segs.append(best[4])
        best = best[3]
    return DPSolution(segs=segs[::-1], value=best_value)
