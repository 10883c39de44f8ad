"""A caller's plan (a scheduler's last round) as the start of local search and the exact solver's hint.

Scenarios change between rounds, so the plan is taken apart cluster by
cluster: a cluster is kept, re-split by the DP on this scenario, when its
nodes still exist, its start point still starts such a cluster, it shares no
client with a kept cluster, its edge server has a slot, and a split fits
(memory, links, deadline); otherwise it is dropped and said so. Requests
and fine-tuning clusters still missing are grown as `largest-first` grows
them; fine-tuning clusters beyond the service's maximum are dropped.
"""

from __future__ import annotations

from gaisnet_opt.plan import Cluster, Plan
from gaisnet_opt.solvers.construction import Builder, grow, nearest
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator


def from_plan(ev: Evaluator, plan: Plan) -> tuple[list[Evaluated] | None, list[str]]:
    """The plan's clusters that still fit, completed; None when no complete plan results. Notes on each change."""
    b, notes = Builder.of(ev), []
    for i, c in enumerate(plan.clusters):
        why = _unfit(ev, b, c)
        e = ev.cluster(c.kind, tuple(c.chain), c.server) if why is None else None
        if why is None and e is None:
            why = "no split of its chain fits this scenario (memory, links or deadline)"
        if e is None:
            notes.append(f"cluster {i} ({c.start}) dropped: {why}")
            continue
        if c.kind == "finetune" and b.finetune_count() >= ev.max_clusters:
            notes.append(f"cluster {i} ({c.start}) dropped: the service allows {ev.max_clusters} fine-tuning clusters")
            continue
        b.add(e)
    served = {e.cluster.start for e in b.clusters}
    for r in (r for r in ev.requests if r not in served):
        if (e := grow(ev, "inference", r, b.used, b.edge_load, nearest)) is None:
            notes.append(f"the request of {r} could not be served")
            return None, notes
        b.add(e)
        notes.append(f"the request of {r} was added")
    for src in ev.sources:
        if b.finetune_count() >= ev.min_clusters:
            break
        if src not in b.used and (e := grow(ev, "finetune", src, b.used, b.edge_load, nearest)) is not None:
            b.add(e)
            notes.append(f"a fine-tuning cluster from {src} was added")
    if b.finetune_count() < ev.min_clusters:
        notes.append(f"fewer than {ev.min_clusters} fine-tuning clusters could be formed")
        return None, notes
    return b.clusters, notes


def _unfit(ev: Evaluator, b: Builder, c: Cluster) -> str | None:
    """Why cluster `c` cannot be kept beside the clusters already in `b` (None: it may, if a split fits)."""
    nodes = ev.scenario.node
    chain = c.chain
    if any(n not in nodes for n in (*chain, *((c.server,) if c.server else ()))):
        return "it names a node this scenario does not have"
    starts = ev.requests if c.kind == "inference" else ev.sources
    if c.start not in starts:
        return f"{c.start} no longer starts a {c.kind} cluster"
    if any(n in b.used for n in chain if nodes[n].kind == "client"):
        return "it shares a client with a cluster kept before it"
    if any(nodes[n].kind == "edge" and b.edge_load.get(n, 0) >= nodes[n].slots for n in chain):
        return "its edge server has no slot left"
    return None
