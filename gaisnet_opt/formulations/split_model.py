"""The split of one chain as linear rows (docs/model.md §7.2); the MILP and CP-SAT translators read them.

A unit flow from the start point's first segment to the end point's last:
x[s] = 1 when segment s (member, first, last) is used, w[h] = 1 when hop h
(sender, receiver, last unit sent) is. Groups:

- flow: one segment holds unit 0 on the start point, one holds the head on
  the end point, and a member ending at u < head hands on by exactly one
  hop, one starting at j > 0 takes over by exactly one (so inner members
  may be skipped).
- delivery / upload: the objective's maxima, dl >= each member's weighted
  delivery, ul likewise (a member uses at most one segment, so one row per
  member is exact); bottleneck: z >= each member's stage plus its outgoing
  hop (the end point's being the inference result's return).
- deadline: the cluster's latency in raw seconds, its maxima as for the
  objective (deadline-delivery, deadline-upload), at most the latency cap.

Coefficients are the `SplitInstance`'s, read from the cost-model table.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from gaisnet_opt.formulations.rows import ExactRun, LinearModel, Rounding, Terms
from gaisnet_opt.instances.split_instance import Seg, SplitInstance

COSTED = frozenset({"delivery", "upload", "bottleneck", "deadline", "deadline-delivery", "deadline-upload"})
"""Groups whose coefficients are seconds or joules; `flow` holds 0/±1 counts."""


@dataclass(frozen=True)
class SplitModel:
    """The rows of one split and the segment each of the first variables stands for."""

    inst: SplitInstance
    rows: LinearModel

    def segments(self, run: ExactRun) -> list[Seg]:
        """The incumbent's segments."""
        return [self.inst.segs[i] for i in run.ones(range(len(self.inst.segs)))]


def _member_arcs(inst: SplitInstance) -> list[tuple[int, list[int], list[int]]]:
    """Per member: its segment variables and the hop variables it sends."""
    of_member: defaultdict[int, list[int]] = defaultdict(list)
    sent_by: defaultdict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(inst.segs):
        of_member[s.m].append(i)
    for i, h in enumerate(inst.hops):
        sent_by[h.a].append(len(inst.segs) + i)
    return [(m, of_member[m], sent_by.get(m, [])) for m in sorted(of_member)]


def _flow_rows(inst: SplitInstance, rows: LinearModel) -> None:
    n, n_segs = inst.n_units, len(inst.segs)
    starts, ends = defaultdict(list), defaultdict(list)
    sends, receives = defaultdict(list), defaultdict(list)
    for i, s in enumerate(inst.segs):
        starts[(s.m, s.first)].append(i)
        ends[(s.m, s.last)].append(i)
    for i, h in enumerate(inst.hops):
        sends[(h.a, h.u)].append(n_segs + i)
        receives[(h.b, h.u + 1)].append(n_segs + i)
    rows.add("flow", [(i, 1.0) for i in starts.get((0, 0), [])], 1.0, 1.0)
    rows.add("flow", [(i, 1.0) for i in ends.get((inst.n_members - 1, n - 1), [])], 1.0, 1.0)
    # a member ending at unit u < n-1 hands on to exactly one later member, and
    # one starting at unit j > 0 takes over from exactly one earlier member
    for segs, hops, keep in ((ends, sends, lambda u: u < n - 1), (starts, receives, lambda j: j > 0)):
        for key in sorted(set(segs) | set(hops)):
            if keep(key[1]):
                rows.add("flow", [(i, 1.0) for i in segs.get(key, [])] + [(v, -1.0) for v in hops.get(key, [])], 0.0, 0.0)


def _maxima(rows: LinearModel, group: str, name: str, figures: list[float],
            members: list[tuple[int, list[int], list[int]]]) -> int:
    """An auxiliary >= each member's figure (its one segment's), for a maximum over members."""
    aux = rows.add_var(name, False, max(figures, default=0.0))
    for _, seg_ids, _ in members:
        rows.add(group, [(i, figures[i]) for i in seg_ids] + [(aux, -1.0)], None, 0.0)
    return aux


def formulate_split(inst: SplitInstance) -> SplitModel:
    """The rows of `inst` for its objective's form (sum or bottleneck) and its latency cap."""
    segs, hops, k = inst.segs, inst.hops, inst.n_members
    rows = LinearModel(costed=COSTED)
    for s in segs:
        rows.add_var(f"x[{s.m},{s.first},{s.last}]", True, 1.0)
    for h in hops:
        rows.add_var(f"w[{h.a},{h.b},{h.u}]", True, 1.0)
    _flow_rows(inst, rows)
    members = _member_arcs(inst)
    hop_of = lambda v: hops[v - len(segs)]
    if inst.weights.form == "bottleneck":
        top = sum(s.stage for s in segs) + sum(h.stage for h in hops) + inst.return_s
        z = rows.add_var("z", False, top)
        for m, seg_ids, sent in members:
            terms: Terms = [(i, segs[i].stage) for i in seg_ids] + [(v, hop_of(v).stage) for v in sent]
            rows.add("bottleneck", [*terms, (z, -1.0)], None, -(inst.return_s if m == k - 1 else 0.0))
        rows.goal = [(z, 1.0)]
        goal_terms = 3  # the binding member's segment, its hop, the return
    else:
        dl = _maxima(rows, "delivery", "dl", [s.dl for s in segs], members)
        ul = _maxima(rows, "upload", "ul", [s.ul for s in segs], members)
        rows.goal = [(i, s.cost) for i, s in enumerate(segs)] + [(len(segs) + i, h.cost) for i, h in enumerate(hops)]
        rows.goal += [(dl, 1.0), (ul, 1.0)]
        rows.goal_constant = inst.constant
        goal_terms = 2 * min(k, inst.n_units) + 2  # segments, hops, the two maxima, the constant
    if inst.latency_cap is not None:
        dl_s = _maxima(rows, "deadline-delivery", "dl_s", [s.dl_s for s in segs], members)
        ul_s = _maxima(rows, "deadline-upload", "ul_s", [s.ul_s for s in segs], members)
        terms = [(i, s.time) for i, s in enumerate(segs)] + [(len(segs) + i, h.time) for i, h in enumerate(hops)]
        rows.add("deadline", [*terms, (dl_s, 1.0), (ul_s, 1.0)], None, inst.latency_cap - inst.return_s)
    rows.rounding = Rounding(chain_terms=2 * min(k, inst.n_units) + 1, chains=1, goal_terms=goal_terms)
    return SplitModel(inst, rows)
