"""What a re-plan moves: the model units a client holds this round but did not hold after its last round.

The cost model assumes the frozen backbone already sits where a plan puts
its units and delivers only the tunable modules, every round (docs/model.md
§4.1). Between rounds that holds only where the plan did not change: a
client given units it does not store must first receive their parameters.
That delivery is the migration a re-plan pays: the frozen bytes of the new
units (`ModelProfile` figures), sent from the cluster's edge server over the
client's downlink (else from the first edge server it reaches), priced by
the cost model's `transfer_s` and `joules` at the server's transmit power.
Deliveries run in parallel, like the cost model's T_dl: a service's migration
takes its slowest member's seconds; its air time (the seconds of all its
deliveries, what stability weighs) and joules add up. The backbone is
shared by every domain's model (only prompts and heads differ), so what a
client stores does not depend on the domain. A client keeps the units of the
last cluster it was in; edge servers hold the whole backbone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel, ConfigDict

from gaisnet_opt.cost import joules, resolve_server, transfer_s
from gaisnet_opt.plan import Cluster, Member, Plan
from gaisnet_opt.scenario import Scenario

Store = Mapping[str, frozenset[int]]
"""Client id -> units whose parameters it holds."""


class Migration(BaseModel):
    """Members that receive units, how many units, bytes, seconds (the slowest delivery), air time and joules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    members: int = 0
    units: int = 0
    bytes: float = 0.0
    seconds: float = 0.0
    air_seconds: float = 0.0
    joules: float = 0.0

    def __add__(self, other: Migration) -> Migration:
        """Two deliveries side by side: seconds are the slower one's, everything else adds."""
        return Migration(members=self.members + other.members, units=self.units + other.units,
                         bytes=self.bytes + other.bytes, seconds=max(self.seconds, other.seconds),
                         air_seconds=self.air_seconds + other.air_seconds, joules=self.joules + other.joules)


def new_units(store: Store, member: Member) -> frozenset[int]:
    """Units `member` holds that its node does not store."""
    return frozenset(range(member.first, member.last + 1)) - store.get(member.node, frozenset())


def cluster_migration(scenario: Scenario, store: Store, cluster: Cluster) -> Migration:
    """The migration `cluster` needs given what the clients store."""
    total = Migration()
    server = resolve_server(scenario, cluster)
    for m in cluster.members:
        if scenario.node[m.node].kind == "edge" or not (units := new_units(store, m)):
            continue
        size = sum(scenario.profile.units[u].frozen_param_bytes for u in units)
        sender = server if server is not None and (m.node, server) in scenario.server_link else next(
            iter(scenario.servers_of(m.node)), None)
        link = scenario.server_link.get((m.node, sender)) if sender is not None else None
        seconds = transfer_s(size, link.downlink_bps if link is not None else None)
        energy = joules(seconds, scenario.node[sender].tx_power_w) if sender is not None else 0.0
        total = total + Migration(members=1, units=len(units), bytes=size, seconds=seconds, air_seconds=seconds,
                                  joules=energy)
    return total


def migration_of(scenario: Scenario, store: Store, clusters: Iterable[Cluster]) -> Migration:
    """The migration of several clusters delivered side by side."""
    total = Migration()
    for c in clusters:
        total = total + cluster_migration(scenario, store, c)
    return total


def stored_after(scenario: Scenario, store: Store, plan: Plan) -> dict[str, frozenset[int]]:
    """What the clients store after `plan`'s round: each member its own units; everyone else what it had."""
    out = dict(store)
    for c in plan.clusters:
        for m in c.members:
            if scenario.node[m.node].kind == "client":
                out[m.node] = frozenset(range(m.first, m.last + 1))
    return out


def penalty(scenario: Scenario, store: Store) -> Callable[[Cluster], tuple[float, float]]:
    """What stability weighs for a cluster, given what the clients store: its migration's air seconds and joules."""

    def weigh(cluster: Cluster) -> tuple[float, float]:
        moved = cluster_migration(scenario, store, cluster)
        return moved.air_seconds, moved.joules

    return weigh
