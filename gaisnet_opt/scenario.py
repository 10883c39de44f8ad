"""The scenario of one planning round (docs/model.md §2): nodes, links, training, services.

Cross-references (links naming nodes, one link per pair, ...) are checked
when a scenario is built, so every solver may trust its input. Each problem
is reported with its field path, e.g. ``d2d.3.dst: unknown node 'c99'``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from operator import attrgetter
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
    model_validator,
)

from gaisnet_opt.errors import FieldProblem, raise_problems
from gaisnet_opt.profile import ModelProfile

NodeId = str

OPTIMIZER_STATES: dict[str, int] = {"sgd": 0, "sgdm": 1, "adam": 2}
"""Optimizer state values kept per tunable parameter (docs/model.md §2)."""


class DataSource(BaseModel):
    """Local training data of a client: it can start a fine-tuning cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: PositiveInt
    classes: tuple[int, ...] = Field(min_length=1, description="class labels present in the local data")


class InferenceRequest(BaseModel):
    """A client's request to classify `samples` inputs this round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    samples: PositiveInt
    cached: bool = Field(default=False, description="tunable modules already on the chain: no delivery")


class Node(BaseModel):
    """A client or an edge server with its effective resources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: NodeId = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    kind: Literal["client", "edge"]
    device: str = Field(default="", description="device class label, informative")
    flops: PositiveFloat = Field(description="effective compute, FLOP/s")
    memory_bytes: PositiveFloat = Field(description="memory available for the model, bytes")
    energy_per_flop: NonNegativeFloat = Field(description="J/FLOP")
    tx_power_w: NonNegativeFloat = Field(description="transmit power, W")
    position: tuple[float, float] | None = Field(default=None, description="metres")
    slots: NonNegativeInt = Field(
        default=1,
        description="chains an edge server may join as cooperative node, each at flops / slots; "
        "0: it only delivers and aggregates",
    )
    pass_overhead_s: NonNegativeFloat = Field(
        default=0.0,
        description="fixed seconds of each forward or backward pass a member runs here, whatever its FLOPs "
        "(framework dispatch, kernel launches); 0 is the paper's pure FLOPs / F model",
    )
    bwd_efficiency: PositiveFloat = Field(
        default=1.0,
        description="backward FLOP/s as a share of `flops` (a calibrated host's autograd runs below its forward "
        "rate); 1 is the paper's single speed",
    )
    data: DataSource | None = None
    request: InferenceRequest | None = None


class D2DLink(BaseModel):
    """A directed device-to-device link between two clients."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    src: NodeId
    dst: NodeId
    rate_bps: PositiveFloat


class ServerLink(BaseModel):
    """A client's cellular link to an edge server, both directions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client: NodeId
    server: NodeId
    uplink_bps: PositiveFloat
    downlink_bps: PositiveFloat


class Training(BaseModel):
    """How each fine-tuning cluster trains within a round."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: PositiveInt = 16
    local_iters: PositiveInt = Field(default=10, description="iterations per round (I)")
    optimizer: Literal["sgd", "sgdm", "adam"] = "adam"

    @property
    def optimizer_states(self) -> int:
        return OPTIMIZER_STATES[self.optimizer]


class FinetuneService(BaseModel):
    """The fine-tuning service of this round: how many clusters, by when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_clusters: PositiveInt = 1
    max_clusters: PositiveInt | None = Field(default=None, description="None: as many as data sources")
    deadline_s: PositiveFloat | None = None

    @model_validator(mode="after")
    def _range(self) -> FinetuneService:
        if self.max_clusters is not None and self.max_clusters < self.min_clusters:
            raise_problems(
                "FinetuneService",
                [FieldProblem(("max_clusters",), f"must be >= min_clusters ({self.min_clusters})", self.max_clusters)],
            )
        return self


class Scenario(BaseModel):
    """Everything one planning round needs; self-contained, so a plan can be checked anywhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "scenario"
    nodes: tuple[Node, ...] = Field(min_length=1)
    d2d: tuple[D2DLink, ...] = ()
    server_links: tuple[ServerLink, ...] = ()
    training: Training = Training()
    finetune: FinetuneService | None = FinetuneService()
    profile: ModelProfile
    meta: dict[str, str | int | float] = Field(default_factory=dict, description="generator provenance")

    @model_validator(mode="after")
    def _cross_references(self) -> Scenario:
        raise_problems("Scenario", list(_scenario_problems(self)))
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Scenario:
        """A validated copy: cross-references checked again and the lookup caches built anew."""
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self).model_validate({**fields, **(update or {})})

    @cached_property
    def node(self) -> dict[NodeId, Node]:
        """Nodes by id."""
        return {n.id: n for n in self.nodes}

    @cached_property
    def d2d_rate(self) -> dict[tuple[NodeId, NodeId], float]:
        """D2D rate in bit/s by (src, dst)."""
        return {(l.src, l.dst): l.rate_bps for l in self.d2d}

    @cached_property
    def server_link(self) -> dict[tuple[NodeId, NodeId], ServerLink]:
        """Client-server link by (client, server)."""
        return {(l.client, l.server): l for l in self.server_links}

    @property
    def clients(self) -> list[Node]:
        return list(self._kinds[0])

    @property
    def edges(self) -> list[Node]:
        return list(self._kinds[1])

    @property
    def data_sources(self) -> list[Node]:
        return list(self._kinds[2])

    @property
    def requesters(self) -> list[Node]:
        return list(self._kinds[3])

    @cached_property
    def _kinds(self) -> tuple[tuple[Node, ...], ...]:
        """Clients, edge servers, data sources and requesters, each found once: the precheck asks for the edge
        servers once per request, and a scan of 20,000 nodes each time took 6.2 s of its 7 s."""
        return (tuple(n for n in self.nodes if n.kind == "client"), tuple(n for n in self.nodes if n.kind == "edge"),
                tuple(n for n in self.nodes if n.data is not None), tuple(n for n in self.nodes if n.request is not None))

    def rate(self, src: NodeId, dst: NodeId) -> float | None:
        """Rate in bit/s of the hop src → dst (D2D, uplink or downlink); None if unlinked."""
        a, b = self.node[src], self.node[dst]
        if a.kind == "client" and b.kind == "client":
            return self.d2d_rate.get((src, dst))
        if a.kind == "client" and b.kind == "edge":
            link = self.server_link.get((src, dst))
            return None if link is None else link.uplink_bps
        if a.kind == "edge" and b.kind == "client":
            link = self.server_link.get((dst, src))
            return None if link is None else link.downlink_bps
        return None

    def servers_of(self, client: NodeId) -> list[NodeId]:
        """Edge servers the client reaches, in scenario order."""
        return list(self._servers.get(client, ()))

    @cached_property
    def _servers(self) -> dict[NodeId, list[NodeId]]:
        """Servers by client, built once: a scan of every link per call is quadratic in a city's clients."""
        out: dict[NodeId, list[NodeId]] = {}
        for l in self.server_links:
            out.setdefault(l.client, []).append(l.server)
        return out


def _scenario_problems(s: Scenario) -> Iterator[FieldProblem]:
    kinds = {n.id: n.kind for n in s.nodes}
    yield from _node_problems(s.nodes)
    yield from _link_problems("d2d", s.d2d, kinds, ("src", "client"), ("dst", "client"))
    yield from _link_problems("server_links", s.server_links, kinds, ("client", "client"), ("server", "edge"))


def _node_problems(nodes: tuple[Node, ...]) -> Iterator[FieldProblem]:
    seen: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if n.id in seen:
            yield FieldProblem(("nodes", i, "id"), f"duplicate node id '{n.id}' (first at nodes.{seen[n.id]})", n.id)
        seen.setdefault(n.id, i)
        if n.kind == "edge":
            for attr in ("data", "request"):
                if getattr(n, attr) is not None:
                    yield FieldProblem(("nodes", i, attr), "only clients hold data or raise requests", attr)
        elif n.slots != 1:
            yield FieldProblem(("nodes", i, "slots"), "only edge servers have slots other than 1", n.slots)
    if all(n.kind != "edge" for n in nodes):
        yield FieldProblem(("nodes",), "at least one edge server (kind 'edge') is needed to deliver and aggregate", None)


KIND_NAMES = {"client": "a client", "edge": "an edge server"}


def _link_problems(field: str, links: Sequence[BaseModel], kinds: Mapping[str, str],
                   *want: tuple[str, str]) -> Iterator[FieldProblem]:
    """Links naming unknown nodes or nodes of the wrong kind, self-links and duplicates (D2D or client-server).

    `want` names each end's attribute and the kind of node it must be.
    """
    if _links_sound(links, kinds, want):
        return
    seen: set[tuple[str, str]] = set()
    arrow = "->" if field == "d2d" else "<->"
    for i, pair in enumerate(map(attrgetter(*(end for end, _ in want)), links)):
        for nid, (end, kind) in zip(pair, want):
            if nid not in kinds:
                yield FieldProblem((field, i, end), f"unknown node '{nid}'", nid)
            elif kinds[nid] != kind:
                why = "is an edge server; D2D links join clients" if field == "d2d" else f"is not {KIND_NAMES[kind]}"
                yield FieldProblem((field, i, end), f"'{nid}' {why}", nid)
        if pair[0] == pair[1]:
            yield FieldProblem((field, i), f"self-link on '{pair[0]}'", pair[0])
        if pair in seen:
            yield FieldProblem((field, i), f"duplicate link {pair[0]} {arrow} {pair[1]}", pair[0])
        seen.add(pair)


def _links_sound(links: Sequence[BaseModel], kinds: Mapping[str, str], want: Sequence[tuple[str, str]]) -> bool:
    """Whether no link has a problem, decided over all links at once (node numbers, one sort).

    A city's million links pass in about a second; only a scenario that fails
    walks its links one by one (`_link_problems`) to name each problem.
    """
    number = {nid: i for i, nid in enumerate(kinds)}
    ends = []
    for end, kind in want:
        allowed = {nid: number[nid] for nid, k in kinds.items() if k == kind}
        try:
            ends.append(np.fromiter(map(allowed.__getitem__, map(attrgetter(end), links)), np.int64, len(links)))
        except KeyError:  # an unknown node, or one of the wrong kind
            return False
    first, second = ends
    pairs = np.sort(first * len(number) + second)  # np.unique is several times slower here
    return not np.any(first == second) and not np.any(pairs[1:] == pairs[:-1])
