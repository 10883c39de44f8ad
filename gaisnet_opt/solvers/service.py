"""The fine-tuning service as every solver reads it (docs/model.md §2): its cluster range, its deadline, a fixed K."""

from __future__ import annotations

from gaisnet_opt.checker import deadline_for
from gaisnet_opt.result import Objective
from gaisnet_opt.scenario import FinetuneService, Scenario


def with_clusters(scenario: Scenario, clusters: int) -> Scenario:
    """The scenario with its fine-tuning service fixed to exactly `clusters` clusters (deadline kept)."""
    deadline = scenario.finetune.deadline_s if scenario.finetune else None
    service = FinetuneService(min_clusters=clusters, max_clusters=clusters, deadline_s=deadline)
    return scenario.model_copy(update={"finetune": service})


def cluster_range(scenario: Scenario) -> tuple[int, int]:
    """Fine-tuning clusters allowed: (min, max); max defaults to the data sources that raised no request."""
    service = scenario.finetune
    if service is None:
        return 0, 0
    sources = sum(n.request is None for n in scenario.data_sources)
    top = service.max_clusters if service.max_clusters is not None else max(sources, service.min_clusters)
    return service.min_clusters, top


def deadline_of(scenario: Scenario, objective: Objective) -> float | None:
    """The deadline the checker will hold the plan to."""
    return deadline_for(scenario, objective.deadline_s)
