"""The plain exact chain search's optimum from a start (no expansion cap, no dominance): the oracle the capped
floor searches (`StartBounds.lower`) and the sweeps' relaxations are checked against."""

from __future__ import annotations

import math

from gaisnet_opt.bounds.start_bounds import Start, StartBounds


def exact_value(sb: StartBounds, start: Start, objective: str, edges: bool = True) -> float:
    """The cheapest cluster's value from `start` (`edges`: may an edge server join it), infinite when none fits."""
    found = sb.search(start, objective).chains(sb.graph.index[start[1]], edges=edges)
    return found[0].value if found else math.inf
