"""A plan map: nodes at their positions, each chain as arrows in its cluster's colour, and a dotted line from
each start point to the edge server that delivers and aggregates its cluster (which one matters with several)."""

from __future__ import annotations

from itertools import pairwise

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gaisnet_opt.cost import resolve_server
from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.plotting.figure_io import axes_for
from gaisnet_opt.scenario import Scenario

MAX_DRAWN_LINKS = 5000  # beyond this the D2D graph is noise, not information


def plot_plan_map(scenario: Scenario, plan: Plan, ax: Axes | None = None) -> Figure:
    """The map of `plan` on `scenario`, on `ax` (default: a new figure)."""
    missing = [n.id for n in scenario.nodes if n.position is None]
    if missing:
        raise InputError("scenario", [(f"nodes[{missing[0]}].position", "a plan map needs every node's position")])
    pos = {n.id: n.position for n in scenario.nodes if n.position is not None}
    fig, ax = axes_for(ax, (8, 8))
    if len(scenario.d2d) <= MAX_DRAWN_LINKS:
        for link in scenario.d2d:
            (x0, y0), (x1, y1) = pos[link.src], pos[link.dst]
            ax.plot([x0, x1], [y0, y1], color="#e0e0e0", lw=0.4, zorder=0)
    clients = scenario.clients
    ax.scatter([pos[n.id][0] for n in clients], [pos[n.id][1] for n in clients], s=18, c="#757575", zorder=1,
               label="client")
    ax.scatter([pos[n.id][0] for n in scenario.edges], [pos[n.id][1] for n in scenario.edges], s=140, marker="s",
               c="black", zorder=2, label="edge server")
    for e in scenario.edges:
        ax.annotate(e.id, pos[e.id], xytext=(7, 7), textcoords="offset points", fontsize="small")
    cmap = matplotlib.colormaps["tab10"]
    for ci, cluster in enumerate(plan.clusters):
        color = cmap(ci % 10)
        chain = cluster.chain + ([cluster.start] if cluster.kind == "inference" and len(cluster.chain) > 1 else [])
        for k, (a, b) in enumerate(pairwise(chain)):
            returning = cluster.kind == "inference" and k == len(chain) - 2
            ax.annotate("", xy=pos[b], xytext=pos[a], zorder=3, arrowprops=dict(
                arrowstyle="-|>", color=color, lw=1.6, linestyle="--" if returning else "-"))
        server = resolve_server(scenario, cluster)
        if server is not None and server in pos:
            (x0, y0), (x1, y1) = pos[cluster.start], pos[server]
            ax.plot([x0, x1], [y0, y1], color=color, lw=1.0, linestyle=":", zorder=2)
        (xs, ys), (xe, ye) = pos[cluster.start], pos[cluster.end]
        ax.scatter(xs, ys, marker="*", s=260, color=color, edgecolors="black", zorder=4,
                   label=f"#{ci} {cluster.kind} start {cluster.start}")
        ax.scatter(xe, ye, marker="^", s=110, color=color, edgecolors="black", zorder=4)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(f"{scenario.name}: {len(plan.clusters)} clusters\n"
                 "(★ start, ▲ end, dashed: result return, dotted: to the cluster's edge server)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return fig
