"""The plan (docs/model.md §3): clusters, each a chain of members holding unit ranges.

The plan is only structure; whether it obeys the rules is the checker's job
(`gaisnet_opt.checker`), what it costs is the cost model's (`gaisnet_opt.cost`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

ClusterKind = Literal["finetune", "inference"]


class Member(BaseModel):
    """A chain member: a node holding units `first`..`last` (inclusive, 0-based)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str
    first: NonNegativeInt
    last: NonNegativeInt

    @property
    def n_units(self) -> int:
        """Units held; zero when last < first (the checker reports it)."""
        return max(0, self.last - self.first + 1)


class Cluster(BaseModel):
    """One fine-tuning or inference cluster; `members[0]` is the start point."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClusterKind
    members: tuple[Member, ...] = Field(min_length=1)
    server: str | None = Field(
        default=None,
        description="edge server that delivers the tunable modules and aggregates; None: an edge server "
        "in the chain, else the first the start point reaches (cost.resolve_server)",
    )

    @property
    def chain(self) -> list[str]:
        return [m.node for m in self.members]

    @property
    def start(self) -> str:
        return self.members[0].node

    @property
    def end(self) -> str:
        return self.members[-1].node


class Plan(BaseModel):
    """A set of clusters for one round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clusters: tuple[Cluster, ...] = ()


def cluster_from_counts(
    kind: ClusterKind, chain: list[str], counts: list[int], server: str | None = None
) -> Cluster:
    """A cluster whose i-th member holds the next `counts[i]` units (each count >= 1)."""
    if len(counts) != len(chain) or min(counts, default=0) < 1:
        raise ValueError(f"counts {counts} must give each of the {len(chain)} members at least one unit")
    members, first = [], 0
    for node, c in zip(chain, counts):
        members.append(Member(node=node, first=first, last=first + c - 1))
        first += c
    return Cluster(kind=kind, members=tuple(members), server=server)
