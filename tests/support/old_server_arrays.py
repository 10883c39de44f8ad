"""The dense `[server, node, first, last]` server-link figures as `cost.server_arrays` built them before the
factored `ServerArrays` (about 2.3 GB at 10,000 clients), kept only as a test oracle: the factored figures
must equal these entry by entry."""

from __future__ import annotations

import math

import numpy as np

from gaisnet_opt.cost import _range_totals, _transfer_array
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.scenario import Scenario


def old_server_arrays(scenario: Scenario, kind: ClusterKind, cached: bool,
                      servers: tuple[str | None, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Delivery seconds, upload seconds and their air energy, `[server, node, first, last]`."""
    nodes = scenario.nodes
    moves = np.array([v.kind == "client" and not cached for v in nodes])[:, None, None]
    tunable = _range_totals(scenario, "tunable_param_bytes")[None]
    dl_bytes = np.where(moves, tunable, 0.0)
    ul_bytes = dl_bytes if kind == "finetune" else np.zeros_like(dl_bytes)
    power = np.array([v.tx_power_w for v in nodes])[:, None, None]
    dls, uls, links = [], [], []
    for server in servers:
        links_of = [scenario.server_link.get((v.id, server)) if server is not None else None for v in nodes]
        down = np.array([x.downlink_bps if x else math.nan for x in links_of])[:, None, None]
        up = np.array([x.uplink_bps if x else math.nan for x in links_of])[:, None, None]
        dl = _transfer_array(dl_bytes, down)
        ul = _transfer_array(ul_bytes, up)
        server_w = scenario.node[server].tx_power_w if server is not None else 0.0
        dls.append(dl)
        uls.append(ul)
        with np.errstate(invalid="ignore"):
            links.append(np.where(dl == 0, 0.0, dl * server_w) + np.where(ul == 0, 0.0, ul * power))
    return np.array(dls), np.array(uls), np.array(links)


class DenseLinks:
    """`link_graph.ServerLinks`'s readers over the dense arrays, to run the floor and the searches on them."""

    def __init__(self, scenario: Scenario, kind: ClusterKind, cached: bool, servers: tuple[str | None, ...]) -> None:
        self.dl, self.ul, self.joules = old_server_arrays(scenario, kind, cached, servers)
        self.ok_all = np.isfinite(self.dl) & np.isfinite(self.ul)
        self.any_ok = self.ok_all.any(axis=0)
        self.least_j = np.where(self.ok_all, self.joules, math.inf).min(axis=0)

    def ok(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.ok_all[k, v, j, j:]

    def delivery_s(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.dl[k, v, j, j:]

    def upload_s(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.ul[k, v, j, j:]

    def link_j(self, k: int, v: np.ndarray | int, j: int) -> np.ndarray:
        return self.joules[k, v, j, j:]

    def every_server(self, v: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        pick = lambda a: np.swapaxes(a[:, v, j, j:], 0, 1)
        return pick(self.dl), pick(self.ul), pick(self.joules), pick(self.ok_all)
