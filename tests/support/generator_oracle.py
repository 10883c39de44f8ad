"""The generator's all-pairs link loops as they were before the grid search: the oracle the grid must equal.

Copied from gaisnet_opt/generator.py at commit bdd490c (2,000-client limit):
every client against every client, every edge server against every client,
in index order. Kept in the test code only, to check that the grid search
finds the same links with the same rates in the same order.
"""

from __future__ import annotations

import numpy as np

from gaisnet_opt import channel
from gaisnet_opt.scenario import D2DLink, ServerLink


def all_pairs_d2d_links(xy: np.ndarray, power: np.ndarray) -> list[D2DLink]:
    """Directed links where the receiver's SNR reaches the D2D threshold."""
    links = []
    for i in range(len(xy)):
        d = np.hypot(*(xy - xy[i]).T)
        snr = channel.snr_db(power[i], channel.d2d_path_loss_db(d), channel.D2D_BANDWIDTH_HZ)
        rate = channel.shannon_bps(snr, channel.D2D_BANDWIDTH_HZ)
        for j in np.flatnonzero(snr >= channel.D2D_MIN_SNR_DB):
            if j != i:
                links.append(D2DLink(src=f"c{i}", dst=f"c{j}", rate_bps=round(float(rate[j]), 3)))
    return links


def all_pairs_server_links(xy: np.ndarray, power: np.ndarray, edge_xy: np.ndarray,
                           bs_power_w: float) -> list[ServerLink]:
    """Uplink and downlink to every edge server both directions of which reach the threshold."""
    links = []
    for j, pos in enumerate(edge_xy):
        loss = channel.cell_path_loss_db(np.hypot(*(xy - pos).T))
        up = channel.snr_db(power, loss, channel.CELL_BANDWIDTH_HZ)
        down = channel.snr_db(bs_power_w, loss, channel.CELL_BANDWIDTH_HZ)
        ok = np.minimum(up, down) >= channel.CELL_MIN_SNR_DB
        up_bps = channel.shannon_bps(up, channel.CELL_BANDWIDTH_HZ)
        down_bps = channel.shannon_bps(down, channel.CELL_BANDWIDTH_HZ)
        for i in np.flatnonzero(ok):
            links.append(ServerLink(client=f"c{i}", server=f"e{j}",
                                    uplink_bps=round(float(up_bps[i]), 3), downlink_bps=round(float(down_bps[i]), 3)))
    return links
