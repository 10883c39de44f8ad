"""Lower bounds on the rest of any chain: from "node v holds units through l" to the head, over the whole graph.

A backward sweep over (node, unit) states, one numpy pass per unit: a
relaxation, since a chain may revisit nodes here, any edge server may serve
any segment (each segment takes its best server) and the inference result's
way home is left out. It is the admissible estimate that lets the exact
chain search (`chain_search`) prune; the latency sweep counts additive
seconds only (the delivery and upload maxima are the search's own).
"""

from __future__ import annotations

import math

import numpy as np

from gaisnet_opt.bounds.link_graph import Figures, LinkGraph
from gaisnet_opt.cost import iterations


def segment_cost(graph: LinkGraph, fig: Figures, objective: str) -> np.ndarray:
    """Each node's cheapest `[first, last]` over the servers: round seconds of compute (latency) or joules."""
    if objective == "energy":
        return np.where(fig.seg.fits, fig.seg.compute_j + fig.links.least_j, math.inf)
    it = iterations(graph.scenario, fig.kind)
    return np.where(fig.seg.fits & fig.links.any_ok, it * fig.seg.iter_s, math.inf)


def hop_cost(graph: LinkGraph, fig: Figures, objective: str) -> np.ndarray:
    """Each link's `[link, unit]` round seconds (latency) or joules (`fig` must carry its hops)."""
    assert fig.hops is not None
    if objective == "energy":
        return fig.hops.energy_j
    return iterations(graph.scenario, fig.kind) * fig.hops.iter_s


def to_head(graph: LinkGraph, fig: Figures, objective: str) -> np.ndarray:
    """`h[v, l]`: a lower bound on the cost from "v holds units through l" to the head (0 at l = n - 1)."""
    seg, hop = segment_cost(graph, fig, objective), hop_cost(graph, fig, objective)
    n_nodes, n = seg.shape[0], seg.shape[1]
    h = np.full((n_nodes, n), math.inf)
    h[:, n - 1] = 0.0
    has_out = graph.indptr[1:] > graph.indptr[:-1]
    starts = graph.indptr[:-1][has_out]
    for l in range(n - 2, -1, -1):
        begin = (seg[:, l + 1, l + 1:] + h[:, l + 1:]).min(axis=1)  # from "v begins at l + 1"
        via = hop[:, l] + begin[graph.dst]
        if len(via):
            h[has_out, l] = np.minimum.reduceat(via, starts)
    return h
