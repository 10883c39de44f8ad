"""The plan checker: every rule of docs/model.md §3, independent of every solver.

`check` lists each violation with its rule, the path of the offending part of
the plan and a message naming the node or unit. Figures (memory, links needed
for delivery) come from the one cost model, so checker and solvers cannot
disagree on what a member needs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from gaisnet_opt.cost import cluster_cost, resolve_server, round_cost
from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.scenario import Scenario

RULES: dict[str, str] = {
    "unknown-node": "every member and server names a node of the scenario",
    "unit-range": "unit indices lie within the profile",
    "start-point": "a fine-tuning chain starts at a data source, an inference chain at a requesting client",
    "embed-head": "embed sits on the start point, head on the end point",
    "nonempty": "every member holds at least one unit",
    "cover": "the members' ranges cover all units in order, without gap or overlap",
    "link": "consecutive members are linked in each direction data crosses (a fine-tuning batch's labels go with the smashed data)",
    "return-link": "an inference chain's end point reaches its start point",
    "server-link": "members receiving or uploading tunable modules reach the cluster's edge server",
    "one-cluster": "a client is in at most one cluster, once",
    "slots": "an edge server joins at most `slots` chains",
    "memory": "each member's memory holds its load",
    "cluster-count": "the number of fine-tuning clusters is within the service's range",
    "deadline": "the round finishes by the deadline",
}


@dataclass(frozen=True)
class Violation:
    """A broken rule, where in the plan, and why."""

    rule: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.path}: {self.message}"


STRUCTURAL_RULES = frozenset({"unknown-node", "unit-range", "cover", "nonempty"})
"""A cluster breaking one of these cannot be costed: its resources and the round's deadline go unchecked."""


def deadline_for(scenario: Scenario, deadline_s: float | None = None) -> float | None:
    """The binding deadline: the tighter of `deadline_s` (an objective's) and the fine-tuning service's."""
    service = scenario.finetune.deadline_s if scenario.finetune is not None else None
    given = [d for d in (deadline_s, service) if d is not None]
    return min(given) if given else None


def check(scenario: Scenario, plan: Plan, deadline_s: float | None = None, skip: Collection[str] = ()) -> list[Violation]:
    """Every violated rule of docs/model.md §3 (empty: the plan is feasible), less the rules named in `skip`.

    The deadline is the tighter of `deadline_s` and the fine-tuning service's.
    `skip` serves partial plans, e.g. one chain's split (`{"cluster-count"}`).
    """
    out: list[Violation] = []
    costable = True
    for ci, cluster in enumerate(plan.clusters):
        found = _structure(scenario, cluster, f"clusters[{ci}]")
        out += found
        if any(v.rule in STRUCTURAL_RULES for v in found):
            costable = False
        else:
            out += _resources(scenario, cluster, f"clusters[{ci}]")
    out += _membership(scenario, plan)
    out += _service(scenario, plan, deadline_for(scenario, deadline_s), costable)
    return [v for v in out if v.rule not in skip]


def _structure(s: Scenario, cluster: Cluster, where: str) -> list[Violation]:
    out: list[Violation] = []
    n = s.profile.n_units
    for mi, m in enumerate(cluster.members):
        at = f"{where}.members[{mi}]"
        if m.node not in s.node:
            out.append(Violation("unknown-node", f"{at}.node", f"unknown node '{m.node}'"))
        for end in ("first", "last"):
            if getattr(m, end) >= n:
                out.append(Violation("unit-range", f"{at}.{end}", f"unit {getattr(m, end)} out of range: the profile has units 0..{n - 1}"))
        if m.n_units == 0:
            out.append(Violation("nonempty", at, f"{m.node} holds no unit (first {m.first} > last {m.last})"))
    if cluster.server is not None and (cluster.server not in s.node or s.node[cluster.server].kind != "edge"):
        out.append(Violation("unknown-node", f"{where}.server", f"'{cluster.server}' is not an edge server of the scenario"))
    if out:
        return out
    first, last = cluster.members[0], cluster.members[-1]
    if first.first != 0:
        out.append(Violation("embed-head", f"{where}.members[0]", f"embed (unit 0) must sit on start point {first.node}, which starts at unit {first.first}"))
    if last.last != n - 1:
        out.append(Violation("embed-head", f"{where}.members[{len(cluster.members) - 1}]", f"head (unit {n - 1}) must sit on end point {last.node}, which ends at unit {last.last}"))
    for mi, (a, b) in enumerate(zip(cluster.members, cluster.members[1:]), start=1):
        if b.first != a.last + 1:
            gap = "overlaps" if b.first <= a.last else "leaves a gap after"
            out.append(Violation("cover", f"{where}.members[{mi}].first", f"{b.node} starts at unit {b.first} and {gap} {a.node}'s last unit {a.last}"))
    start = s.node[first.node]
    if cluster.kind == "finetune" and start.data is None:
        out.append(Violation("start-point", f"{where}.members[0].node", f"fine-tuning start point {start.id} is not a data source"))
    if cluster.kind == "inference" and start.request is None:
        out.append(Violation("start-point", f"{where}.members[0].node", f"inference start point {start.id} raised no request"))
    return out


def _resources(s: Scenario, cluster: Cluster, where: str) -> list[Violation]:
    """Links, delivery links and memory, read off the cost model's figures."""
    out: list[Violation] = []
    cost = cluster_cost(s, cluster)
    for hi, hop in enumerate(cost.hops, start=1):
        forward = "forward hop (smashed data and the batch's labels)" if hop.label_bytes else "forward hop"
        for what, secs, src, dst in ((forward, hop.fwd_s, hop.src, hop.dst), ("backward hop", hop.bwd_s, hop.dst, hop.src)):
            if math.isinf(secs):
                out.append(Violation("link", f"{where}.members[{hi}]", f"no link {src} -> {dst} for the {what}"))
    if cost.return_hop is not None and math.isinf(cost.return_hop.fwd_s):
        out.append(Violation("return-link", where, f"no link {cluster.end} -> {cluster.start} to return the inference result"))
    server = resolve_server(s, cluster)
    for mi, m in enumerate(cost.members):
        at = f"{where}.members[{mi}]"
        if math.isinf(m.delivery_s) or math.isinf(m.upload_s):
            out.append(Violation("server-link", at, f"{m.node} holds tunable units {m.first}..{m.last} but has no link to edge server {server}"))
        if m.memory_bytes > m.memory_capacity_bytes:
            out.append(Violation("memory", at, f"{m.node} needs {m.memory_bytes / 1e9:.3f} GB for units {m.first}..{m.last}, has {m.memory_capacity_bytes / 1e9:.3f} GB"))
    return out


def _membership(s: Scenario, plan: Plan) -> list[Violation]:
    out: list[Violation] = []
    where_client: dict[str, str] = {}
    edge_use: defaultdict[str, list[int]] = defaultdict(list)
    for ci, cluster in enumerate(plan.clusters):
        for node, count in Counter(cluster.chain).items():
            if node in s.node and s.node[node].kind == "edge":
                edge_use[node].append(ci)
                if count > 1:
                    out.append(Violation("one-cluster", f"clusters[{ci}]", f"edge server {node} appears {count} times in one chain"))
        for mi, node in enumerate(cluster.chain):
            if node not in s.node or s.node[node].kind != "client":
                continue
            here = f"clusters[{ci}].members[{mi}]"
            if node in where_client:
                out.append(Violation("one-cluster", here, f"client {node} is already in {where_client[node]}"))
            else:
                where_client[node] = here
    for node, clusters in edge_use.items():
        if len(clusters) > s.node[node].slots:
            out.append(Violation("slots", f"clusters[{clusters[-1]}]", f"edge server {node} joins {len(clusters)} chains, has {s.node[node].slots} slot(s)"))
    return out


def _service(s: Scenario, plan: Plan, deadline: float | None, costable: bool) -> list[Violation]:
    out: list[Violation] = []
    k = sum(c.kind == "finetune" for c in plan.clusters)
    service = s.finetune
    if service is None and k:
        out.append(Violation("cluster-count", "clusters", f"{k} fine-tuning cluster(s) but the scenario requests no fine-tuning service"))
    if service is not None and k < service.min_clusters:
        out.append(Violation("cluster-count", "clusters", f"{k} fine-tuning cluster(s), the service needs at least {service.min_clusters}"))
    if service is not None and service.max_clusters is not None and k > service.max_clusters:
        out.append(Violation("cluster-count", "clusters", f"{k} fine-tuning cluster(s), the service allows at most {service.max_clusters}"))
    if deadline is not None and costable:
        latency = round_cost(s, plan).latency_s
        if math.isfinite(latency) and latency > deadline:  # an infinite latency is a missing link, reported as such
            out.append(Violation("deadline", "clusters", f"the round takes {latency:.3f} s, the deadline is {deadline:.3f} s"))
    return out
