"""The candidate graph: which nodes may join a cluster, and which edge servers may serve it (docs/model.md §7.1).

The exact models, the relaxation floor, the pre-check and the heuristics all
read a cluster's possible members from here, so "candidate" means the same to
each: nodes reachable from the start point over links, breadth-first, fastest
link first, optionally within `radius` hops and only the first `candidates`
clients (plus the cluster's own edge server).
"""

from __future__ import annotations

from collections import defaultdict, deque

from gaisnet_opt.instances.split_table import SplitTable, TableCache
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Scenario

Adjacency = dict[str, list[tuple[str, float]]]
"""Each node's linked neighbours with the link's rate (bit/s), fastest first."""


def adjacency(scenario: Scenario) -> Adjacency:
    """Client → client D2D links, fastest first (ties by node id), and client ↔ edge server links."""
    adj: defaultdict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), rate in scenario.d2d_rate.items():
        adj[a].append((b, rate))
    for link in scenario.server_links:
        adj[link.client].append((link.server, link.uplink_bps))
        adj[link.server].append((link.client, link.downlink_bps))
    for nbrs in adj.values():
        nbrs.sort(key=lambda t: (-t[1], t[0]))
    return adj


def candidate_members(
    scenario: Scenario, start: str, server: str | None, radius: int | None, candidates: int | None,
    adj_map: Adjacency | None = None,
) -> dict[str, int]:
    """Nodes that may join the cluster of `start`, with their hop distance from it (start first).

    Breadth-first over links, fastest link first; the only edge server allowed
    is the cluster's `server`, which is kept even beyond `candidates`.
    """
    adj = adj_map if adj_map is not None else adjacency(scenario)
    limit = scenario.profile.n_units - 1 if radius is None else min(radius, scenario.profile.n_units - 1)
    dist = {start: 0}
    queue = deque([start])
    clients = 0
    while queue:
        n = queue.popleft()
        if dist[n] >= limit:
            continue
        for m, _ in adj.get(n, ()):
            if m in dist or (scenario.node[m].kind == "edge" and m != server):
                continue
            if scenario.node[m].kind == "client":
                if candidates is not None and clients >= candidates:
                    continue
                clients += 1
            dist[m] = dist[n] + 1
            queue.append(m)
    return dist


def server_choices(scenario: Scenario, kind: ClusterKind, start: str, cache: TableCache | None = None) -> list[str | None]:
    """The edge servers a cluster from `start` may be served by: the cost model's default first, then the rest
    in scenario order (just None in a scenario without edge servers)."""
    default = (cache.for_start(kind, start) if cache else SplitTable.for_chain(scenario, kind, [start])).server
    return [default] + [e.id for e in scenario.edges if e.id != default]
