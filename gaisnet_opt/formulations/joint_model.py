"""The joint model, written once as linear rows grouped by docs/model.md §3's rules; MILP and CP-SAT translate it.

Variables (see `gaisnet_opt.instances.joint_table`): binary h[i] per segment
(node holds units first..last in the cluster of start s), binary g[j] per hop
(node hands unit u's output to the next member), and per start s the
cluster's delivery and upload maxima D[s], U[s]; Z is the round latency;
cov[k] marks a covered class. With open(s) = Σ h over s's segments at unit 0:

- start-point / embed-head: Σ open(s) <= 1 over the starts of one start
  point (one per edge server; = 1 for an inference request); exactly
  open(s) segments of s hold the head.
- cover / link: a member ending at unit u < head hands on by exactly one hop;
  a member starting at u > 0 received by exactly one hop (flow conservation;
  units increase along a path, so paths are simple and cycle-free).
- one-cluster: a client holds at most one segment over all starts; an edge
  server at most one per chain. slots: an edge server joins at most `slots` chains.
- cluster-count: min <= Σ open(s) over fine-tuning starts <= max.
- memory, link, return-link, server-link: arcs that break them do not exist.
- round-latency: D[s] >= delivery of each member, U[s] likewise; Z >= D[s] +
  U[s] + I·(Σ compute + Σ hops) + return hop. deadline: that sum <= deadline.
  Z and the energy sum are also bounded below by valid floors (round-latency,
  energy-floor), which tighten the LP relaxation.

All time figures are multiplied by `time_weight` (alpha for the weighted
objective) and energy by `energy_weight`, so objective rows share one unit;
rows in `COSTED` groups carry such figures, the others small integers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from gaisnet_opt.budget import Budget
from gaisnet_opt.formulations.rows import ExactRun, LinearModel, Rounding, Terms
from gaisnet_opt.instances.joint_table import JointTable
from gaisnet_opt.result import Objective

COSTED = frozenset({"delivery", "upload", "round-latency", "deadline", "energy-floor"})
"""Groups whose coefficients are seconds or joules (CP-SAT scales them), the rest are 0/±1 counts."""


@dataclass
class JointModel:
    """The rows of one joint problem over a `JointTable`, and how its variables map back to arcs."""

    table: JointTable
    objective: Objective
    time_weight: float
    energy_weight: float
    rows: LinearModel
    latency: int | None = None

    @property
    def n_segs(self) -> int:
        return len(self.table.segs)

    def hop_var(self, j: int) -> int:
        return self.n_segs + j

    def assignment(self, seg_ids: list[int], hop_ids: list[int]) -> list[float]:
        """Every variable's value for a plan given by its arcs (a warm start), auxiliaries at their tightest."""
        x = [0.0] * len(self.rows.binary)
        for i in seg_ids:
            x[i] = 1.0
        for j in hop_ids:
            x[self.hop_var(j)] = 1.0
        groups = self.rows.groups
        lhs = lambda row: sum(c * x[v] for v, c in row.terms)
        for group in ("delivery", "upload"):
            for row in groups[group]:
                v = row.terms[-1][0]  # rows are (figures..., -aux) >= 0
                x[v] = max(x[v], lhs(row) + x[v])
        if self.latency is not None:
            for row in groups["round-latency"]:
                if row.hi is not None:  # cluster rows (the floor row only bounds Z from below)
                    x[self.latency] = max(x[self.latency], lhs(row) + x[self.latency])
        for row in groups["coverage"]:
            v = row.terms[0][0]  # cov[k] - Σ open(s) <= 0
            x[v] = 1.0 if lhs(row) - x[v] < 0 else 0.0
        return x

    def chosen(self, run: ExactRun) -> tuple[list[int], list[int]]:
        """The segment and hop indices set to 1 in the incumbent."""
        hops = run.ones(range(self.n_segs, self.n_segs + len(self.table.hops)))
        return run.ones(range(self.n_segs)), [v - self.n_segs for v in hops]


@dataclass
class _Incidence:
    """Which arcs start, end, hand on or take over where: the index sets the rules sum over."""

    opens: defaultdict[int, Terms] = field(default_factory=lambda: defaultdict(list))
    heads: defaultdict[int, Terms] = field(default_factory=lambda: defaultdict(list))
    ends_at: defaultdict[tuple[int, str, int], Terms] = field(default_factory=lambda: defaultdict(list))
    begins_at: defaultdict[tuple[int, str, int], Terms] = field(default_factory=lambda: defaultdict(list))
    of_node: defaultdict[str, Terms] = field(default_factory=lambda: defaultdict(list))
    of_member: defaultdict[tuple[int, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    sends: defaultdict[tuple[int, str, int], Terms] = field(default_factory=lambda: defaultdict(list))
    receives: defaultdict[tuple[int, str, int], Terms] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def of(cls, m: JointModel) -> _Incidence:
        inc, n = cls(), m.table.n_units
        for i, sg in enumerate(m.table.segs):
            if sg.first == 0:
                inc.opens[sg.start].append((i, 1.0))
            if sg.last == n - 1:
                inc.heads[sg.start].append((i, 1.0))
            else:
                inc.ends_at[(sg.start, sg.node, sg.last)].append((i, 1.0))
            if sg.first > 0:
                inc.begins_at[(sg.start, sg.node, sg.first)].append((i, 1.0))
            inc.of_node[sg.node].append((i, 1.0))
            inc.of_member[(sg.start, sg.node)].append(i)
        for j, hp in enumerate(m.table.hops):
            inc.sends[(hp.start, hp.src, hp.unit)].append((m.hop_var(j), 1.0))
            inc.receives[(hp.start, hp.dst, hp.unit + 1)].append((m.hop_var(j), 1.0))
        return inc


def formulate(table: JointTable, objective: Objective, min_clusters: int, max_clusters: int | None,
              deadline_s: float | None, floors: tuple[float, float] = (0.0, 0.0),
              budget: Budget | None = None) -> JointModel:
    """The rows of the joint problem for `objective` (see the module docstring for the groups).

    `floors` are valid lower bounds on the round latency and the energy
    (`bounds.floor.floors`); stated as rows they lift the LP bound where
    fractional clusters would otherwise share the load. `budget` is checked
    as the rows grow (`OutOfTime`).
    """
    budget = budget or Budget(None)
    kind = objective.kind
    if kind == "bottleneck":
        raise ValueError("the joint solver optimizes latency, energy, weighted or coverage; "
                         "the bottleneck objective is a split-only objective (use `split`)")
    timed = kind in ("latency", "weighted") and (kind == "latency" or objective.alpha > 0)
    tw = objective.alpha if kind == "weighted" and objective.alpha > 0 else 1.0
    ew = objective.beta if kind == "weighted" else 1.0
    m = JointModel(table, objective, tw, ew, LinearModel(maximize=objective.maximize, costed=COSTED))
    for sg in table.segs:
        budget.tick()
        m.rows.add_var(f"h[{table.starts[sg.start].label},{sg.node},{sg.first},{sg.last}]", True, 1.0)
    for hp in table.hops:
        budget.tick()
        m.rows.add_var(f"g[{table.starts[hp.start].label},{hp.src},{hp.dst},{hp.unit}]", True, 1.0)
    inc = _Incidence.of(m)
    budget.check()
    _structure_rows(m, inc, budget)
    _membership_rows(m, inc, budget)
    finetune = [t for s, st in enumerate(table.starts) if st.kind == "finetune" for t in inc.opens[s]]
    if table.scenario.finetune is not None:
        m.rows.add("cluster-count", finetune, float(min_clusters), None if max_clusters is None else float(max_clusters))
    if timed or deadline_s is not None:
        _latency_rows(m, inc.of_member, timed, deadline_s, budget)
    if kind == "coverage":
        _coverage_goal(m, inc)
    else:
        _cost_goal(m, timed, floors)
    per_chain = 2 * table.n_units + 1  # segments, hops, the two maxima
    summed = len(table.starts) if any(m.rows.binary[v] for v, _ in m.rows.goal) else 0  # energy sums every chain
    m.rows.rounding = Rounding(per_chain, len(table.starts), per_chain * (summed + (m.latency is not None)))
    return m


def _structure_rows(m: JointModel, inc: _Incidence, budget: Budget) -> None:
    """start-point, embed-head, link and cover: every open start is one path from its start point to a head."""
    table, add = m.table, m.rows.add
    variants: defaultdict[str, list[int]] = defaultdict(list)  # a start point's starts, one per edge server
    for s, st in enumerate(table.starts):
        variants[st.node].append(s)
        add("embed-head", inc.heads[s] + [(v, -c) for v, c in inc.opens[s]], 0.0, 0.0)
    for ss in variants.values():
        required = table.starts[ss[0]].required
        add("start-point", [t for s in ss for t in inc.opens[s]], 1.0 if required else None, 1.0)
    for key in sorted(set(inc.ends_at) | set(inc.sends)):  # sorted: the same row order in every process
        budget.tick()
        add("link", inc.ends_at.get(key, []) + [(v, -1.0) for v, _ in inc.sends.get(key, [])], 0.0, 0.0)
    for key in sorted(set(inc.begins_at) | set(inc.receives)):
        budget.tick()
        add("cover", inc.receives.get(key, []) + [(v, -1.0) for v, _ in inc.begins_at.get(key, [])], 0.0, 0.0)


def _membership_rows(m: JointModel, inc: _Incidence, budget: Budget) -> None:
    """one-cluster and slots: a client in one chain at most, an edge server once per chain and in `slots` chains."""
    nodes = m.table.scenario.node
    for node, terms in sorted(inc.of_node.items()):
        budget.check()
        if nodes[node].kind == "client":
            m.rows.add("one-cluster", terms, None, 1.0)
            continue
        m.rows.add("slots", terms, None, float(nodes[node].slots))
        for s in range(len(m.table.starts)):
            per_chain = [(i, 1.0) for i in inc.of_member.get((s, node), [])]
            if len(per_chain) > 1:
                m.rows.add("one-cluster", per_chain, None, 1.0)


def _coverage_goal(m: JointModel, inc: _Incidence) -> None:
    """Samples of the open fine-tuning starts, or classes covered (cov[k] <= Σ open over starts with class k)."""
    table, rows = m.table, m.rows
    rows.goal_costed = False
    if m.objective.coverage_of == "samples":
        rows.goal = [(i, float(table.starts[s].samples)) for s in range(len(table.starts))
                     for i, _ in inc.opens[s] if table.starts[s].kind == "finetune"]
        return
    by_class: defaultdict[int, Terms] = defaultdict(list)
    for s, st in enumerate(table.starts):
        if st.kind == "finetune":
            for k in st.classes:
                by_class[k] += inc.opens[s]
    for k, terms in sorted(by_class.items()):
        v = rows.add_var(f"cov[{k}]", True, 1.0)
        rows.add("coverage", [(v, 1.0)] + [(i, -1.0) for i, _ in terms], None, 0.0)
        rows.goal.append((v, 1.0))


def _cost_goal(m: JointModel, timed: bool, floors: tuple[float, float]) -> None:
    """Z (latency, weighted) plus the weighted joules of every arc (energy, weighted), each above its floor."""
    table, rows, tw, ew = m.table, m.rows, m.time_weight, m.energy_weight
    if m.latency is not None:
        rows.goal.append((m.latency, 1.0))
        if floors[0] > 0 and math.isfinite(floors[0]):
            rows.add("round-latency", [(m.latency, 1.0)], tw * floors[0], None)
    if m.objective.kind in ("energy", "weighted") and ew > 0:
        energy = [(i, ew * sg.energy_j) for i, sg in enumerate(table.segs)]
        energy += [(m.hop_var(j), ew * hp.energy_j) for j, hp in enumerate(table.hops)]
        rows.goal += energy
        if floors[1] > 0 and math.isfinite(floors[1]):
            rows.add("energy-floor", energy, ew * floors[1], None)


def _latency_rows(m: JointModel, of_member: dict[tuple[int, str], list[int]], timed: bool, deadline_s: float | None,
                  budget: Budget) -> None:
    """D[s], U[s] and each cluster's latency: bounded by Z (latency objectives) and by the deadline."""
    table, tw, rows = m.table, m.time_weight, m.rows
    n = table.n_units
    seg_iter: defaultdict[int, Terms] = defaultdict(list)
    top_hop: defaultdict[int, float] = defaultdict(float)
    for i, sg in enumerate(table.segs):
        seg_iter[sg.start].append((i, tw * (table.iterations(sg.start) * sg.iter_s + sg.return_s)))
    for j, hp in enumerate(table.hops):
        seg_iter[hp.start].append((m.hop_var(j), tw * table.iterations(hp.start) * hp.iter_s))
        top_hop[hp.start] = max(top_hop[hp.start], table.iterations(hp.start) * hp.iter_s)
    worst = 0.0
    cluster_rows: list[Terms] = []
    of_start: defaultdict[int, list[int]] = defaultdict(list)
    for (s, _), ids in of_member.items():
        of_start[s] += ids
    for s, st in enumerate(table.starts):
        budget.check()
        segs = of_start[s]
        if not segs:
            continue
        dl_top = max(tw * table.segs[i].delivery_s for i in segs)
        ul_top = max(tw * table.segs[i].upload_s for i in segs)
        d = rows.add_var(f"D[{st.label}]", False, dl_top)
        u = rows.add_var(f"U[{st.label}]", False, ul_top)
        for node in st.candidates:
            ids = of_member.get((s, node), [])
            if any(table.segs[i].delivery_s > 0 for i in ids):
                rows.add("delivery", [(i, tw * table.segs[i].delivery_s) for i in ids] + [(d, -1.0)], None, 0.0)
            if any(table.segs[i].upload_s > 0 for i in ids):
                rows.add("upload", [(i, tw * table.segs[i].upload_s) for i in ids] + [(u, -1.0)], None, 0.0)
        it = table.iterations(s)
        top_seg = max(it * table.segs[i].iter_s + table.segs[i].return_s for i in segs)
        worst = max(worst, dl_top + ul_top + tw * (n * top_seg + (n - 1) * top_hop[s]))
        terms = [*seg_iter[s], (d, 1.0), (u, 1.0)]
        cluster_rows.append(terms)
        if deadline_s is not None:
            rows.add("deadline", terms, None, tw * deadline_s)
    if timed:
        m.latency = rows.add_var("Z", False, worst)
        for terms in cluster_rows:
            rows.add("round-latency", [*terms, (m.latency, -1.0)], None, 0.0)
