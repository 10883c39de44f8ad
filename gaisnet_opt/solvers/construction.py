"""Constructive heuristics for the joint problem: chains grown from data sources in some order, split by the DP.

Every heuristic serves each inference request first (they must be served),
then forms fine-tuning clusters: `min_clusters` of them for latency, energy
and weighted (more clusters never lower these), as many as fit for
coverage. A chain grows from its start point along free clients (which one
next is the heuristic's `Pick`) until the split DP finds a split that fits
(`grow`). A cluster is served by its start point's default edge server (the
cost model's) unless no chain fits with it. They differ in the order of the
data sources and in the pick:

| name | sources | next client |
| --- | --- | --- |
| `largest-first` | most samples first | fastest link (nearest neighbour) |
| `fastest-first` | best own chain first | fastest link |
| `roomiest-first` | most memory within one hop first, then the slowest cluster grows | most memory × compute |
| `random` | seeded shuffle | seeded choice |

Ties: build order (requests in scenario order, data sources by samples and
id, neighbours by link rate and id), docs/model.md §5.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gaisnet_opt.instances.candidates import server_choices
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator

Pick = Callable[[list[str]], str]
"""Which of the free clients (fastest link first) joins a chain next."""
Heuristic = Callable[[Evaluator, int], list[Evaluated] | None]
"""A constructive heuristic: a complete plan for the evaluator's problem (seeded), or None."""

NEIGHBOURS = 8
"""Free clients a growth step or a local-search move tries per cluster (fastest links to its members first)."""


def nearest(options: list[str]) -> str:
    """The nearest-neighbour rule: the fastest link (options come fastest first)."""
    return options[0]


def grow(ev: Evaluator, kind: ClusterKind, start: str, used: set[str], edge_load: dict[str, int], pick: Pick) -> Evaluated | None:
    """A chain from `start`: add free clients linked to its end (chosen by `pick`) until a split fits.

    The cluster's edge server is also tried as cooperative end node after
    each prefix; the better of the two (by the objective) wins. The server is
    the cost model's default for `start`; only if no chain fits with it are
    the other edge servers tried, in scenario order.
    """
    for server in server_choices(ev.scenario, kind, start, ev.cache):
        found = _grow_served(ev, kind, start, server, used, edge_load, pick)
        if found is not None:
            return found
    return None


def _grow_served(ev: Evaluator, kind: ClusterKind, start: str, server: str | None, used: set[str],
                 edge_load: dict[str, int], pick: Pick) -> Evaluated | None:
    """`grow` with the cluster served by `server`."""
    n_units = ev.scenario.profile.n_units
    chain = [start]
    found = ev.cluster(kind, tuple(chain), server)
    taken = used | {start}
    while found is None and len(chain) < n_units:
        options = ev.free_neighbours(chain[-1], taken)
        if not options:
            break
        chain.append(pick(options))
        taken.add(chain[-1])
        found = ev.cluster(kind, tuple(chain), server)
    if server is not None and edge_load.get(server, 0) < ev.scenario.node[server].slots:
        for length in range(1, min(len(chain), n_units - 1) + 1):
            with_edge = ev.cluster(kind, (*chain[:length], server), server)
            if with_edge is not None:
                if found is None or ev.score([with_edge]) < ev.score([found]):
                    found = with_edge
                break
    return found


@dataclass
class Builder:
    """A plan under construction: clusters, used clients, edge-server load."""

    ev: Evaluator
    clusters: list[Evaluated]
    used: set[str]
    edge_load: dict[str, int]

    @classmethod
    def of(cls, ev: Evaluator, clusters: Iterable[Evaluated] = ()) -> Builder:
        """A builder holding `clusters` (none: an empty plan)."""
        b = cls(ev, [], set(), {})
        for e in clusters:
            b.add(e)
        return b

    def add(self, e: Evaluated) -> None:
        self.clusters.append(e)
        for node in e.cluster.chain:
            if self.ev.scenario.node[node].kind == "edge":
                self.edge_load[node] = self.edge_load.get(node, 0) + 1
            else:
                self.used.add(node)

    def finetune_count(self) -> int:
        return sum(e.cluster.kind == "finetune" for e in self.clusters)


def _target(ev: Evaluator) -> int:
    return ev.max_clusters if ev.objective.kind == "coverage" else ev.min_clusters


def build(ev: Evaluator, sources: list[str], pick: Pick) -> tuple[list[Evaluated], bool]:
    """Requests first, then fine-tuning clusters from `sources` in order until the target count.

    Returns the clusters built and whether they make a complete plan (every
    request served, at least `min_clusters` fine-tuning clusters).
    """
    b = Builder.of(ev)
    complete = True
    for r in ev.requests:
        e = grow(ev, "inference", r, b.used, b.edge_load, pick)
        if e is None:
            complete = False
        else:
            b.add(e)
    for src in sources:
        if b.finetune_count() >= _target(ev):
            break
        if src not in b.used:
            e = grow(ev, "finetune", src, b.used, b.edge_load, pick)
            if e is not None:
                b.add(e)
    return b.clusters, complete and b.finetune_count() >= ev.min_clusters


def _complete(built: tuple[list[Evaluated], bool]) -> list[Evaluated] | None:
    return built[0] if built[1] else None


def largest_first(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Nearest-neighbour chains (fastest free link first) from the largest data sources, split by the DP."""
    return _complete(build(ev, ev.sources, nearest))


def fastest_first(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Nearest-neighbour chains from the data sources whose own chain, grown alone, scores best by the objective
    (fastest, for latency): when the slowest cluster sets the round, the K quickest sources matter more than the
    largest ones."""
    alone = {src: grow(ev, "finetune", src, set(), {}, nearest) for src in ev.sources}

    def rank(src: str) -> tuple[bool, tuple[float, float], str]:
        e = alone[src]
        return e is None, ev.score([e]) if e is not None else (0.0, 0.0), src

    return _complete(build(ev, sorted(ev.sources, key=rank), nearest))


def random_feasible(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Random data sources, random free neighbours: a seeded feasible plan, the baseline to beat."""
    rng = random.Random(seed)
    for _ in range(20):  # a few seeded tries: a random order may strand a request
        sources = list(ev.sources)
        rng.shuffle(sources)
        plan = _complete(build(ev, sources, lambda options: options[rng.randrange(len(options))]))
        if plan is not None:
            return plan
    return None


def roomiest_first(ev: Evaluator, seed: int = 0) -> list[Evaluated] | None:
    """Capacity-balanced: starts with the most memory within one hop, then the slowest cluster grows.

    Data sources are ranked by the memory of themselves and their linked
    clients (more room, shorter chains); after every cluster fits, the
    slowest one takes the free neighbour that lowers its latency most, until
    none does.
    """
    s = ev.scenario
    plan = _complete(build(ev, ev.roomy, lambda options: max(
        options, key=lambda m: (s.node[m].memory_bytes * s.node[m].flops, m))))
    if plan is None:
        return None
    b = Builder.of(ev, plan)
    while True:
        slowest = max(range(len(b.clusters)), key=lambda i: (b.clusters[i].latency_s, -i))
        e = b.clusters[slowest]
        best = None
        for m in ev.free_neighbours(e.cluster.end, b.used)[:NEIGHBOURS]:
            trial = ev.cluster(e.cluster.kind, (*e.cluster.chain, m), e.cluster.server)
            if trial is not None and trial.latency_s < (best or e).latency_s:
                best = trial
        if best is None:
            return b.clusters
        b = Builder.of(ev, [best if j == slowest else old for j, old in enumerate(b.clusters)])


HEURISTICS: dict[str, Heuristic] = {
    "random": random_feasible, "largest-first": largest_first, "roomiest-first": roomiest_first,
    "fastest-first": fastest_first,
}
"""Constructive heuristics by name; `local` is `local_search.local_search` started from the best of these."""
