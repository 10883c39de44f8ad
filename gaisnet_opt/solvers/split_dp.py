"""Exact split by dynamic programming: a label-setting shortest path over (next unit, member).

States alternate between "member b starts at unit j" and "member a holds
unit j-1 and hands on"; segment arcs join the first to the second, hop arcs
(possibly skipping inner members whose neighbours are linked) the second to
the first, so the number of blocks is a decision. Arc weights are the
`SplitInstance`'s, read from the cost-model table.

The latency objective is not additive: delivery and upload are maxima over
members. Labels therefore carry (cost, max delivery, max upload), and a label
N is dropped only when another O is at least as good whatever the rest of the
path: O.cost + (O.dl - N.dl)⁺ + (O.ul - N.ul)⁺ <= N.cost. This keeps the DP
exact for the cost model's value. The bottleneck objective carries (closed
stages' maximum, the open stage's seconds) instead. Under a latency deadline
labels also carry the raw latency (seconds so far, max delivery, max upload):
a label that can no longer meet the deadline is dropped, and dominance must
hold for the latency too. Ties: arcs are explored in chain order, then by
increasing last unit, and a label only replaces strictly better ones, so among
equal plans the first found in that order wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from gaisnet_opt.solvers.split_table import Seg, SplitInstance

Label = tuple
"""(k0, k1, k2, seconds, delivery s, upload s, previous label, segment or None).

Sum objectives: k = (cost, weighted max delivery, weighted max upload); bottleneck:
k = (closed stages' max, open stage, 0). The raw seconds are only compared under a deadline.
"""


@dataclass(frozen=True)
class DPSolution:
    """The optimal path's segments and its value by the instance's weights (the cost model re-evaluates it)."""

    segs: list[Seg]
    value: float


def _sum_dominates(old: Label, new: Label) -> bool:
    return old[0] + max(old[1] - new[1], 0.0) + max(old[2] - new[2], 0.0) <= new[0]


def _max_dominates(old: Label, new: Label) -> bool:
    return old[0] <= new[0] and old[1] <= new[1]


def _latency_dominates(old: Label, new: Label) -> bool:
    return old[3] + max(old[4] - new[4], 0.0) + max(old[5] - new[5], 0.0) <= new[3]


def _insert(labels: list[Label], new: Label, dominates: Callable[[Label, Label], bool]) -> None:
    for old in labels:
        if dominates(old, new):
            return
    labels[:] = [old for old in labels if not dominates(new, old)]
    labels.append(new)


def split_dp(inst: SplitInstance) -> DPSolution | None:
    """The optimal split of `inst`, or None when no path exists (see `split.diagnose` for why)."""
    n, k = inst.n_units, inst.n_members
    bottleneck = inst.weights.form == "bottleneck"
    deadline = inst.latency_cap
    objective_dominates = _max_dominates if bottleneck else _sum_dominates
    if deadline is None:
        dominates = objective_dominates
    else:
        def dominates(old: Label, new: Label) -> bool:
            return objective_dominates(old, new) and _latency_dominates(old, new)

    def fits(lab: Label) -> bool:
        return deadline is None or lab[3] + lab[4] + lab[5] + inst.return_s <= deadline

    starts: dict[tuple[int, int], list[Label]] = {(0, 0): [(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None)]}
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
                            new = (max(lab[0], lab[1] + h.stage), 0.0, 0.0, lab[3] + h.time, lab[4], lab[5], lab, None)
                        else:
                            new = (lab[0] + h.cost, lab[1], lab[2], lab[3] + h.time, lab[4], lab[5], lab, None)
                        if fits(new):
                            _insert(bucket, new, dominates)
        for b in range(k):
            labels = starts.get((b, j))
            if not labels:
                continue
            for s in segs_from.get((b, j), ()):
                bucket = ends.setdefault((b, s.last + 1), [])
                for lab in labels:
                    timing = (lab[3] + s.time, max(lab[4], s.dl_s), max(lab[5], s.ul_s), lab, s)
                    if bottleneck:
                        new = (lab[0], s.stage, 0.0, *timing)
                    else:
                        new = (lab[0] + s.cost, max(lab[1], s.dl), max(lab[2], s.ul), *timing)
                    if fits(new):
                        _insert(bucket, new, dominates)
    best, best_value = None, 0.0
    for lab in ends.get((k - 1, n), ()):
        value = max(lab[0], lab[1] + inst.return_s) if bottleneck else lab[0] + lab[1] + lab[2] + inst.constant
        if best is None or value < best_value:
            best, best_value = lab, value
    if best is None:
        return None
    segs: list[Seg] = []
    while best is not None:
        if best[7] is not None:
            segs.append(best[7])
        best = best[6]
    return DPSolution(segs=segs[::-1], value=best_value)
