"""What one process builds for a run: the checked inputs, the model, the chains and the local data.

A distributed run builds it in every process (each then runs its own
members), so building it must not depend on where it runs except through
`link_for` and `holds`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gaisnet_opt.checker import check
from gaisnet_opt.errors import InputError
from gaisnet_opt.plan import Plan
from gaisnet_opt.profilers.prompted_vit import PromptedViT
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.checkpoint import fingerprint
from gaisnet_opt.validator.data import Dataset, Partition, load_data, partition
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.local_training import ClusterJob
from gaisnet_opt.validator.model import Tune, build_for, config_of
from gaisnet_opt.validator.report import RunConfig
from gaisnet_opt.validator.split_chain import LOCAL, Link, SplitChain

DEFAULT_LR = 1e-2
DEFAULT_TIMEOUT_S = 60.0


def run_config(rounds: int, data: str | Path, checkpoint: str | Path | None, seed: int, partition_scheme: Partition,
               alpha: float, lr: float, tune: Tune) -> RunConfig:
    """The run's inputs besides scenario, plan and faults, as recorded in the report and fingerprinted."""
    return RunConfig(rounds=rounds, data=str(data), checkpoint=None if checkpoint is None else str(checkpoint),
                     seed=seed, partition=partition_scheme, alpha=alpha, lr=lr, tune=tune)


@dataclass
class Setup:
    """The run's inputs, model, chains and this process's local data."""

    scenario: Scenario
    plan: Plan
    config: RunConfig
    faults: tuple[Fault, ...]
    fingerprint: str
    dataset: Dataset
    model: PromptedViT
    jobs: list[ClusterJob]
    serving: list[tuple[int, str, InferenceChain]]
    """(cluster index, start point, chain) of every inference cluster"""

    @property
    def chains(self) -> dict[int, SplitChain]:
        """Every cluster's chain by cluster index."""
        return {j.index: j.chain for j in self.jobs} | {i: ch for i, _, ch in self.serving}


def prepare(
    scenario: Scenario, plan: Plan, config: RunConfig, faults: Sequence[Fault] = (), *,
    link_for: Callable[[int], Link] = lambda _: LOCAL, holds: Callable[[str], bool] = lambda _: True,
) -> Setup:
    """Check the inputs and build the model, the chains and the local data.

    `link_for(i)` is cluster i's link; `holds(node)` says whether this process
    holds that start point's data (its partition is made nowhere else).
    Refused with an InputError: a plan the checker rejects, a scenario profile
    that does not describe the model trained, unreadable data or checkpoint.
    """
    violations = check(scenario, plan)
    if violations:
        raise InputError("plan", [(v.path, f"{v.message} (rule {v.rule})") for v in violations])
    if config.rounds < 1:
        raise InputError("validate", [("rounds", f"{config.rounds}: at least one round is needed")])
    cfg = config_of(scenario.profile)
    dataset = load_data(config.data, cfg)
    model = build_for(scenario.profile, config.checkpoint, config.seed, config.tune)  # type: ignore[arg-type]
    clients = frozenset(n.id for n in scenario.clients)
    units = model.units()

    finetune = [(i, c) for i, c in enumerate(plan.clusters) if c.kind == "finetune"]
    sources = {c.start: scenario.node[c.start].data for _, c in finetune if holds(c.start)}
    local = partition(dataset.pool, {k: v for k, v in sources.items() if v is not None},
                      config.partition, config.seed, config.alpha)  # type: ignore[arg-type]
    jobs = [ClusterJob(i, SplitChain(units, c.members, clients, link_for(i)), local.get(c.start), c.start) for i, c in finetune]
    serving = [(i, c.start, InferenceChain(units, c.members, clients, link_for(i)))
               for i, c in enumerate(plan.clusters) if c.kind == "inference"]
    return Setup(scenario, plan, config, tuple(faults), fingerprint(scenario, plan, config, faults), dataset, model,
                 jobs, serving)
