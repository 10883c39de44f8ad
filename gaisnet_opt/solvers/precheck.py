"""Fast necessary conditions checked before any solver runs, each naming the resource that binds.

Every test here relaxes the problem (memory summed over everything a start
point reaches, compute on the fastest node), so a failure proves the
scenario infeasible; passing proves nothing, and an exact method may still
prove infeasibility (the solve result then says so plainly).
"""

from __future__ import annotations

from gaisnet_opt.budget import Budget
from gaisnet_opt.cost import batch_samples, effective_flops, member_memory
from gaisnet_opt.instances.candidates import Adjacency, adjacency, candidate_members, server_choices
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Node, Scenario
from gaisnet_opt.solvers.split_diagnosis import gb


def start_problem(scenario: Scenario, kind: ClusterKind, start: str, adj: Adjacency | None = None) -> str | None:
    """Why no `kind` chain from `start` can hold the model, if memory or a single unit already says so, whichever
    edge server serves it (the reason given is the default server's).

    The start's direct neighbours are tried first: when they pass, so does
    everything it reaches, and the breadth-first search is skipped.
    """
    adj = adj if adj is not None else adjacency(scenario)
    reasons = []
    for server in server_choices(scenario, kind, start):
        near = _problem(scenario, kind, start, candidate_members(scenario, start, server, 1, None, adj))
        why = near and _problem(scenario, kind, start, candidate_members(scenario, start, server, None, None, adj))
        if why is None:
            return None
        reasons.append(why)
    return reasons[0]


def _problem(scenario: Scenario, kind: ClusterKind, start: str, members: dict[str, int]) -> str | None:
    n = scenario.profile.n_units
    samples = batch_samples(scenario, kind, start)
    reach = [scenario.node[m] for m in members]
    need = member_memory(scenario, kind, 0, n - 1, samples)
    have = sum(node.memory_bytes for node in reach)
    what = "data source" if kind == "finetune" else "requesting client"
    embed = member_memory(scenario, kind, 0, 0, samples)
    if embed > scenario.node[start].memory_bytes:
        return (f"{what} {start} cannot hold {scenario.profile.units[0].name}, which sits on the start point: "
                f"it needs {gb(embed)}, {start} has {gb(scenario.node[start].memory_bytes)}")
    if have < need:
        return (f"no chain from {what} {start} can hold the model: the memory reachable over links is "
                f"{gb(have)}, {gb(need)} needed")
    biggest = max(reach, key=lambda node: (node.memory_bytes, node.id))
    for u, unit in enumerate(scenario.profile.units):
        alone = member_memory(scenario, kind, u, u, samples)
        if alone > biggest.memory_bytes:
            return (f"no chain from {what} {start} can hold {unit.name}: it alone needs {gb(alone)}, the largest "
                    f"memory reachable is {gb(biggest.memory_bytes)} ({biggest.id})")
    return None


def precheck(scenario: Scenario, min_clusters: int, deadline_s: float | None,
             budget: Budget | None = None, adj: Adjacency | None = None) -> str | None:
    """The first reason the scenario cannot have a plan with `min_clusters` fine-tuning clusters, or None
    (`budget` checked per start point; `adj`: the scenario's adjacency if built already)."""
    budget = budget or Budget(None)
    adj = adj if adj is not None else adjacency(scenario)
    for r in scenario.requesters:
        budget.check()
        why = start_problem(scenario, "inference", r.id, adj)
        if why is not None:
            return f"the inference request of {r.id} cannot be served: {why}"
    k = min_clusters if scenario.finetune is not None else 0
    sources = [n for n in scenario.data_sources if n.request is None]
    if k > len(sources):
        busy = len(scenario.data_sources) - len(sources)
        extra = f" ({busy} more raised inference requests and start their own cluster)" if busy else ""
        return f"K={k} clusters need {k} data sources, {len(sources)} exist{extra}"
    if k:
        problems: dict[str, str | None] = {}
        for n in sources:  # stop as soon as k data sources pass
            budget.check()
            problems[n.id] = start_problem(scenario, "finetune", n.id, adj)
            if sum(why is None for why in problems.values()) >= k:
                break
        able = [n for n, why in problems.items() if why is None]
        if len(able) < k:
            shown = "; ".join(why for why in problems.values() if why is not None)
            return f"K={k} clusters need {k} data sources whose chains can hold the model, {len(able)} can: {shown}"
    if (why := _total_memory(scenario, k)) is not None:
        return why
    return _deadline(scenario, k, deadline_s)


def _requested(node: Node) -> int:
    """Samples of a requester's inference request."""
    return node.request.samples if node.request is not None else 0


def _total_memory(scenario: Scenario, k: int) -> str | None:
    """All clusters' memory against every client's plus every edge server's (once per slot)."""
    n = scenario.profile.n_units
    need = k * member_memory(scenario, "finetune", 0, n - 1, scenario.training.batch_size) if k else 0.0
    need += sum(member_memory(scenario, "inference", 0, n - 1, _requested(r)) for r in scenario.requesters)
    have = sum(node.memory_bytes for node in scenario.nodes)  # an edge server's slots share its memory
    if need > have:
        return (f"{k} fine-tuning and {len(scenario.requesters)} inference cluster(s) need {gb(need)} together, "
                f"the clients and edge servers (per slot) hold {gb(have)}")
    return None


def _deadline(scenario: Scenario, k: int, deadline_s: float | None) -> str | None:
    """Compute alone on the fastest node against the deadline (hops and delivery only add to it)."""
    if deadline_s is None:
        return None
    fastest = max(scenario.nodes, key=lambda node: (effective_flops(node), node.id))
    flops = effective_flops(fastest)
    units = scenario.profile.units
    if k:
        work = scenario.training.local_iters * scenario.training.batch_size * sum(u.fwd_flops + u.bwd_flops for u in units)
        if work / flops > deadline_s:
            return (f"a fine-tuning cluster computes {work:.3g} FLOP per round; even on the fastest node "
                    f"({fastest.id}, {flops:.3g} FLOP/s) that takes {work / flops:.3g} s, the deadline is {deadline_s:.3g} s")
    for r in scenario.requesters:
        work = _requested(r) * sum(u.fwd_flops for u in units)
        if work / flops > deadline_s:
            return (f"the inference request of {r.id} computes {work:.3g} FLOP; even on the fastest node "
                    f"({fastest.id}, {flops:.3g} FLOP/s) that takes {work / flops:.3g} s, the deadline is {deadline_s:.3g} s")
    return None
