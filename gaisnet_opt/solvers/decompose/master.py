"""The master problem over clusters (columns), in HiGHS: each request served once, each client in at most
one cluster, each edge server in at most `slots` chains, the fine-tuning count within the service's range.

Artificial columns at a large price keep the LP feasible while columns are
few (phase one folded into the objective); a plan that uses one is no plan.
Row duals price new columns: reduced cost = cost − Σ a·dual (`Prices`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

    def solve(self, columns: list[Column], integer: bool, time_limit_s: float, seed: int = 0) -> Solved:
        g = self.graph
        n_nodes = len(g.ids)
        req_row = {r: i for i, r in enumerate(self.requests)}
        count_row = len(self.requests)
        node_row0 = count_row + 1
        big = 10.0 * (1.0 + max((abs(c.cost) for c in columns), default=0.0))
        slots = np.array([v.slots if v.kind == "edge" else 1 for v in g.scenario.nodes], dtype=float)
        lower = np.concatenate([np.ones(len(self.requests)), [self.lo], np.full(n_nodes, -highspy.kHighsInf)])
        upper = np.concatenate([np.ones(len(self.requests)), [self.hi], slots])
        starts, index, value, cost = [0], [], [], []
        for c in columns:
            rows = [req_row[c.start]] if c.kind == "inference" else [count_row]
            rows += [node_row0 + v for v, _, _ in c.chain.members]
            index += rows
            value += [1.0] * len(rows)
            starts.append(len(index))
            cost.append(c.cost)
        for r in [*range(len(self.requests)), count_row]:  # artificials: a request unserved, a cluster short
            index.append(r)
            value.append(1.0)
            starts.append(len(index))
            cost.append(big)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("random_seed", seed)
        h.setOptionValue("time_limit", max(0.05, time_limit_s))
        m = len(lower)
        h.addRows(m, lower, upper, 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        n_cols = len(cost)
        col_upper = np.full(n_cols, highspy.kHighsInf)
        h.addCols(n_cols, np.array(cost), np.zeros(n_cols), col_upper, len(index), np.array(starts[:-1], dtype=np.int32),
                  np.array(index, dtype=np.int32), np.array(value))
        if integer:
            h.changeColsIntegrality(n_cols, np.arange(n_cols, dtype=np.int32),
                                    np.array([highspy.HighsVarType.kInteger] * n_cols))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        sol = h.getSolution()
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit) or not sol.value_valid:
            return Solved(str(status), math.inf, np.zeros(len(columns)), None, -math.inf, True)
        x = np.array(sol.col_value)
        artificial = bool(x[len(columns):].max(initial=0.0) > 1e-6)
        prices = None
        if not integer:
            dual = np.array(sol.row_dual)
            prices = Prices(np.maximum(0.0, -dual[node_row0:]), {r: float(dual[i]) for r, i in req_row.items()},
                            float(dual[count_row]))
        bound = float(info.mip_dual_bound) if integer else float(info.objective_function_value)
        optimal = status == highspy.HighsModelStatus.kOptimal
        return Solved("optimal" if optimal else "time-limit", float(info.objective_function_value), x[: len(columns)],
                      prices, bound, artificial)
