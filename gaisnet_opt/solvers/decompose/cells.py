"""Edge-server cells: each client's home is the server it reaches with the fastest uplink, each cell (a server
and its home clients) is solved on its own, and the plans are joined (docs/model.md §7.4).

The cells partition the clients and each has its own server, so joined plans
never share a client or an edge server's slots: the join is feasible for the
whole problem when the fine-tuning counts add up, which the coupling step
(`split_range`) arranges. Clients in reach of a second server are the
border; a cell's chains keep to its own clients, so the border's other
options are what the join gives up. A cell's bound holds for that cell's
restriction only; the whole problem's bound is the floor (`bounds.floor`).
Cells run through any `Executor` (`map` over picklable arguments): a
process pool here, a Ray or Dask pool across machines.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from gaisnet_opt.bounds.floor import floor_value, floors
from gaisnet_opt.bounds.start_bounds import StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.checker import check
from gaisnet_opt.cost import cluster_cost, objective_value, round_cost
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective, relative_gap
from gaisnet_opt.scenario import D2DLink, FinetuneService, Node, Scenario, ServerLink
from gaisnet_opt.solvers.decompose.decompose import Decomposed, decompose
from gaisnet_opt.solvers.decompose.incumbent import heuristic_plan
from gaisnet_opt.solvers.decompose.lagrange import whole_bound
from gaisnet_opt.solvers.decompose.trace import Trace
from gaisnet_opt.solvers.service import cluster_range, deadline_of

CELLS_FROM = 5000
"""Clients from which `solve(method="decompose")` goes by cells (with at least two edge servers): below, the whole
problem's decomposition fits the time limit; at 10,000 clients it does not (docs/model.md §7.4)."""
JOIN_S = {"latency": 0.08, "energy": 0.03}
"""Share of the call's time kept for joining, checking and pricing the plan (a few seconds at 10,000 clients),
latency's also for the border repair (energy's join and check took 0.1 s at 10,000 clients)."""
STARTUP_S = 2.0
"""Seconds kept for starting the workers (a process each, importing the solver)."""
REPAIRS = 50
"""Slowest clusters the border repair replaces at most."""
REPAIR_CAP, REPAIR_POPS = 12, 3000
"""Faster chains one repair looks at, and partial chains its search may expand."""
REPAIR_RESERVE_S = 1.5
"""Seconds the repair leaves for checking and pricing the join."""
CELL_OVERHEAD_S = 0.35
"""A cell's seconds beyond its budget, as the schedule plans it: shipping it to a worker and back, building its
searches, the constructive heuristics (measured 0.33 s per cell at 20,000 clients on 2 cores at load 1, 0.85 s at
load 4; the cells' common end time `CellJob.until` holds the limit when it is more)."""
MIN_CELL_S = 0.5
"""Seconds below which a cell is not solved again (its constructive heuristics alone take about that)."""
CELL_S = 60.0
"""A cell's seconds when the call has no time limit."""
FALLBACK_SHARE = 0.1
"""Share of a cell's seconds kept for the local-search plan when its decomposition found none (its floor ran out
of time: the decomposition tries the same heuristics itself otherwise); the constructive heuristics took
0.12-0.19 s on 200-client cells of 1-2 s at 10,000 clients."""
CELL_LP_GAP = 0.005
"""Energy: a cell's column generation stops once its Lagrangian bound is within this of its LP's value, and a cell
whose plan is within it of its bound tries no second local search (at 10,000 clients, seed 8001, K = 10, three
cells without fine-tuning stopped 1-2 of 7-8 rounds early, column generation 0.70/0.75/0.17 s -> 0.55/0.52/0.18 s,
the same plans)."""
AGAIN_S = 2.0
"""Energy: seconds a cell gets at least when the time the first pass left solves it again (`_again`)."""
BOUND_SHARE = 0.12
"""Energy: share of the time after the floor kept for the whole problem's Lagrangian bound at the cells' duals
(`lagrange.whole_bound`); what it does not use goes to the join."""


class Executor(Protocol):
    """What the cells need of an executor: `map` (concurrent.futures, Ray's and Dask's pools offer it)."""

    def map(self, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]: ...


@dataclass(frozen=True)
class CellJob:
    """One cell's sub-problem and how long it may take (plain data, so it crosses processes)."""

    scenario: Scenario
    objective: Objective
    seconds: float
    seed: int
    until: float | None = None
    """Wall-clock time (`time.time()`) by which every cell must be done (None: only `seconds`)."""
    left: float = math.inf
    """With `until`: the seconds the schedule expects to be left when the cell starts (`schedule`)."""

    def budget_s(self) -> float:
        """The cell's seconds as it starts: `seconds` when it starts on time, scaled by the time actually left over
        the time planned to be left otherwise, so the later cells share what the earlier ones overran (none goes
        without) or left (a cell done early gives its time on), never past `until`."""
        if self.until is None:
            return self.seconds
        left = self.until - time.time()
        return max(0.0, min(self.seconds * left / self.left, left - CELL_OVERHEAD_S))


def by_cells(scenario: Scenario) -> bool:
    """Whether `solve(method="decompose")` goes by cells: `CELLS_FROM` clients or more and two edge servers."""
    return len(scenario.clients) >= CELLS_FROM and len(scenario.edges) >= 2


def homes(scenario: Scenario) -> dict[str, str | None]:
    """Each client's home server: the fastest uplink it has (ties by server order), None without any."""
    best: dict[str, tuple[float, str]] = {}
    for link in scenario.server_links:
        if link.client not in best or link.uplink_bps > best[link.client][0]:
            best[link.client] = (link.uplink_bps, link.server)
    return {c.id: best[c.id][1] if c.id in best else None for c in scenario.clients}


def split_range(scenario: Scenario, cells: list[list[str]], rank: list[str] | None = None) -> list[tuple[int, int]]:
    """The coupling step: the service's fine-tuning range [lo, hi] shared out over the cells, (min, max) each.

    The lo clusters go to the cells of the first lo sources in `rank` (best
    first; default: cells by their number of sources), so the mins add up to
    lo; only those cells fine-tune, and the rest of hi goes round among them
    up to their sources, so the maxes add up to at most hi: any per-cell
    count within its range joins to a count within the service's.
    """
    lo, hi = cluster_range(scenario)
    cell_of = {c: i for i, cell in enumerate(cells) for c in cell}
    sources = [sum(1 for c in cell if (d := scenario.node[c]).data is not None and d.request is None) for cell in cells]
    if rank is None:
        order = sorted(range(len(cells)), key=lambda i: (-sources[i], i))
        rank = [c for i in order for c in cells[i] if scenario.node[c].data is not None and scenario.node[c].request is None]
    mins, maxs = [0] * len(cells), [0] * len(cells)
    for c in rank:
        if sum(mins) >= lo:
            break
        if c in cell_of:
            mins[cell_of[c]] += 1
    maxs[:] = mins
    hosts = [i for i in range(len(cells)) if mins[i]]
    while sum(maxs) < hi and any(maxs[i] < sources[i] for i in hosts):
        for i in hosts:
            if sum(maxs) < hi and maxs[i] < sources[i]:
                maxs[i] += 1
    return list(zip(mins, maxs, strict=True))


def cell_scenarios(scenario: Scenario, rank: list[str] | None = None) -> list[Scenario]:
    """One scenario per edge server: its home clients, their D2D links among them and to it (clients with no
    server are left out: they can start no cluster that needs one, and join none here), and its share of the
    fine-tuning range (`split_range`; a cell with none has no fine-tuning service)."""
    home = homes(scenario)
    where = {e.id: i for i, e in enumerate(scenario.edges)}
    cell = {c: where[h] for c, h in home.items() if h is not None}
    nodes: list[list[Node]] = [[] for _ in scenario.edges]
    for n in scenario.nodes:
        i = where[n.id] if n.kind == "edge" else cell.get(n.id)
        if i is not None:
            nodes[i].append(n)
    d2d: list[list[D2DLink]] = [[] for _ in scenario.edges]
    for x in scenario.d2d:
        if (i := cell.get(x.src)) is not None and cell.get(x.dst) == i:
            d2d[i].append(x)
    links: list[list[ServerLink]] = [[] for _ in scenario.edges]
    for y in scenario.server_links:
        if cell.get(y.client) == where[y.server]:
            links[where[y.server]].append(y)
    ranges = split_range(scenario, [[n.id for n in ns if n.kind == "client"] for ns in nodes], rank)
    deadline = scenario.finetune.deadline_s if scenario.finetune else None
    out = []
    for edge, i, (lo, hi) in zip(scenario.edges, range(len(nodes)), ranges, strict=True):
        service = FinetuneService(min_clusters=lo, max_clusters=hi, deadline_s=deadline) if lo else None
        out.append(scenario.model_copy(update=dict(
            name=f"{scenario.name}-{edge.id}", nodes=tuple(nodes[i]), d2d=tuple(d2d[i]), server_links=tuple(links[i]),
            finetune=service)))
    return out


def solve_cell(job: CellJob) -> Decomposed:
    """Decompose one cell within its seconds (run in a worker); when that finds no plan, the local-search plan
    in the seconds kept back (`FALLBACK_SHARE`), so one hard cell does not sink the join."""
    seconds = job.budget_s()
    budget = Budget(seconds)
    gap = dict(rel_gap=CELL_LP_GAP, lp_gap=CELL_LP_GAP) if job.objective.kind == "energy" else {}
    out = decompose(job.scenario, job.objective, budget=Budget(seconds * (1 - FALLBACK_SHARE)), seed=job.seed, **gap)
    if out.plan is not None or not _needs_plan(job.scenario):
        return out
    plan = heuristic_plan(job.scenario, job.objective, max(0.0, budget.left()), job.seed) if not budget.expired() else None
    if plan is None or check(job.scenario, plan, deadline_of(job.scenario, job.objective)):
        return out
    value = objective_value(round_cost(job.scenario, plan), job.objective)
    return Decomposed(plan, value, out.bound, relative_gap(value, out.bound), out.phases,
                      (*out.notes, "the cell's decomposition found no plan: local search's"))


def _border_repair(scenario: Scenario, plan: Plan, sb: StartBounds, budget: Budget) -> Plan:
    """The coupling step for the border, latency: while the slowest cluster has a faster chain over the whole
    problem (the exact search, across cell borders) whose clients no other cluster holds and whose edge server has
    a slot left, take it (the checker still checks the join)."""
    clusters = list(plan.clusters)
    for _ in range(REPAIRS):
        if budget.left() < REPAIR_RESERVE_S:
            break
        latency = [cluster_cost(scenario, c).latency_s for c in clusters]
        i = max(range(len(clusters)), key=lambda j: latency[j])
        c = clusters[i]
        held = Counter(v for j, x in enumerate(clusters) if j != i for v in x.chain)
        search = sb.search((c.kind, c.start), "latency")
        search.budget = budget
        try:
            found = search.chains(sb.graph.index[c.start], limit=latency[i] * (1 - 1e-9), cap=REPAIR_CAP, pops=REPAIR_POPS)
        except OutOfTime:
            break
        free = [x for x in found if all(held[sb.graph.ids[v]] < (scenario.node[sb.graph.ids[v]].slots
                                                                   if sb.graph.is_edge[v] else 1) for v, _, _ in x.members)]
        if not free:
            break
        clusters[i] = free[0].cluster(sb.graph, c.kind)
    return Plan(clusters=tuple(clusters))


def _ranked(sb: StartBounds, objective: Objective) -> list[str]:
    """The sources by their relaxed bound for `objective` (computed by the floor), best first."""
    return sorted(sb.sources, key=lambda s: (sb.relaxed(("finetune", s), objective.kind), s))


def _warm() -> None:
    """A worker imports the solver before its first cell, so that cell's seconds are not spent loading HiGHS."""
    import highspy  # noqa: F401


def _needs_plan(scenario: Scenario) -> bool:
    return bool(scenario.requesters) or cluster_range(scenario)[0] > 0


def solve_cells(scenario: Scenario, objective: Objective, seconds: float, *, executor: Executor | None = None,
                workers: int = 2, seed: int = 0, rank: list[str] | None = None) -> tuple[Plan | None, list[Decomposed]]:
    """Every cell's decomposition through `executor` (default: a pool of `workers` processes), `seconds` each,
    and the joined plan (None when a cell with requests or a share of the fine-tuning found none)."""
    cells = [s for s in cell_scenarios(scenario, rank) if _needs_plan(s)]
    results = _run([CellJob(c, objective, seconds, seed) for c in cells], executor, workers)
    return _join(results), results


def schedule(weights: list[int], workers: int, total: float) -> list[tuple[float, float]]:
    """Each cell's seconds and the seconds left when it starts, for cells run in this order by `workers` at once
    (each to the first worker free) within `total` seconds: a cell's seconds are its weight times one unit, and
    the unit is the largest (to 1e-6) at which every cell, `CELL_OVERHEAD_S` each beyond its seconds, ends in
    time."""

    def plan(unit: float) -> tuple[list[tuple[float, float]], float]:
        free, out = [0.0] * workers, []
        for w in weights:
            t = heapq.heappop(free)
            out.append((w * unit, total - t))
            heapq.heappush(free, t + w * unit + CELL_OVERHEAD_S)
        return out, max(free)

    lo, hi = 0.0, max(0.0, total)
    while hi - lo > 1e-6 * max(1.0, hi):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if plan(mid)[1] <= total else (lo, mid)
    return plan(lo)[0]


def _scheduled(cells: list[Scenario], weights: list[int], objective: Objective, left: float, workers: int,
               seed: int) -> list[CellJob]:
    """The cells' jobs by `schedule` within `left` seconds (with a margin of 5 %), all to end by one time; without
    a time limit, `CELL_S` per unit of weight."""
    if not math.isfinite(left):
        return [CellJob(c, objective, CELL_S * w, seed) for c, w in zip(cells, weights, strict=True)]
    until = time.time() + left / 1.05
    return [CellJob(c, objective, seconds, seed, until, at)
            for c, (seconds, at) in zip(cells, schedule(weights, workers, left / 1.05), strict=True)]


def _run(jobs: list[CellJob], executor: Executor | None, workers: int) -> list[Decomposed]:
    if executor is None:
        with ProcessPoolExecutor(max_workers=workers, initializer=_warm) as pool:
            return list(pool.map(solve_cell, jobs))
    return list(executor.map(solve_cell, jobs))


def _join(results: list[Decomposed]) -> Plan | None:
    """The cells' plans as one (None when a cell has none)."""
    if any(r.plan is None for r in results):
        return None
    return Plan(clusters=tuple(c for r in results if r.plan is not None for c in r.plan.clusters))


def _again(cells: list[Scenario], weights: list[int], results: list[Decomposed], objective: Objective, left: float,
           executor: Executor | None, workers: int, seed: int) -> None:
    """Energy: the time the cells left (the easy ones end early) goes to those whose plan is furthest from their
    bound, `AGAIN_S` each at least, scheduled as the first pass; a cell's new result replaces its first where its
    gap is smaller (its duals come with it)."""
    gaps = [r.objective - r.bound if r.objective is not None and r.bound is not None else 0.0 for r in results]
    todo = [i for i in sorted(range(len(cells)), key=lambda i: -gaps[i])
            if gaps[i] > CELL_LP_GAP * abs(results[i].objective or 0.0)]
    todo = todo[:max(0, int(workers * left / 1.05 / (AGAIN_S + CELL_OVERHEAD_S)))]  # none when no time is left
    if not todo:
        return
    jobs = _scheduled([cells[i] for i in todo], [weights[i] for i in todo], objective, left, workers, seed)
    again = _run(jobs, executor, workers)
    for i, r in zip(todo, again, strict=True):
        if r.objective is not None and r.bound is not None and r.objective - r.bound < gaps[i]:
            results[i] = r


def _weight(cell: Scenario) -> int:
    """A cell's share of the time: the start points its decomposition prices, its requests and (when it
    fine-tunes) its sources. Energy at 10,000 clients, seed 8001, K = 10: column generation converged in 3.3 s in
    a cell with 18 requests and 54 sources, in 0.34 s in one with 13 requests, and a cell with 27 requests had not
    converged in 1 s."""
    return len(cell.requesters) + (sum(d.request is None for d in cell.data_sources) if cluster_range(cell)[0] else 0)


def decompose_by_cells(scenario: Scenario, objective: Objective, *, budget: Budget, seed: int = 0,
                       executor: Executor | None = None, workers: int | None = None) -> Decomposed:
    """The whole problem by cells within `budget`: the floor over the whole problem first (the first bound; its
    source ranking places the fine-tuning clusters), then the cells by `schedule` (`workers`: the executor's
    parallelism; default: the cores) in the time left but `JOIN_S` of it (and, energy, `BOUND_SHARE` for the whole
    problem's Lagrangian bound at the cells' duals), then the join, checked and priced on the whole problem
    (docs/model.md §7.4)."""
    deadline = deadline_of(scenario, objective)
    trace = Trace(budget)
    lo, hi = cluster_range(scenario)
    try:
        with budget.phase("floor"):
            sb = StartBounds(scenario, deadline, budget, energy=objective.kind != "latency")
            low = floors(scenario, lo, budget, sb)
            rank = _ranked(sb, objective)
    except OutOfTime:
        return Decomposed(None, None, None, None, dict(budget.phases), ("the floor ran out of time",))
    sb.trim()  # its figures are the largest thing held: not carried into the cells' processes
    bound = floor_value(objective, low)
    if bound is not None:
        trace.lower(bound)
    workers = workers or os.cpu_count() or 1
    with budget.phase("cells"):
        # the heavy ones first: what they leave when done early goes on to the many light ones (`CellJob.budget_s`)
        cells = sorted((s for s in cell_scenarios(scenario, rank) if _needs_plan(s)), key=lambda c: -_weight(c))
        weights = [_weight(c) for c in cells]
        join = JOIN_S[objective.kind]
        kept = budget.left() * (join + (BOUND_SHARE if objective.kind == "energy" else 0.0))
        left = budget.left() - kept - STARTUP_S
        jobs = _scheduled(cells, weights, objective, left, workers, seed)
        results = _run(jobs, executor, workers)
        failed = [i for i, r in enumerate(results) if r.plan is None]
        for j, i in enumerate(failed):  # again here with what is left: one cell without a plan would sink the join
            seconds = (budget.left() * (1 - join) - 0.1) / (len(failed) - j) if math.isfinite(budget.left()) else CELL_S
            if seconds < MIN_CELL_S:
                break
            results[i] = solve_cell(CellJob(cells[i], objective, seconds, seed))
        if objective.kind == "energy" and not failed and math.isfinite(left):
            _again(cells, weights, results, objective, budget.left() - kept - STARTUP_S, executor, workers, seed)
        plan = _join(results)
    unit = jobs[0].seconds / weights[0] if jobs and weights[0] else 0.0
    notes = [f"{len(cells)} cells, {unit:.3g} s per start point as planned ({sum(w > 0 for w in weights)} with start "
             f"points, {sum(cluster_range(c)[0] > 0 for c in cells)} fine-tune), {workers} at a time; {len(failed)} without a plan at first; "
             f"{sum(r.plan is None for r in results)} without a plan"]
    if objective.kind == "energy" and plan is not None:
        bound = _whole_bound(sb, results, lo, hi, budget, bound, notes, workers)
        trace.lower(bound)
    if plan is None:
        return Decomposed(None, None, bound, None, dict(budget.phases), (*notes, "a cell found no plan"),
                          tuple(trace.points))
    with budget.phase("join"):
        if objective.kind == "latency":
            plan = _border_repair(scenario, plan, sb, budget)
        broken = check(scenario, plan, deadline)
        if broken:
            return Decomposed(None, None, bound, None, dict(budget.phases),
                              (*notes, f"the checker rejected the joined plan: {broken[0].rule} at {broken[0].path}"),
                              tuple(trace.points))
        value = objective_value(round_cost(scenario, plan), objective)
    trace.plan(value)
    return Decomposed(plan, value, bound, relative_gap(value, bound), dict(budget.phases), tuple(notes),
                      tuple(trace.points))


def _whole_bound(sb: StartBounds, results: list[Decomposed], lo: int, hi: int, budget: Budget, floor: float | None,
                 notes: list[str], workers: int) -> float:
    """The larger of the floor and the whole problem's Lagrangian bound at the cells' duals, priced until
    `JOIN_S` of the budget is left (a cell without duals leaves its requests at their sweep bound)."""
    duals = [r.duals for r in results if r.duals is not None]
    with budget.phase("bound"):
        until = Budget(max(0.0, budget.left() - JOIN_S["energy"] * budget.limit_s), budget.clock) if budget.limit_s else Budget(None)
        # forked on this machine whatever the executor: the workers read the floor's figures without copying them
        value, complete = whole_bound(sb, duals, lo, hi, until, min(workers, os.cpu_count() or 1))
    notes.append(f"Lagrangian bound at {len(duals)} of {len(results)} cells' duals over the whole problem {value:.6g}"
                 f"{'' if complete else ' (the time ran out: starts left at their sweep bound)'}")
    return max(value, floor if floor is not None else -math.inf)
