"""The campaign's world: the base scenario, who holds which domain's data, where everyone starts, the area.

Built once from the document; every round's scenario is derived from it
(`network.py`). The scenario's own data sources and requests give way to the
domains': a domain's source holds `samples` samples of the domain's classes,
and requests come from the arrival process (`arrivals.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gaisnet_opt.campaign.spec import CampaignSpec, Domain, GenerateSpec, Static
from gaisnet_opt.errors import InputError, format_path
from gaisnet_opt.generator import generate
from gaisnet_opt.io import load
from gaisnet_opt.profile_catalog import load_profile
from gaisnet_opt.profilers.config import DIGITS_VIT
from gaisnet_opt.scenario import DataSource, FinetuneService, Scenario

SOURCES_STREAM = 1
"""Seed stream of the draw of data sources (`np.random.default_rng([seed, stream])`)."""

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in metres."""


@dataclass(frozen=True)
class World:
    """The base scenario (domain data, no requests), initial positions and the area clients move in."""

    base: Scenario
    """the scenario with the domains' data sources and no requests"""
    domains: tuple[DomainWorld, ...]
    positions: np.ndarray
    """(N, 2) client positions in round 1, clients in scenario order; empty without positions"""
    area: Box
    moving: bool
    """links are recomputed from positions each round (False: the scenario's links stand)"""

    @property
    def clients(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.base.clients)

    @property
    def domain_of(self) -> dict[str, str]:
        """Data-source client -> domain name."""
        return {s: d.name for d in self.domains for s in d.sources}

    def domain(self, name: str) -> DomainWorld:
        return next(d for d in self.domains if d.name == name)


@dataclass(frozen=True)
class DomainWorld:
    """A domain as the campaign runs it: the document's domain, its classes and its sources."""

    spec: Domain
    classes: tuple[int, ...]
    """its task's class labels (every class of the profile's model when the document names none)"""
    sources: tuple[str, ...]
    """its data-source clients, in scenario order"""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def data(self) -> str:
        """'digits' or the domain's image folder."""
        return self.spec.data


def _fail(problems: list[tuple[tuple[str | int, ...], str]]) -> None:
    if problems:
        raise InputError("campaign", [(format_path(loc), reason) for loc, reason in problems])


def resolve_scenario(spec: CampaignSpec) -> Scenario:
    """The campaign's scenario: read from its path, embedded, or generated."""
    source = spec.scenario
    if isinstance(source, str):
        return load(Scenario, source)
    if isinstance(source, Scenario):
        return source
    return _generated(source)


def _generated(g: GenerateSpec) -> Scenario:
    profile = load_profile(g.profile or DIGITS_VIT.profile_name)
    scenario = generate(g.clients, g.seed, profile=profile, area_per_client_m2=g.area_per_client_m2,
                        edge_slots=g.edge_slots, training=g.training)
    if g.client_memory_bytes is None:
        return scenario
    nodes = tuple(n.model_copy(update={"memory_bytes": min(n.memory_bytes, g.client_memory_bytes)})
                  if n.kind == "client" else n for n in scenario.nodes)
    return scenario.model_copy(update={"nodes": nodes})


def build_world(spec: CampaignSpec) -> World:
    """Resolve the scenario, check the domains against it, give the sources their data; an InputError names any field."""
    scenario = resolve_scenario(spec)
    n_classes = max(1, round(scenario.profile.units[-1].out_bytes / scenario.profile.bytes_per_value))
    clients = [n.id for n in scenario.clients]
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for i, d in enumerate(spec.domains):
        for j, c in enumerate(d.classes or ()):
            if c >= n_classes:
                problems.append((("domains", i, "classes", j), f"class {c}: the profile's model has classes 0..{n_classes - 1}"))
        for j, node in enumerate(d.sources if isinstance(d.sources, tuple) else ()):
            if node not in clients:
                problems.append((("domains", i, "sources", j), f"'{node}' is not a client of scenario '{scenario.name}'"))
    moving = not isinstance(spec.dynamics.mobility, Static)
    unplaced = [i for i, n in enumerate(scenario.nodes) if n.position is None]
    if moving and unplaced:
        problems.append((("scenario", "nodes", unplaced[0], "position"), "clients move: every node needs a position"))
    _fail(problems)
    sources = _sources(spec, scenario, clients)
    domains = tuple(DomainWorld(d, d.classes or tuple(range(n_classes)), s) for d, s in zip(spec.domains, sources))
    base = _with_domain_data(scenario, domains)
    positions = np.array([n.position for n in base.clients], dtype=float) if not unplaced else np.zeros((0, 2))
    return World(base, domains, positions, _area(spec, scenario), moving)


def _sources(spec: CampaignSpec, scenario: Scenario, clients: list[str]) -> list[tuple[str, ...]]:
    """Each domain's data sources: given, drawn (seeded), or the scenario's own dealt in turn."""
    domains = spec.domains
    if all(d.sources is None for d in domains):
        own = [n.id for n in scenario.data_sources]
        if len(own) < len(domains):
            _fail([(("scenario",), f"{len(own)} data source(s) for {len(domains)} domains; give domains[*].sources")])
        return [tuple(own[i :: len(domains)]) for i in range(len(domains))]
    taken = {s for d in domains if isinstance(d.sources, tuple) for s in d.sources}
    free = [c for c in clients if c not in taken]
    order = np.random.default_rng([spec.seed, SOURCES_STREAM]).permutation(len(free))
    pool = [free[k] for k in order]
    wanted = sum(d.sources for d in domains if isinstance(d.sources, int))
    if wanted > len(pool):
        _fail([(("domains",), f"{wanted} drawn sources, but only {len(pool)} clients are not given sources")])
    out = []
    for d in domains:
        if isinstance(d.sources, int):
            out.append(tuple(sorted(pool[: d.sources], key=clients.index)))
            pool = pool[d.sources :]
        else:
            out.append(tuple(d.sources or ()))
    return out


def _with_domain_data(scenario: Scenario, domains: tuple[DomainWorld, ...]) -> Scenario:
    data = {s: DataSource(samples=d.spec.samples, classes=d.classes) for d in domains for s in d.sources}
    nodes = tuple(n.model_copy(update={"data": data.get(n.id), "request": None}) if n.kind == "client" else n
                  for n in scenario.nodes)
    deadline = scenario.finetune.deadline_s if scenario.finetune is not None else None
    return scenario.model_copy(update={"nodes": nodes, "finetune": FinetuneService(deadline_s=deadline)})


def _area(spec: CampaignSpec, scenario: Scenario) -> Box:
    if spec.dynamics.area_m is not None:
        return (0.0, 0.0, *spec.dynamics.area_m)
    side = scenario.meta.get("side_m")
    if isinstance(side, int | float):
        return (0.0, 0.0, float(side), float(side))
    xy = np.array([n.position for n in scenario.nodes if n.position is not None] or [(0.0, 0.0)], dtype=float)
    return (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))
