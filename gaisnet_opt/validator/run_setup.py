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
from gaisnet_opt.io import load
from gaisnet_opt.plan import Plan
from gaisnet_opt.profilers.prompted_vit import PromptedViT
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.calibration import HostCalibration
from gaisnet_opt.validator.checkpoint import fingerprint
from gaisnet_opt.validator.data import Dataset, Partition, load_data, partition
from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.fedavg import State, tunable_state
from gaisnet_opt.validator.inference import InferenceChain
from gaisnet_opt.validator.local_training import ClusterJob
from gaisnet_opt.validator.model import Tune, build_for, config_of
from gaisnet_opt.validator.records import Network, RunConfig
from gaisnet_opt.validator.split_chain import LOCAL, Link, SplitChain

DEFAULT_LR = 1e-2
DEFAULT_TIMEOUT_S = 60.0


def run_config(rounds: int, data: str | Path, checkpoint: str | Path | None, seed: int, partition_scheme: Partition,
               alpha: float, lr: float, tune: Tune, *, network: Network = "inprocess", time_scale: float = 1.0,
               calibration: HostCalibration | str | Path | None = None) -> RunConfig:
    """The run's inputs besides scenario, plan and faults, as recorded in the report (and, but for the testbed's
    settings, fingerprinted); `calibration` may be a saved calibration's file. An InputError for a bad time scale
    or calibration file."""
    if not time_scale > 0:
        raise InputError("validate", [("time_scale", f"{time_scale}: must be positive")])
    path = None if calibration is None or isinstance(calibration, HostCalibration) else str(calibration)
    host = load(HostCalibration, path) if path is not None else calibration
    return RunConfig(rounds=rounds, data=str(data), checkpoint=None if checkpoint is None else str(checkpoint),
                     seed=seed, partition=partition_scheme, alpha=alpha, lr=lr, tune=tune, network=network,
                     time_scale=time_scale, calibration=host, calibration_file=path)


def _check_calibration(scenario: Scenario, calibration: HostCalibration | None) -> list[tuple[str, str]]:
    """Why `calibration` cannot predict this run (nothing: it can)."""
    if calibration is None:
        return []
    out = []
    if calibration.profile != scenario.profile.name:
        out.append(("calibration.profile", f"measured on '{calibration.profile}', the scenario trains "
                                           f"'{scenario.profile.name}'"))
    if calibration.batch != scenario.training.batch_size:
        out.append(("calibration.batch", f"measured at batch {calibration.batch}, the scenario trains batch "
                                         f"{scenario.training.batch_size} (calibrate at that batch)"))
    return out


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
    initial: State
    """the tunable modules the run starts from: what a cached inference chain holds (it is never delivered)"""

    def cached(self, start: str) -> bool:
        """Whether the request of `start` is served by a chain that holds the tunable modules already."""
        request = self.scenario.node[start].request
        return request is not None and request.cached

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
    if problems := _check_calibration(scenario, config.calibration):
        raise InputError(config.calibration_file or "calibration", problems)
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
                 jobs, serving, tunable_state(model))
