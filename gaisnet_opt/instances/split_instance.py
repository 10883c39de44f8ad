"""One chain and one objective over a `SplitTable`: the arcs every exact split method optimizes over.

A split of a chain is a path of segments and hops (docs/model.md §7.2);
`SplitInstance` lists those arcs with their figures priced by one
objective's weights, and applies the chain's position rules (embed on the
start point, head on the end point). The DP walks them, and the split model
(`formulations.split_model`) states them as rows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypeVar

from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.plan import Cluster, Member
from gaisnet_opt.result import Objective

DEADLINE_MARGIN = 1e-9
"""Relative margin under a deadline: solver tolerances and summation order never pass a plan the checker rejects."""
T = TypeVar("T")


@dataclass(frozen=True)
class Weights:
    """How an objective prices a plan: `time`·latency + `energy`·joules, or the slowest stage (`bottleneck`)."""

    form: Literal["sum", "bottleneck"]
    time: float = 0.0
    energy: float = 0.0

    @classmethod
    def of(cls, objective: Objective) -> Weights:
        match objective.kind:
            case "latency":
                return cls("sum", 1.0, 0.0)
            case "energy":
                return cls("sum", 0.0, 1.0)
            case "weighted":
                return cls("sum", objective.alpha, objective.beta)
            case "bottleneck":
                return cls("bottleneck")
        raise ValueError(f"objective '{objective.kind}' does not depend on the split (it is fixed by the start point)")


@dataclass(frozen=True)
class Seg:
    """Chain member `m` holding units first..last.

    Priced by the objective: additive `cost`, weighted delivery/upload seconds
    `dl`/`ul`, `stage` seconds. Raw seconds for a latency deadline: `time`
    (compute over all iterations), `dl_s`, `ul_s`.
    """

    m: int
    first: int
    last: int
    cost: float
    dl: float
    ul: float
    stage: float
    time: float
    dl_s: float
    ul_s: float


@dataclass(frozen=True)
class Hop:
    """Member `a` hands unit `u`'s output to member `b` (skipping those between).

    Additive `cost`, `stage` seconds per iteration, `time` seconds over all iterations.
    """

    a: int
    b: int
    u: int
    cost: float
    stage: float
    time: float


def _grouped(items: Iterable[T], key: Callable[[T], tuple[int, int]]) -> dict[tuple[int, int], list[T]]:
    out: defaultdict[tuple[int, int], list[T]] = defaultdict(list)
    for item in items:
        out[key(item)].append(item)
    return out


@dataclass
class SplitInstance:
    """One chain and one objective over a `SplitTable`: the arcs every exact method optimizes over.

    A plan is a path start(0, 0) -seg-> end(m, l+1) -hop-> start(b, l+1) ...
    ending with the end member holding the head. Sum objectives price it
    Σ seg.cost + Σ hop.cost + max seg.dl + max seg.ul + `constant`; the
    bottleneck objective max over members of (seg.stage + outgoing hop.stage),
    the end member's outgoing hop being the inference result's return
    (`return_s` seconds). With `deadline_s`, the cluster's latency
    max seg.dl_s + max seg.ul_s + Σ seg.time + Σ hop.time + return_s must not
    exceed it, less `DEADLINE_MARGIN` (see `latency_cap`).
    """

    table: SplitTable
    chain: list[str]
    weights: Weights
    segs: list[Seg]
    hops: list[Hop]
    constant: float
    return_s: float
    deadline_s: float | None = None

    @classmethod
    def build(cls, table: SplitTable, chain: list[str], objective: Objective, deadline_s: float | None = None) -> SplitInstance:
        """Read the arcs of `chain` off `table` (invalid segments and missing links are left out).

        `deadline_s` bounds the cluster's latency (None: no bound); the
        objective's own `deadline_s` is the caller's to pass, as `solve_split` does.
        """
        w = Weights.of(objective)
        n, k = table.n_units, len(chain)
        it = table.iterations
        segs: list[Seg] = []
        for m, node in enumerate(chain):
            t = table.segments(node)
            firsts = [0] if m == 0 else range(1, n)
            for f in firsts:
                lasts = [n - 1] if m == k - 1 else range(f, n - 1)
                for l in lasts:
                    if l < f or not t.ok[f][l]:
                        continue
                    dl_s, ul_s = t.delivery_s[f][l], t.upload_s[f][l]
                    segs.append(Seg(
                        m, f, l, cost=w.time * it * t.iter_s[f][l] + w.energy * t.energy_j[f][l],
                        dl=w.time * dl_s, ul=w.time * ul_s, stage=t.iter_s[f][l], time=it * t.iter_s[f][l],
                        dl_s=dl_s, ul_s=ul_s,
                    ))
        hops: list[Hop] = []
        for a in range(k - 1):
            for b in range(a + 1, k):
                row = table.hops(chain[a], chain[b])
                for u in range(n - 1):
                    if row.ok(u):
                        hops.append(Hop(
                            a, b, u, cost=w.time * it * row.iter_s[u] + w.energy * row.energy_j[u],
                            stage=row.iter_s[u], time=it * row.iter_s[u],
                        ))
        ret_s, ret_j = table.return_hop(chain[-1], chain[0])
        if not math.isfinite(ret_s):  # rule return-link: the end point cannot send the result back
            segs, ret_s, ret_j = [s for s in segs if s.m != k - 1], 0.0, 0.0
        return cls(table, chain, w, segs, hops, w.time * ret_s + w.energy * ret_j, ret_s, deadline_s)

    @property
    def latency_cap(self) -> float | None:
        """The latency every exact method keeps to: the deadline less DEADLINE_MARGIN·max(deadline, 1 s)."""
        if self.deadline_s is None:
            return None
        return self.deadline_s - DEADLINE_MARGIN * max(self.deadline_s, 1.0)

    @property
    def n_units(self) -> int:
        return self.table.n_units

    @property
    def n_members(self) -> int:
        return len(self.chain)

    @cached_property
    def segs_from(self) -> dict[tuple[int, int], list[Seg]]:
        """Segments by (member, first unit), in increasing last unit."""
        return _grouped(self.segs, lambda s: (s.m, s.first))

    @cached_property
    def hops_from(self) -> dict[tuple[int, int], list[Hop]]:
        """Hops by (sending member, last unit sent), in increasing receiving member."""
        return _grouped(self.hops, lambda h: (h.a, h.u))

    def members(self, segs: list[Seg]) -> tuple[Member, ...]:
        """The plan's members for a path's segments."""
        return tuple(Member(node=self.chain[s.m], first=s.first, last=s.last) for s in sorted(segs, key=lambda s: s.m))

    def cluster(self, segs: list[Seg]) -> Cluster:
        """The cluster of a path, with its edge server made explicit (skipped members must not change it)."""
        return Cluster(kind=self.table.kind, members=self.members(segs), server=self.table.server)
