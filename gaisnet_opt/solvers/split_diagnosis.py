"""Why a chain cannot host a cluster, or why no split of it fits: reasons that name the member and the resource.

`chain_problem` is read before any split method runs (the chain's own
rules); `diagnose` after an exact method found no split, by tracing the
furthest prefix of units any path places and what stops it there.
"""

from __future__ import annotations

from gaisnet_opt.instances.split_instance import SplitInstance
from gaisnet_opt.instances.split_table import SplitTable
from gaisnet_opt.plan import ClusterKind
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.solvers.split_dp import split_dp


def chain_problem(scenario: Scenario, chain: list[str], kind: ClusterKind) -> str | None:
    """Why `chain` cannot host a `kind` cluster whatever the split (None: it may)."""
    if not chain:
        return "the chain is empty"
    for c in chain:
        if c not in scenario.node:
            return f"unknown node '{c}' in the chain"
        if chain.count(c) > 1:
            return f"{c} appears {chain.count(c)} times in the chain; a node joins a chain once"
    start, end = scenario.node[chain[0]], chain[-1]
    if kind == "finetune" and start.data is None:
        return f"fine-tuning start point {start.id} is not a data source"
    if kind == "inference":
        if start.request is None:
            return f"inference start point {start.id} raised no request"
        if len(chain) > 1 and scenario.rate(end, start.id) is None:
            return f"no link {end} -> {start.id} to return the inference result"
    return None


def gb(n_bytes: float) -> str:
    """Bytes as gigabytes in an infeasibility reason."""
    return f"{n_bytes / 1e9:.3g} GB"


def _why_not(table: SplitTable, node: str, first: int, last: int) -> str | None:
    """Which resource of `node` forbids it holding units first..last (None: nothing does)."""
    seg, units = table.segments(node), table.scenario.profile.units
    names = units[first].name if first == last else f"{units[first].name}..{units[last].name}"
    if seg.memory_bytes[first][last] > seg.capacity_bytes:
        return f"{node} needs {gb(seg.memory_bytes[first][last])} for {names}, has {gb(seg.capacity_bytes)}"
    if not seg.ok[first][last]:
        return f"{node} would hold tunable units {names} but has no link to edge server {table.server}"
    return None


def _deadline_reason(inst: SplitInstance) -> str:
    """Splits exist but none meets the deadline: how fast the fastest is."""
    fastest = split_dp(SplitInstance.build(inst.table, inst.chain, Objective()))
    took = "no split" if fastest is None else f"the fastest split takes {fastest.value:.6g} s"
    return f"{took}; the deadline is {inst.deadline_s:.6g} s"


def diagnose(inst: SplitInstance) -> str:
    """Name the member and resource that leave `inst` without a split (called when a method finds none)."""
    table, chain, n, k = inst.table, inst.chain, inst.n_units, inst.n_members
    if k == 1:
        return _why_not(table, chain[0], 0, n - 1) or _deadline_reason(inst)
    if not inst.segs_from.get((0, 0)):
        return f"start point {_why_not(table, chain[0], 0, 0)}"
    if not any(s.m == k - 1 for s in inst.segs):
        return f"end point {_why_not(table, chain[-1], n - 1, n - 1)}"
    # furthest prefix 0..J-1 any path places, and the member holding its last unit
    reached, starts = (0, 0), {(0, 0)}
    for j in range(n):
        for b in range(k):
            if (b, j) not in starts:
                continue
            for s in inst.segs_from.get((b, j), ()):
                reached = max(reached, (s.last + 1, -b))
                starts.update((h.b, s.last + 1) for h in inst.hops_from.get((b, s.last), ()))
    top, holder = reached[0], chain[-reached[1]]
    if top == n:
        return _deadline_reason(inst)
    end, units = chain[-1], table.scenario.profile.units
    placed = f"the members up to {holder} can take at most units 0..{top - 1} ({top} units, up to {units[top - 1].name})"
    limit = _why_not(table, end, top, n - 1)
    if limit is not None:
        return f"{placed}; the remaining {n - top} units cannot go on end point {end}: {limit}"
    row = table.hops(holder, end)
    missing = [f"{a} -> {b}" for a, b in ((holder, end), (end, holder)) if table.scenario.rate(a, b) is None]
    if row.ok(top - 1) or not missing:
        return f"{placed}; no later member can take unit {top} ({units[top].name})"
    return f"{placed}; the remaining {n - top} units fit on end point {end} but there is no link {' / '.join(missing)}"
