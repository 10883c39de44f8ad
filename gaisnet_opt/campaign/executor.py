"""The campaign's one door to the validator: each domain's edge model, trained and served for real round by round.

A domain's model is the scenario profile's prompted ViT on the shared
pre-trained backbone, with its own prompts and head (its tunable state),
carried from round to round. A round of the domain runs the validator's own
steps (`validator.run.prepare`, its in-process engine, `fedavg.evaluate`) on
the domain's part of the round's plan: its requests are served first, at the
level the round started with (docs/model.md §6), then its fine-tuning
clusters train and are averaged, then the model is tested on the domain's
held-out split (the data set's test split restricted to the domain's classes),
which also supplies the inputs of its requests.

At merge with the restructured validator, only this module changes: it
reads `prepare`, `run_config`, `InProcess` (`serve`, `train`) from
`validator.run`, `evaluate`, `load_tunable`, `tunable_state` from
`validator.fedavg`, `build_for`, `config_of` from `validator.model`,
`load_data`, `Split` from `validator.data` and `pretrain` from
`validator.pretrain`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from gaisnet_opt.campaign.spec import ValidatorSettings
from gaisnet_opt.campaign.world import DomainWorld
from gaisnet_opt.plan import Plan
from gaisnet_opt.profile import ModelProfile
from gaisnet_opt.scenario import Scenario
from gaisnet_opt.validator.data import Split, load_data
from gaisnet_opt.validator.evaluation import evaluate
from gaisnet_opt.validator.fedavg import load_tunable, tunable_state
from gaisnet_opt.validator.inprocess import InProcess
from gaisnet_opt.validator.model import build_for, config_of
from gaisnet_opt.validator.pretrain import pretrain
from gaisnet_opt.validator.run_setup import prepare, run_config

BACKBONE = "backbone.safetensors"


@dataclass(frozen=True)
class ServedRequest:
    """One request served by the validator: whose, how many inputs, the share answered right."""

    client: str
    samples: int
    accuracy: float


@dataclass(frozen=True)
class Executed:
    """A domain's round: held-out accuracy after it, the requests served, the training loss, failures, host seconds."""

    accuracy: float
    served: tuple[ServedRequest, ...]
    train_loss: float | None
    failures: tuple[str, ...]
    seconds: float


def backbone(settings: ValidatorSettings, work: Path, seed: int) -> Path | None:
    """The pre-trained backbone: the document's checkpoint, or one pre-trained into `work`, or none (random)."""
    if settings.checkpoint is not None:
        return Path(settings.checkpoint)
    if settings.pretrain_epochs == 0:
        return None
    path = work / BACKBONE
    pretrain(path, epochs=settings.pretrain_epochs, seed=seed)
    return path


class DomainModel:
    """One domain's edge model over the campaign: its tunable state, held-out split, and fine-tuning rounds done."""

    def __init__(self, domain: DomainWorld, profile: ModelProfile, checkpoint: Path | None, lr: float, seed: int):
        self.domain = domain
        self.config = run_config(1, domain.data, checkpoint, seed, "classes", 0.5, lr, "prompts")
        self.test = held_out(load_data(domain.data, config_of(profile)).test, domain.classes)
        model = build_for(profile, checkpoint, seed)
        self.state = tunable_state(model)
        self.accuracy = evaluate(model, self.test)[1]
        self.rounds = 0

    def run(self, scenario: Scenario, plan: Plan, round_no: int) -> Executed:
        """Serve, then train the domain's clusters of `plan` (it passes the checker on `scenario`, or an InputError)."""
        t0 = time.perf_counter()
        setup = prepare(scenario, plan, self.config)
        setup.dataset = replace(setup.dataset, test=self.test)
        load_tunable(setup.model, self.state)
        engine = InProcess()
        served, _ = engine.serve(setup, round_no, self.state, {})  # a campaign's members are never lost for good
        loss: float | None = None
        failures: tuple[str, ...] = ()
        if setup.jobs:
            self.rounds += 1
            outcome = engine.train(setup, self.rounds, self.state, {})
            self.state, loss, failures = outcome.state, outcome.train_loss, outcome.failures
            self.accuracy = evaluate(setup.model, self.test)[1]
        starts = {i: start for i, start, _ in setup.serving}
        requests = tuple(ServedRequest(starts[r.cluster], r.samples, r.accuracy) for r in served)
        return Executed(self.accuracy, requests, loss, failures, time.perf_counter() - t0)


def held_out(test: Split, classes: tuple[int, ...]) -> Split:
    """The part of `test` in `classes`."""
    return test.take(np.flatnonzero(np.isin(test.labels.numpy(), classes)))
