"""The latency objective (the slowest cluster) by a threshold search over packings.

For a threshold z every start point's clusters within z are enumerated by
the exact chain search, and the master (as a MILP, feasibility only) packs
one per request and enough fine-tuning clusters. A packing proves z
achievable: its slowest cluster is the incumbent. No packing, with no start
capped, proves every plan slower than z: z is a lower bound. z starts at
the floor and moves up in steps of `STEP` of the bound until the gap closes.
"""

from __future__ import annotations

import math

from gaisnet_opt.bounds.start_bounds import Start, StartBounds
from gaisnet_opt.budget import Budget, OutOfTime
from gaisnet_opt.solvers.decompose.energy import Outcome, chosen_columns
from gaisnet_opt.solvers.decompose.master import Column, Master
from gaisnet_opt.solvers.decompose.trace import Trace

CAP = 12
"""Clusters within the threshold kept per start point (cheapest first)."""
STEP = 0.004
"""How far the threshold moves up after a failed packing, as a share of the bound."""
POPS = 5000
"""Partial chains one enumeration may expand (one cut short proves nothing)."""
SPARE_SOURCES = 20
"""Sources beyond the service's minimum offered to the packing (those with the fastest clusters)."""


def solve_latency(sb: StartBounds, master: Master, starts: list[Start], floor: float, budget: Budget,
                  seed: int, rel_gap: float, trace: Trace) -> Outcome:
    """Raise the threshold from `floor` until a packing meets it (see the module docstring); every new
    packing and proven threshold goes to `trace`."""
    notes: list[str] = []
    bound, z = floor, floor
    best: list[Column] | None = None
    value = math.inf
    requests = [s for s in starts if s[0] == "inference"]
    ranked = sorted((s for s in starts if s[0] == "finetune"), key=lambda s: (sb.relaxed(s, "latency"), s))
    keep = master.lo + SPARE_SOURCES if master.lo else 0
    sources, left_out = ranked[:keep], ranked[keep:]
    first_out = sb.relaxed(left_out[0], "latency") if left_out and master.lo else math.inf
    try:
        while math.isfinite(z) and (best is None or value > bound * (1 + rel_gap)):
            with budget.phase("packing"):
                columns, capped = _within(sb, requests + sources, z, budget)
                solved = master.solve(columns, True, budget.left(), seed)
            chosen = chosen_columns(columns, solved)
            if chosen is not None:
                slowest = max(c.chain.latency_s for c in chosen)
                if slowest < value:
                    best, value = chosen, slowest
                    trace.plan(value)
                break
            if not capped and first_out > z and solved.status == "optimal":
                bound = max(bound, z)
                trace.lower(bound)
            z = z + max(STEP * max(bound, 1e-12), 1e-12)
    except OutOfTime:
        notes.append("threshold search stopped by the time limit")
    notes.append(f"threshold search: bound {bound:.6g}, last threshold {z:.6g}")
    return Outcome(best, value, bound, notes)


def _within(sb: StartBounds, starts: list[Start], z: float, budget: Budget) -> tuple[list[Column], bool]:
    """Every start's clusters within z (at most `CAP` each); whether any start had more."""
    columns: list[Column] = []
    capped = False
    for s in starts:
        budget.check()
        if sb.value(s, "latency") > z:
            continue
        search = sb.search(s, "latency")
        found = search.chains(sb.graph.index[s[1]], limit=z, cap=CAP, pops=POPS)
        capped |= len(found) >= CAP or math.isfinite(search.last_floor)
        if capped and any(sb.uses_edge(c) for c in found):  # without edge servers too: their slots are few
            found += search.chains(sb.graph.index[s[1]], limit=z, cap=CAP, edges=False, pops=POPS)
        columns += [Column(s[0], s[1], c, c.latency_s * 1e-3) for c in found]
    return columns, capped
