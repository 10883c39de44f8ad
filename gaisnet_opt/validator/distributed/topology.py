"""Which process is which node: rank 0 the aggregating edge server, then every other chain node in plan order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from gaisnet_opt.cost import resolve_server
from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.network.emulated import Link


@dataclass(frozen=True)
class Topology:
    """Which node each rank is (rank 0: the aggregating edge server) and the member ranks of every cluster."""

    nodes: tuple[str, ...]
    clusters: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, scenario: Scenario, plan: Plan) -> Topology:
        servers = [s for c in plan.clusters if c.kind == "finetune" and (s := resolve_server(scenario, c)) is not None]
        server = (servers or [n.id for n in scenario.nodes if n.kind == "edge"] or ["aggregator"])[0]
        nodes = [server]
        for c in plan.clusters:
            nodes += [m.node for m in c.members if m.node not in nodes]
        rank = {n: r for r, n in enumerate(nodes)}
        return cls(tuple(nodes), tuple(tuple(rank[m.node] for m in c.members) for c in plan.clusters))

    def scenario_links(self, scenario: Scenario) -> list[Link]:
        """Every link of the scenario between two of its nodes, in its direction: D2D, uplink, downlink."""
        return [Link(a, b, r) for a in self.nodes for b in self.nodes if a != b and (r := scenario.rate(a, b)) is not None]

    @property
    def world(self) -> int:
        return len(self.nodes)

    @property
    def links(self) -> list[tuple[int, int]]:
        """The rank pairs that exchange messages: rank 0 with every other, each chain's hops and its end with its start."""
        pairs = {(0, r) for r in range(1, self.world)}
        for ranks in self.clusters:
            for a, b in [*pairwise(ranks), (ranks[-1], ranks[0])]:
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
        return sorted(pairs)


def check_topology(scenario: Scenario, plan: Plan, faults: Sequence[Fault], nprocs: int | None) -> Topology:
    """The plan's processes; an InputError for another process count, or a fault on rank 0 (the run itself)."""
    topo = Topology.of(scenario, plan)
    if nprocs is not None and nprocs != topo.world:
        raise InputError("validate", [("nprocs", f"{nprocs}: the plan needs {topo.world} processes ({', '.join(topo.nodes)})")])
    bad = [f.node for f in faults if f.node == topo.nodes[0]]
    if bad:
        raise InputError("validate", [("faults", f"{bad[0]} is the aggregating edge server (rank 0); only members can be lost")])
    others = [(f"clusters[{i}].server", f"{s}: the distributed engine delivers and aggregates at one edge server, "
               f"{topo.nodes[0]}, for every cluster") for i, c in enumerate(plan.clusters)
              if (s := resolve_server(scenario, c)) != topo.nodes[0]]
    if others:
        raise InputError("plan", others)
    return topo
