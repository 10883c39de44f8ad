"""Iterated local search for the joint problem: first-improvement descent over chain moves, then random kicks.

After Lourenço, Martin and Stützle, "Iterated Local Search", in Handbook of
Metaheuristics (Springer, 2003): descend to a local optimum, perturb it
(regrow one random fine-tuning cluster), descend again, keep the better.
Every move re-splits the changed chains with the split DP (`Evaluator`) and
is taken when it lowers the score (objective, then the tie-break). The moves,
in the order they are tried, slowest cluster first:

- grow: a free client (or the cluster's edge server) joins after the start or replaces a member;
- drop: a member leaves; swap: two neighbours in the chain trade places;
- server: another edge server delivers and aggregates (and takes this one's place in the chain);
- restart: another free data source starts the chain, or the cluster regrows from a fresh source;
- close: a fine-tuning cluster closes (not for coverage);
- trade: a member moves in from another cluster, or two clusters swap clients;
- open: one more fine-tuning cluster (coverage only).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.plan import Cluster
from gaisnet_opt.solvers.construction import NEIGHBOURS, Builder, grow, nearest
from gaisnet_opt.solvers.evaluator import Evaluated, Evaluator

KICKS = 12
"""Perturbations the local search tries after its first local optimum (iterated local search)."""

Changes = dict[int, Evaluated | None]
"""Clusters of the plan replaced (by index), or closed (None)."""


def local_search(ev: Evaluator, plan: list[Evaluated], time_limit_s: float = 10.0, seed: int = 0) -> list[Evaluated]:
    """Descend, then up to `KICKS` times regrow a random fine-tuning cluster and descend again.

    Seeded; stops after `time_limit_s` seconds, or earlier when the
    evaluator's budget runs out (then the result depends on the machine's
    speed, else it does not); the best plan so far is returned either way.
    """
    mine = Budget(time_limit_s, clock=ev.budget.clock) if ev.budget is not None else Budget(time_limit_s)
    over = mine.expired if ev.budget is None else lambda: mine.expired() or (ev.budget is not None and ev.budget.expired())
    rng = random.Random(seed)
    best = current = plan
    try:
        best = current = _descend(ev, plan, over)
        for _ in range(KICKS):
            if over():
                break
            kicked = _kick(ev, current, rng)
            if kicked is None:
                continue
            current = _descend(ev, kicked, over)
            if ev.score(current) < ev.score(best):
                best = current
            else:
                current = best
    except OutOfTime:
        pass  # the call's budget ran out while a move was evaluated: the best plan so far stands
    return best


def _descend(ev: Evaluator, plan: list[Evaluated], over: Callable[[], bool]) -> list[Evaluated]:
    best, best_score = plan, ev.score(plan)
    improved = True
    try:
        while improved and not over():
            improved = False
            for trial in _moves(ev, best):
                if over():
                    break
                score = ev.score(trial)
                if score < best_score:
                    best, best_score, improved = trial, score, True
                    break
    except OutOfTime:
        pass  # the call's budget ran out while a move was evaluated: the best plan so far stands
    return best


def _kick(ev: Evaluator, plan: list[Evaluated], rng: random.Random) -> list[Evaluated] | None:
    """The plan with one random fine-tuning cluster regrown from a random roomy free source along random links."""
    finetune = [i for i, e in enumerate(plan) if e.cluster.kind == "finetune"]
    if not finetune:
        return None
    i = finetune[rng.randrange(len(finetune))]
    others = Builder.of(ev, (e for j, e in enumerate(plan) if j != i))
    free = [src for src in ev.roomy if src not in others.used][:4 * NEIGHBOURS]
    if not free:
        return None
    e = grow(ev, "finetune", free[rng.randrange(len(free))], others.used, others.edge_load,
             lambda options: options[rng.randrange(min(3, len(options)))])
    return None if e is None else [e if j == i else old for j, old in enumerate(plan)]


@dataclass(frozen=True)
class _Around:
    """The plan the moves start from: its clusters, what they use, and the order clusters are tried in."""

    ev: Evaluator
    plan: list[Evaluated]
    b: Builder
    order: list[int]

    def applied(self, changes: Changes) -> list[Evaluated] | None:
        """The plan after `changes`, or None when it has too few fine-tuning clusters."""
        out = [e for i, old in enumerate(self.plan) if (e := changes.get(i, old)) is not None]
        if sum(e.cluster.kind == "finetune" for e in out) < self.ev.min_clusters:
            return None
        return out

    def trial(self, i: int, chain: tuple[str, ...]) -> Evaluated | None:
        """Cluster i on another chain, same kind and server."""
        c = self.plan[i].cluster
        return self.ev.cluster(c.kind, chain, c.server)


def _moves(ev: Evaluator, plan: list[Evaluated]) -> Iterator[list[Evaluated]]:
    """Neighbouring plans, slowest cluster first, in a fixed order."""
    around = _Around(ev, plan, Builder.of(ev, plan), sorted(range(len(plan)), key=lambda i: (-plan[i].latency_s, i)))
    for i in around.order:
        for gen in (_grow, _drop, _swap, _server, _restart, _close, _trade):
            for changes in gen(around, i):
                if out := around.applied(changes):  # an empty plan is no neighbour
                    yield out
    yield from _open(around)


def _grow(a: _Around, i: int) -> Iterator[Changes]:
    """A free client (or the edge server) joins after the start or replaces a member."""
    s, c = a.ev.scenario, a.plan[i].cluster
    chain, server = c.chain, c.server
    near: list[str] = []
    for node in chain:
        near += [m for m in a.ev.free_neighbours(node, a.b.used) if m not in near]
    if server is not None and server not in chain and a.b.edge_load.get(server, 0) < s.node[server].slots:
        near.append(server)
    for m in near[:NEIGHBOURS + 1]:
        for p in range(1, len(chain) + 1):
            if (t := a.trial(i, (*chain[:p], m, *chain[p:]))) is not None:
                yield {i: t}
            if p < len(chain) and (t := a.trial(i, (*chain[:p], m, *chain[p + 1:]))) is not None:
                yield {i: t}


def _drop(a: _Around, i: int) -> Iterator[Changes]:
    chain = a.plan[i].cluster.chain
    for p in range(1, len(chain)):
        if (t := a.trial(i, (*chain[:p], *chain[p + 1:]))) is not None:
            yield {i: t}


def _swap(a: _Around, i: int) -> Iterator[Changes]:
    chain = a.plan[i].cluster.chain
    for p in range(1, len(chain) - 1):
        if (t := a.trial(i, (*chain[:p], chain[p + 1], chain[p], *chain[p + 2:]))) is not None:
            yield {i: t}


def _server(a: _Around, i: int) -> Iterator[Changes]:
    """Another edge server delivers and aggregates (and takes this one's place in the chain)."""
    c = a.plan[i].cluster
    for alt in a.ev.scenario.edges:
        if alt.id == c.server or (c.server in c.chain and a.b.edge_load.get(alt.id, 0) >= alt.slots):
            continue
        t = a.ev.cluster(c.kind, tuple(alt.id if n == c.server else n for n in c.chain), alt.id)
        if t is not None:
            yield {i: t}


def _restart(a: _Around, i: int) -> Iterator[Changes]:
    """Another free data source starts this chain, or the cluster regrows from its start or a fresh source."""
    ev, c = a.ev, a.plan[i].cluster
    if c.kind != "finetune":
        return
    for src in ev.sources:
        if src not in a.b.used and (t := a.trial(i, (src, *c.chain[1:]))) is not None:
            yield {i: t}
    others = Builder.of(ev, (e for j, e in enumerate(a.plan) if j != i))  # its clients are free to regrow
    fresh = [src for src in ev.roomy if src not in others.used][:2 * NEIGHBOURS]
    for src in dict.fromkeys([c.chain[0], *fresh]):
        if (t := grow(ev, c.kind, src, others.used, others.edge_load, nearest)) is not None:
            yield {i: t}


def _close(a: _Around, i: int) -> Iterator[Changes]:
    if a.plan[i].cluster.kind == "finetune" and a.ev.objective.kind != "coverage":
        yield {i: None}


def _trade(a: _Around, i: int) -> Iterator[Changes]:
    """A member of another cluster (the edge server too) moves into this one, or the two swap clients."""
    s, chain = a.ev.scenario, a.plan[i].cluster.chain
    for j in a.order:
        if j == i:
            continue
        other = a.plan[j].cluster
        for q in range(1, len(other.chain)):
            m = other.chain[q]
            for rest in _without(a.ev, other, q, a.b.used):
                for p in range(1, len(chain) + 1):
                    if (gained := a.trial(i, (*chain[:p], m, *chain[p:]))) is not None:
                        yield {i: gained, j: rest}
            if s.node[m].kind == "edge":
                continue
            for p in range(1, len(chain)):
                if s.node[chain[p]].kind == "edge":
                    continue
                mine = a.trial(i, (*chain[:p], m, *chain[p + 1:]))
                theirs = a.trial(j, (*other.chain[:q], chain[p], *other.chain[q + 1:]))
                if mine is not None and theirs is not None:
                    yield {i: mine, j: theirs}


def _open(a: _Around) -> Iterator[list[Evaluated]]:
    """One more fine-tuning cluster, for coverage below its maximum."""
    ev = a.ev
    if ev.objective.kind != "coverage" or a.b.finetune_count() >= ev.max_clusters:
        return
    for src in ev.sources:
        if src not in a.b.used and (e := grow(ev, "finetune", src, a.b.used, a.b.edge_load, nearest)) is not None:
            yield [*a.plan, e]


def _without(ev: Evaluator, cluster: Cluster, q: int, used: set[str]) -> Iterator[Evaluated]:
    """`cluster` after losing member q: as it is, or with a free neighbour of the gap in its place."""
    chain = cluster.chain
    rest = ev.cluster(cluster.kind, (*chain[:q], *chain[q + 1:]), cluster.server)
    if rest is not None:
        yield rest
        return
    for m in ev.free_neighbours(chain[q - 1], used)[:NEIGHBOURS]:
        filled = ev.cluster(cluster.kind, (*chain[:q], m, *chain[q + 1:]), cluster.server)
        if filled is not None:
            yield filled
