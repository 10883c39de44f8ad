"""Lower bounds on any chain through each arc of a `JointTable`: shortest paths on each start's layered DAG.

Units only increase along a chain, so a start's segments and hops form a
directed acyclic graph over (node, unit) states, already in topological
order by unit. One forward sweep gives the cheapest way from the start point
to every state and one backward sweep the cheapest way on to the head
(DAG-SHORTEST-PATHS, Cormen, Leiserson, Rivest and Stein, "Introduction to
Algorithms", 3rd ed., §24.2). Seconds and joules are minimized separately,
so each is a lower bound on its own; a segment's delivery and upload join
its seconds, as the slowest member's delivery and upload bound a cluster's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from gaisnet_opt.budget import Budget
from gaisnet_opt.instances.joint_table import JointTable

State = tuple[str, int]
"""(node, unit): a node begins at, or ends with, that unit."""
Cost = tuple[float, float]
"""(seconds, joules), each minimized on its own."""


@dataclass(frozen=True)
class ArcBounds:
    """Per arc, the least seconds (with the segment's own delivery and upload) and joules of any chain through it;
    per start, the least of any whole chain."""

    seg_s: list[float]
    seg_j: list[float]
    hop_s: list[float]
    hop_j: list[float]
    start_s: list[float]
    start_j: list[float]


@dataclass
class _Layers:
    """One start's arcs by unit, with their additive costs (seconds over the round, joules)."""

    seg_cost: dict[int, Cost] = field(default_factory=dict)
    hop_cost: dict[int, Cost] = field(default_factory=dict)
    by_first: defaultdict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_last: defaultdict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_unit: defaultdict[int, list[int]] = field(default_factory=lambda: defaultdict(list))


def _layers(t: JointTable) -> list[_Layers]:
    layers = [_Layers() for _ in t.starts]
    for i, sg in enumerate(t.segs):
        lay = layers[sg.start]
        lay.seg_cost[i] = (t.iterations(sg.start) * sg.iter_s + sg.return_s, sg.energy_j)
        lay.by_first[sg.first].append(i)
        lay.by_last[sg.last].append(i)
    for i, hp in enumerate(t.hops):
        lay = layers[hp.start]
        lay.hop_cost[i] = (t.iterations(hp.start) * hp.iter_s, hp.energy_j)
        lay.by_unit[hp.unit].append(i)
    return layers


def _relax(best: dict[State, Cost], key: State, base: Cost, step: Cost) -> None:
    """Keep the componentwise minimum of the old label and base + step."""
    value = (base[0] + step[0], base[1] + step[1])
    old = best.get(key)
    best[key] = value if old is None else (min(old[0], value[0]), min(old[1], value[1]))


def _forward(t: JointTable, lay: _Layers, start: str) -> tuple[dict[State, Cost], dict[State, Cost]]:
    """From the start point: the least cost to begin at each state, and to end each state's segment."""
    begin: dict[State, Cost] = {(start, 0): (0.0, 0.0)}
    end: dict[State, Cost] = {}
    for j in range(t.n_units):
        for i in lay.by_unit[j - 1]:
            h = t.hops[i]
            if (h.src, j - 1) in end:
                _relax(begin, (h.dst, j), end[(h.src, j - 1)], lay.hop_cost[i])
        for i in lay.by_first[j]:
            sg = t.segs[i]
            if (sg.node, j) in begin:
                _relax(end, (sg.node, sg.last), begin[(sg.node, j)], lay.seg_cost[i])
    return begin, end


def _backward(t: JointTable, lay: _Layers) -> tuple[dict[State, Cost], dict[State, Cost]]:
    """To the head: the least cost on from beginning at each state, and from ending a segment there."""
    n = t.n_units
    end: dict[State, Cost] = {(t.segs[i].node, n - 1): (0.0, 0.0) for i in lay.by_last[n - 1]}
    begin: dict[State, Cost] = {}
    for j in range(n - 1, -1, -1):
        for i in lay.by_unit[j]:
            h = t.hops[i]
            if (h.dst, j + 1) in begin:
                _relax(end, (h.src, j), begin[(h.dst, j + 1)], lay.hop_cost[i])
        for i in lay.by_first[j]:
            sg = t.segs[i]
            if (sg.node, sg.last) in end:
                _relax(begin, (sg.node, j), end[(sg.node, sg.last)], lay.seg_cost[i])
    return begin, end


def arc_bounds(t: JointTable, budget: Budget | None = None) -> ArcBounds:
    """Both sweeps per start, joined at each arc: before it + the arc + after it (`budget` checked per start)."""
    inf = math.inf
    out = ArcBounds([inf] * len(t.segs), [inf] * len(t.segs), [inf] * len(t.hops), [inf] * len(t.hops),
                    [inf] * len(t.starts), [inf] * len(t.starts))
    for s, lay in enumerate(_layers(t)):
        if budget is not None:
            budget.check()
        f_begin, f_end = _forward(t, lay, t.starts[s].node)
        b_begin, b_end = _backward(t, lay)
        for i, (secs, joules) in lay.seg_cost.items():
            sg = t.segs[i]
            fb, be = f_begin.get((sg.node, sg.first)), b_end.get((sg.node, sg.last))
            if fb is not None and be is not None:
                out.seg_s[i] = fb[0] + secs + be[0] + sg.delivery_s + sg.upload_s
                out.seg_j[i] = fb[1] + joules + be[1]
                if sg.first == 0:
                    out.start_s[s], out.start_j[s] = min(out.start_s[s], out.seg_s[i]), min(out.start_j[s], out.seg_j[i])
        for i, (secs, joules) in lay.hop_cost.items():
            h = t.hops[i]
            fe, bb = f_end.get((h.src, h.unit)), b_begin.get((h.dst, h.unit + 1))
            if fe is not None and bb is not None:
                out.hop_s[i] = fe[0] + secs + bb[0]
                out.hop_j[i] = fe[1] + joules + bb[1]
    return out
