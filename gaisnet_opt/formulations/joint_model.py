"""The joint model, written once as linear rows grouped by docs/model.md §3's rules; MILP and CP-SAT translate it.

Variables (see `gaisnet_opt.solvers.joint_table`): binary h[i] per segment
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

from gaisnet_opt.result import Objective
from gaisnet_opt.solvers.joint_table import JointTable

COSTED = frozenset({"delivery", "upload", "round-latency", "deadline", "energy-floor"})
"""Groups whose coefficients are seconds or joules (CP-SAT scales them), the rest are 0/±1 counts."""

Terms = list[tuple[int, float]]


@dataclass(frozen=True)
class Row:
    """lo <= Σ coef·x[var] <= hi (None: unbounded on that side)."""

    terms: Terms
    lo: float | None
    hi: float | None


@dataclass
class JointModel:
    """The rows, variables and objective of one joint problem over a `JointTable`."""

    table: JointTable
    objective: Objective
    time_weight: float
    energy_weight: float
    binary: list[bool] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    groups: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    goal: Terms = field(default_factory=list)
    goal_costed: bool = True
    latency: int | None = None

    @property
    def maximize(self) -> bool:
        return self.objective.maximize

    @property
    def n_segs(self) -> int:
        return len(self.table.segs)

    def hop_var(self, j: int) -> int:
        return self.n_segs + j

    def add_var(self, name: str, binary: bool, upper: float) -> int:
        self.binary.append(binary)
        self.upper.append(upper)
        self.names.append(name)
        return len(self.binary) - 1

    def assignment(self, seg_ids: list[int], hop_ids: list[int]) -> list[float]:
        """Every variable's value for a plan given by its arcs (a warm start), auxiliaries at their tightest."""
        x = [0.0] * len(self.binary)
        for i in seg_ids:
            x[i] = 1.0
        for j in hop_ids:
            x[self.hop_var(j)] = 1.0
        lhs = lambda row: sum(c * x[v] for v, c in row.terms)
        for group in ("delivery", "upload"):
            for row in self.groups[group]:
                v = row.terms[-1][0]  # rows are (figures..., -aux) >= 0
                x[v] = max(x[v], lhs(row) + x[v])
        if self.latency is not None:
            for row in self.groups["round-latency"]:
                if row.hi is not None:  # cluster rows (the floor row only bounds Z from below)
                    x[self.latency] = max(x[self.latency], lhs(row) + x[self.latency])
        for row in self.groups["coverage"]:
            v = row.terms[0][0]  # cov[k] - Σ open(s) <= 0
            x[v] = 1.0 if lhs(row) - x[v] < 0 else 0.0
        return x

    def empty_row_broken(self) -> str | None:
        """The rule group of a row without variables that cannot hold (the pruned table left it nothing)."""
        for group, rows in self.groups.items():
            for row in rows:
                if not row.terms and ((row.lo is not None and row.lo > 0) or (row.hi is not None and row.hi < 0)):
                    return group
        return None


def formulate(table: JointTable, objective: Objective, min_clusters: int, max_clusters: int | None,
              deadline_s: float | None, floors: tuple[float, float] = (0.0, 0.0)) -> JointModel:
    """The rows of the joint problem for `objective` (see the module docstring for the groups).

    `floors` are valid lower bounds on the round latency and the energy
    (`joint_table.floors`); stated as rows they lift the LP bound where
    fractional clusters would otherwise share the load.
    """
    kind = objective.kind
    if kind == "bottleneck":
        raise ValueError("the joint solver optimizes latency, energy, weighted or coverage; "
                         "the bottleneck objective is a split-only objective (use `split`)")
    timed = kind in ("latency", "weighted") and (kind == "latency" or objective.alpha > 0)
    tw = objective.alpha if kind == "weighted" and objective.alpha > 0 else 1.0
    ew = objective.beta if kind == "weighted" else 1.0
    m = JointModel(table, objective, time_weight=tw, energy_weight=ew)
    s_segs, s_hops = table.segs, table.hops
    n = table.n_units
    for i, sg in enumerate(s_segs):
        m.add_var(f"h[{table.starts[sg.start].label},{sg.node},{sg.first},{sg.last}]", True, 1.0)
    for j, hp in enumerate(s_hops):
        m.add_var(f"g[{table.starts[hp.start].label},{hp.src},{hp.dst},{hp.unit}]", True, 1.0)

    opens: defaultdict[int, Terms] = defaultdict(list)
    heads: defaultdict[int, Terms] = defaultdict(list)
    ends_at: defaultdict[tuple[int, str, int], Terms] = defaultdict(list)
    begins_at: defaultdict[tuple[int, str, int], Terms] = defaultdict(list)
    of_node: defaultdict[str, Terms] = defaultdict(list)
    of_member: defaultdict[tuple[int, str], list[int]] = defaultdict(list)
    for i, sg in enumerate(s_segs):
        if sg.first == 0:
            opens[sg.start].append((i, 1.0))
        if sg.last == n - 1:
            heads[sg.start].append((i, 1.0))
        else:
            ends_at[(sg.start, sg.node, sg.last)].append((i, 1.0))
        if sg.first > 0:
            begins_at[(sg.start, sg.node, sg.first)].append((i, 1.0))
        of_node[sg.node].append((i, 1.0))
        of_member[(sg.start, sg.node)].append(i)
    sends: defaultdict[tuple[int, str, int], Terms] = defaultdict(list)
    receives: defaultdict[tuple[int, str, int], Terms] = defaultdict(list)
    for j, hp in enumerate(s_hops):
        sends[(hp.start, hp.src, hp.unit)].append((m.hop_var(j), 1.0))
        receives[(hp.start, hp.dst, hp.unit + 1)].append((m.hop_var(j), 1.0))

    G = m.groups
    variants: defaultdict[str, list[int]] = defaultdict(list)  # a start point's starts, one per edge server
    for s, st in enumerate(table.starts):
        variants[st.node].append(s)
        G["embed-head"].append(Row(heads[s] + [(v, -c) for v, c in opens[s]], 0.0, 0.0))
    for node, ss in variants.items():
        required = table.starts[ss[0]].required
        G["start-point"].append(Row([t for s in ss for t in opens[s]], 1.0 if required else None, 1.0))
    for key in sorted(set(ends_at) | set(sends)):  # sorted: the same row order in every process
        G["link"].append(Row(ends_at.get(key, []) + [(v, -1.0) for v, _ in sends.get(key, [])], 0.0, 0.0))
    for key in sorted(set(begins_at) | set(receives)):
        G["cover"].append(Row(receives.get(key, []) + [(v, -1.0) for v, _ in begins_at.get(key, [])], 0.0, 0.0))
    nodes = table.scenario.node
    for node, terms in sorted(of_node.items()):
        if nodes[node].kind == "client":
            G["one-cluster"].append(Row(terms, None, 1.0))
        else:
            G["slots"].append(Row(terms, None, float(nodes[node].slots)))
            for s in range(len(table.starts)):
                per_chain = [(i, 1.0) for i in of_member.get((s, node), [])]
                if len(per_chain) > 1:
                    G["one-cluster"].append(Row(per_chain, None, 1.0))
    finetune = [t for s, st in enumerate(table.starts) if st.kind == "finetune" for t in opens[s]]
    if table.scenario.finetune is not None:
        G["cluster-count"].append(Row(finetune, float(min_clusters), None if max_clusters is None else float(max_clusters)))

    if timed or deadline_s is not None:
        _latency_rows(m, of_member, timed, deadline_s)
    if kind == "coverage":
        m.goal_costed = False
        if objective.coverage_of == "samples":
            m.goal = [(i, float(table.starts[s].samples)) for s in range(len(table.starts))
                      for i, _ in opens[s] if table.starts[s].kind == "finetune"]
        else:
            by_class: defaultdict[int, Terms] = defaultdict(list)
            for s, st in enumerate(table.starts):
                if st.kind == "finetune":
                    for k in st.classes:
                        by_class[k] += opens[s]
            for k, terms in sorted(by_class.items()):
                v = m.add_var(f"cov[{k}]", True, 1.0)
                G["coverage"].append(Row([(v, 1.0)] + [(i, -1.0) for i, _ in terms], None, 0.0))
                m.goal.append((v, 1.0))
        return m
    if timed:
        m.goal.append((m.latency, 1.0))
        if floors[0] > 0 and math.isfinite(floors[0]):
            G["round-latency"].append(Row([(m.latency, 1.0)], tw * floors[0], None))
    if kind in ("energy", "weighted") and ew > 0:
        energy = [(i, ew * sg.energy_j) for i, sg in enumerate(s_segs)]
        energy += [(m.hop_var(j), ew * hp.energy_j) for j, hp in enumerate(s_hops)]
        m.goal += energy
        if floors[1] > 0 and math.isfinite(floors[1]):
            G["energy-floor"].append(Row(energy, ew * floors[1], None))
    return m


def _latency_rows(m: JointModel, of_member: dict[tuple[int, str], list[int]], timed: bool, deadline_s: float | None) -> None:
    """D[s], U[s] and each cluster's latency: bounded by Z (latency objectives) and by the deadline."""
    table, tw, G = m.table, m.time_weight, m.groups
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
        segs = of_start[s]
        if not segs:
            continue
        dl_top = max(tw * table.segs[i].delivery_s for i in segs)
        ul_top = max(tw * table.segs[i].upload_s for i in segs)
        d = m.add_var(f"D[{st.label}]", False, dl_top)
        u = m.add_var(f"U[{st.label}]", False, ul_top)
        for node in st.candidates:
            ids = of_member.get((s, node), [])
            if any(table.segs[i].delivery_s > 0 for i in ids):
                G["delivery"].append(Row([(i, tw * table.segs[i].delivery_s) for i in ids] + [(d, -1.0)], None, 0.0))
            if any(table.segs[i].upload_s > 0 for i in ids):
                G["upload"].append(Row([(i, tw * table.segs[i].upload_s) for i in ids] + [(u, -1.0)], None, 0.0))
        it = table.iterations(s)
        top_seg = max(it * table.segs[i].iter_s + table.segs[i].return_s for i in segs)
        worst = max(worst, dl_top + ul_top + tw * (n * top_seg + (n - 1) * top_hop[s]))
        terms = seg_iter[s] + [(d, 1.0), (u, 1.0)]
        cluster_rows.append(terms)
        if deadline_s is not None:
            G["deadline"].append(Row(terms, None, tw * deadline_s))
    if timed:
        m.latency = m.add_var("Z", False, worst)
        for terms in cluster_rows:
            G["round-latency"].append(Row(terms + [(m.latency, -1.0)], None, 0.0))


@dataclass(frozen=True)
class SolverOptions:
    """What every exact method accepts (docs/model.md §7): limits, parallelism, seed, gap, warm start and log file."""

    time_limit: float | None = None
    threads: int = 1
    seed: int = 0
    rel_gap: float = 1e-6
    log_file: str | None = None
    hint: list[float] | None = None


@dataclass(frozen=True)
class ExactRun:
    """An exact solver's outcome: status, the incumbent's variable values, and its proven bound (objective units)."""

    status: str
    x: list[float] | None
    bound: float | None
    detail: str = ""

    def chosen(self, model: JointModel) -> tuple[list[int], list[int]]:
        """The segment and hop indices set to 1 in the incumbent."""
        assert self.x is not None
        segs = [i for i in range(model.n_segs) if self.x[i] > 0.5]
        hops = [j for j in range(len(model.table.hops)) if self.x[model.hop_var(j)] > 0.5]
        return segs, hops
