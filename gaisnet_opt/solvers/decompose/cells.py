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

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from gaisnet_opt.budget import Budget
from gaisnet_opt.plan import Plan
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import FinetuneService, Scenario
from gaisnet_opt.solvers.decompose.decompose import Decomposed, decompose
from gaisnet_opt.solvers.service import cluster_range


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


def homes(scenario: Scenario) -> dict[str, str | None]:
    """Each client's home server: the fastest uplink it has (ties by server order), None without any."""
    best: dict[str, tuple[float, str]] = {}
    for link in scenario.server_links:
        if link.client not in best or link.uplink_bps > best[link.client][0]:
            best[link.client] = (link.uplink_bps, link.server)
    return {c.id: best[c.id][1] if c.id in best else None for c in scenario.clients}


def split_range(scenario: Scenario, cells: list[list[str]]) -> list[tuple[int, int]]:
    """The coupling step: the service's fine-tuning range shared out over the cells by their sources."""
    lo, hi = cluster_range(scenario)
    sources = [sum(1 for c in cell if (d := scenario.node[c]).data is not None and d.request is None) for cell in cells]
    order = sorted(range(len(cells)), key=lambda i: (-sources[i], i))
    mins, maxs = [0] * len(cells), [0] * len(cells)
    for want, out in ((lo, mins), (hi, maxs)):
        left = want
        while left > 0 and any(out[i] < sources[i] for i in order):
            for i in order:
                if left and out[i] < sources[i]:
                    out[i] += 1
                    left -= 1
    return list(zip(mins, maxs, strict=True))


def cell_scenarios(scenario: Scenario) -> list[Scenario]:
    """One scenario per edge server: its home clients, their D2D links among them and to it (clients with no
    server are left out: they can start no cluster that needs one, and join none here)."""
    home = homes(scenario)
    cells = [[c for c, h in home.items() if h == e.id] for e in scenario.edges]
    ranges = split_range(scenario, cells)
    deadline = scenario.finetune.deadline_s if scenario.finetune else None
    out = []
    for edge, members, (lo, hi) in zip(scenario.edges, cells, ranges, strict=True):
        keep = set(members) | {edge.id}
        service = FinetuneService(min_clusters=lo, max_clusters=hi, deadline_s=deadline) if scenario.finetune else None
        out.append(scenario.model_copy(update=dict(
            name=f"{scenario.name}-{edge.id}", nodes=tuple(n for n in scenario.nodes if n.id in keep),
            d2d=tuple(x for x in scenario.d2d if x.src in keep and x.dst in keep),
            server_links=tuple(x for x in scenario.server_links if x.client in keep and x.server == edge.id),
            finetune=service)))
    return out


def solve_cell(job: CellJob) -> Decomposed:
    """Decompose one cell within its seconds (run in a worker)."""
    return decompose(job.scenario, job.objective, budget=Budget(job.seconds), seed=job.seed)


def solve_cells(scenario: Scenario, objective: Objective, seconds: float, *, executor: Executor | None = None,
                workers: int = 2, seed: int = 0) -> tuple[Plan | None, list[Decomposed]]:
    """Every cell's decomposition through `executor` (default: a pool of `workers` processes) and the joined
    plan (None when a cell with requests or a share of the fine-tuning found none)."""
    jobs = [CellJob(s, objective, seconds, seed) for s in cell_scenarios(scenario) if len(s.nodes) > 1]
    if executor is None:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(solve_cell, jobs))
    else:
        results = list(executor.map(solve_cell, jobs))
    needed = [j.scenario.requesters or cluster_range(j.scenario)[0] for j in jobs]
    if any(n and r.plan is None for n, r in zip(needed, results, strict=True)):
        return None, results
    return Plan(clusters=tuple(c for r in results if r.plan is not None for c in r.plan.clusters)), results
