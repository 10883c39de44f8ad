"""The default engine: every member in this process, clusters one after another."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.fedavg import RoundOutcome, State, decide, fedavg, load_tunable
from gaisnet_opt.validator.local_training import ClusterJob, train_clusters
from gaisnet_opt.validator.report import InferenceRecord
from gaisnet_opt.validator.rounds import serve_request
from gaisnet_opt.validator.run_setup import Setup


def train_round(
    model: nn.Module, jobs: Sequence[ClusterJob], global_state: State, *, round_no: int, iterations: int, batch: int,
    optimizer: str, lr: float, seed: int, faults: Sequence[Fault] = (),
) -> RoundOutcome:
    """Every cluster's local iterations from `global_state`, then FedAvg of those that finished."""
    results = train_clusters(model, jobs, global_state, round_no=round_no, iterations=iterations, batch=batch,
                             optimizer=optimizer, lr=lr, seed=seed, faults=faults)
    decision = decide({r.index: [r.view] for r in results}, {})
    updates = [(r.update, decision.weights[r.index]) for r in results if r.update is not None and decision.weights[r.index]]
    state = fedavg(updates) if updates else global_state
    load_tunable(model, state)
    return RoundOutcome(state, decision.train_loss, decision.failures)


class InProcess:
    """Every member in this process (`rounds.Engine`)."""

    def start(self, setup: Setup, done: int, state: State) -> None:
        """Nothing to tell anyone."""

    def train(self, setup: Setup, round_no: int, state: State) -> RoundOutcome:
        t = setup.scenario.training
        return train_round(setup.model, setup.jobs, state, round_no=round_no, iterations=t.local_iters, batch=t.batch_size,
                           optimizer=t.optimizer, lr=setup.config.lr, seed=setup.config.seed, faults=setup.faults)

    def serve(self, setup: Setup, round_no: int) -> list[InferenceRecord]:
        return [record for i, start, chain in setup.serving
                if (record := serve_request(setup, i, start, chain, round_no)) is not None]
