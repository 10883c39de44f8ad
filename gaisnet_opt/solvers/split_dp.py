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

from gaisnet_opt.instances.split_instance import Hop, Seg, SplitInstance

Label = tuple[float, float, float, float, float, float, "Label | None", Seg | None]
"""(k0, k1, k2, seconds, delivery s, upload s, previous label, segment or None).

Sum objectives: k = (cost, weighted max delivery, weighted max upload); bottleneck:
k = (closed stages' max, open stage, 0). The raw seconds are only compared under a deadline.
"""
Dominates = Callable[[Label, Label], bool]


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


@dataclass(frozen=True)
class _Rules:
    """How labels extend, compare and meet the deadline for one instance."""

    inst: SplitInstance
    bottleneck: bool
    dominates: Dominates
    deadline: float | None

    @classmethod
    def of(cls, inst: SplitInstance) -> _Rules:
        bottleneck = inst.weights.form == "bottleneck"
        objective_dominates = _max_dominates if bottleneck else _sum_dominates
        if inst.latency_cap is None:
            return cls(inst, bottleneck, objective_dominates, None)

        def dominates(old: Label, new: Label) -> bool:
            return objective_dominates(old, new) and _latency_dominates(old, new)

        return cls(inst, bottleneck, dominates, inst.latency_cap)

    def insert(self, labels: list[Label], new: Label) -> None:
        """Add `new` unless it cannot meet the deadline or an old label dominates it; drop those it dominates."""
        if self.deadline is not None and new[3] + new[4] + new[5] + self.inst.return_s > self.deadline:
            return
        for old in labels:
            if self.dominates(old, new):
                return
        labels[:] = [old for old in labels if not self.dominates(new, old)]
        labels.append(new)

    def hand_on(self, lab: Label, h: Hop) -> Label:
        """The label after hop h: the bottleneck closes the sender's stage, sums add the hop's cost."""
        if self.bottleneck:
            return (max(lab[0], lab[1] + h.stage), 0.0, 0.0, lab[3] + h.time, lab[4], lab[5], lab, None)
        return (lab[0] + h.cost, lab[1], lab[2], lab[3] + h.time, lab[4], lab[5], lab, None)

    def hold(self, lab: Label, s: Seg) -> Label:
        """The label after segment s: its stage opens (bottleneck) or its cost and maxima join (sums)."""
        timing = (lab[3] + s.time, max(lab[4], s.dl_s), max(lab[5], s.ul_s), lab, s)
        if self.bottleneck:
            return (lab[0], s.stage, 0.0, *timing)
        return (lab[0] + s.cost, max(lab[1], s.dl), max(lab[2], s.ul), *timing)

    def value(self, lab: Label) -> float:
        """A complete path's objective by the instance's weights."""
        if self.bottleneck:
            return max(lab[0], lab[1] + self.inst.return_s)
        return lab[0] + lab[1] + lab[2] + self.inst.constant


def split_dp(inst: SplitInstance) -> DPSolution | None:
    """The optimal split of `inst`, or None when no path exists (see `split_diagnosis.diagnose` for why)."""
    n, k = inst.n_units, inst.n_members
    rules = _Rules.of(inst)
    starts: dict[tuple[int, int], list[Label]] = {(0, 0): [(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None, None)]}
    ends: dict[tuple[int, int], list[Label]] = {}
    for j in range(n):
        if j > 0:  # hand unit j-1's output on to a later member
            for a in range(k - 1):
                for h in inst.hops_from.get((a, j - 1), ()) if ends.get((a, j)) else ():
                    bucket = starts.setdefault((h.b, j), [])
                    for lab in ends[(a, j)]:
                        rules.insert(bucket, rules.hand_on(lab, h))
        for b in range(k):
            for s in inst.segs_from.get((b, j), ()) if starts.get((b, j)) else ():
                bucket = ends.setdefault((b, s.last + 1), [])
                for lab in starts[(b, j)]:
                    rules.insert(bucket, rules.hold(lab, s))
    return _best(rules, ends.get((k - 1, n), []))


def _best(rules: _Rules, complete: list[Label]) -> DPSolution | None:
    """The first complete label of least value, unwound into its segments."""
    best: Label | None = None
    best_value = 0.0
    for lab in complete:
        value = rules.value(lab)
        if best is None or value < best_value:
            best, best_value = lab, value
    if best is None:
        return None
    segs: list[Seg] = []
    at: Label | None = best
    while at is not None:
        if at[7] is not None:
            segs.append(at[7])
        at = at[6]
    return DPSolution(segs=segs[::-1], value=best_value)
