"""The master problem over clusters (columns), in HiGHS: each request served once, each client in at most
one cluster, each edge server in at most `slots` chains, the fine-tuning count within the service's range.

Artificial columns at a large price keep the LP feasible while columns are
few (phase one folded into the objective); a plan that uses one is no plan.
Row duals price new columns: reduced cost = cost − Σ a·dual (`Prices`).
`Lp` keeps one LP in HiGHS and appends columns, so each re-solve starts from
the last basis (column generation re-solves it every round).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import highspy
import numpy as np

from gaisnet_opt.bounds.chain_search import Chain
from gaisnet_opt.bounds.link_graph import LinkGraph
from gaisnet_opt.plan import ClusterKind


@dataclass(frozen=True)
class Column:
    """One cluster: its kind, start point, chain (members, ranges, server) and its price in the master."""

    kind: ClusterKind
    start: str
    chain: Chain
    cost: float

    @property
    def key(self) -> tuple[ClusterKind, str | None, tuple[tuple[int, int, int], ...]]:
        return self.kind, self.chain.server, self.chain.members


@dataclass(frozen=True)
class Prices:
    """The LP's row duals as the pricing reads them: a penalty per node (≥ 0) and a credit per start."""

    penalty: np.ndarray
    request: dict[str, float]
    count: float

    def credit(self, kind: ClusterKind, start: str) -> float:
        """What the rows of a cluster's kind and start give back (subtracted from its price)."""
        return self.request.get(start, 0.0) if kind == "inference" else self.count


@dataclass(frozen=True)
class Solved:
    """A master solution: status, value, chosen columns' weights, duals (LP only), HiGHS's dual bound (MILP)."""

    status: str
    value: float
    x: np.ndarray
    prices: Prices | None
    bound: float
    artificial: bool


@dataclass
class Master:
    """The rows for one scenario's requests, clients, edge servers and fine-tuning range."""

    graph: LinkGraph
    requests: list[str]
    lo: int
    hi: int

    @cached_property
    def slots(self) -> np.ndarray:
        """Each node row's upper bound: an edge server's slots, one for a client."""
        return np.array([v.slots if v.kind == "edge" else 1 for v in self.graph.scenario.nodes], dtype=float)

    def bound_of(self, prices: Prices) -> float:
        """Σ rows' dual × bound: with each start's least reduced cost (below zero) added, a lower bound on every
        plan (the Lagrangian function at these duals, docs/model.md §7.4)."""
        count = prices.count * (self.lo if prices.count >= 0 else self.hi)
        return sum(prices.request.values()) + count - float(prices.penalty @ self.slots)

    def solve(self, columns: list[Column], integer: bool, time_limit_s: float, seed: int = 0,
              start: list[Column] | None = None) -> Solved:
        """One solve over `columns` (a MILP when `integer`, from the plan `start` if given)."""
        h = self._highs(time_limit_s, seed, _big(columns))
        _add(h, columns, self)
        if integer:
            n = h.getNumCol()
            h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array([highspy.HighsVarType.kInteger] * n))
            if start is not None:
                keys = {c.key for c in start}
                sol = highspy.HighsSolution()
                sol.col_value = [0.0] * len(self._artificials) + [float(c.key in keys) for c in columns]
                sol.value_valid = True
                h.setSolution(sol)
        h.run()
        return self._read(h, len(columns), integer)

    def lp(self, columns: list[Column], seed: int = 0) -> Lp:
        """An LP over `columns`, to which column generation appends (the artificials priced by these)."""
        lp = Lp(self, self._highs(math.inf, seed, _big(columns)))
        lp.add(columns)
        return lp

    @cached_property
    def _artificials(self) -> list[int]:
        """Rows with an artificial column: a request unserved, a fine-tuning cluster short."""
        return [*range(len(self.requests)), len(self.requests)]

    def _highs(self, time_limit_s: float, seed: int, big: float) -> highspy.Highs:
        """A HiGHS model with the rows and the artificial columns."""
        n_nodes = len(self.graph.ids)
        lower = np.concatenate([np.ones(len(self.requests)), [self.lo], np.full(n_nodes, -highspy.kHighsInf)])
        upper = np.concatenate([np.ones(len(self.requests)), [self.hi], self.slots])
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", seed)
        if math.isfinite(time_limit_s):
            h.setOptionValue("time_limit", max(0.05, time_limit_s))
        h.addRows(len(lower), lower, upper, 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        k = len(self._artificials)
        h.addCols(k, np.full(k, big), np.zeros(k), np.full(k, highspy.kHighsInf), k, np.arange(k, dtype=np.int32),
                  np.array(self._artificials, dtype=np.int32), np.ones(k))
        return h

    def _read(self, h: highspy.Highs, n_columns: int, integer: bool) -> Solved:
        """The solution of a run: the real columns' weights, duals (LP), whether an artificial is used."""
        status = h.getModelStatus()
        sol = h.getSolution()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit) or not sol.value_valid:
            return Solved(str(status), math.inf, np.zeros(n_columns), None, -math.inf, True)
        info = h.getInfo()
        k = len(self._artificials)
        x = np.array(sol.col_value)
        artificial = bool(x[:k].max(initial=0.0) > 1e-6)
        prices = None
        if not integer and sol.dual_valid:
            dual = np.array(sol.row_dual)
            node_row0 = len(self.requests) + 1
            prices = Prices(np.maximum(0.0, -dual[node_row0:]), {r: float(dual[i]) for i, r in enumerate(self.requests)},
                            float(dual[len(self.requests)]))
        bound = float(info.mip_dual_bound) if integer else float(info.objective_function_value)
        optimal = status == highspy.HighsModelStatus.kOptimal
        return Solved("optimal" if optimal else "time-limit", float(info.objective_function_value), x[k:], prices,
                      bound, artificial)


@dataclass
class Lp:
    """The master's LP kept in HiGHS: `add` appends columns, `solve` re-solves from the last basis."""

    master: Master
    highs: highspy.Highs
    columns: list[Column] = field(default_factory=list)

    def add(self, columns: list[Column]) -> None:
        _add(self.highs, columns, self.master)
        self.columns += columns

    def solve(self, time_limit_s: float) -> Solved:
        self.highs.setOptionValue("time_limit", max(0.05, time_limit_s))
        self.highs.run()
        return self.master._read(self.highs, len(self.columns), False)


def _big(columns: list[Column]) -> float:
    """The artificial columns' price: a hundred times the dearest column's, above what a real column saves."""
    return 100.0 * (1.0 + max((abs(c.cost) for c in columns), default=0.0))


def _add(h: highspy.Highs, columns: list[Column], master: Master) -> None:
    """Append `columns` to `h`: a column covers its request (or the fine-tuning count) and its members' nodes."""
    if not columns:
        return
    req_row = {r: i for i, r in enumerate(master.requests)}
    count_row = len(master.requests)
    starts: list[int] = []
    index: list[int] = []
    for c in columns:
        starts.append(len(index))
        index.append(req_row[c.start] if c.kind == "inference" else count_row)
        index += [count_row + 1 + v for v, _, _ in c.chain.members]
    n = len(columns)
    h.addCols(n, np.array([c.cost for c in columns]), np.zeros(n), np.full(n, highspy.kHighsInf), len(index),
              np.array(starts, dtype=np.int32), np.array(index, dtype=np.int32), np.ones(len(index)))
