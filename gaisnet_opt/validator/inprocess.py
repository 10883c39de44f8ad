"""The default engine: every member in this process, clusters one after another."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from gaisnet_opt.validator.faults import Fault
from gaisnet_opt.validator.fedavg import Lost, RoundOutcome, State, aggregate, decide, gone_clusters, load_tunable
from gaisnet_opt.validator.local_training import ClusterJob, train_clusters
from gaisnet_opt.validator.rounds import ServeOutcome, gone_serving, serve_request
from gaisnet_opt.validator.run_setup import Setup


def train_round(
    model: nn.Module, jobs: Sequence[ClusterJob], global_state: State, lost: Lost | None = None, *, round_no: int,
    iterations: int, batch: int, optimizer: str, lr: float, seed: int, faults: Sequence[Fault] = (),
) -> RoundOutcome:
    """Every cluster's local iterations from `global_state` (but those with a member lost before), then FedAvg of
    those that finished; the culprit of a failed cluster is lost from now on."""
    lost = dict(lost or {})
    gone = gone_clusters({j.index: [w.node for w in j.chain.workers] for j in jobs}, lost)
    results = train_clusters(model, [j for j in jobs if j.index not in gone], global_state, round_no=round_no,
                             iterations=iterations, batch=batch, optimizer=optimizer, lr=lr, seed=seed, faults=faults)
    decision = decide({r.index: [r.view] for r in results}, gone)
    state = aggregate({r.index: r.update for r in results if r.update is not None}, decision, global_state)
    load_tunable(model, state)
    return RoundOutcome(state, decision.train_loss, decision.failures, lost | dict.fromkeys(decision.culprits, round_no))


class InProcess:
    """Every member in this process (`rounds.Engine`)."""

    def start(self, setup: Setup, done: int, state: State, lost: Lost) -> None:
        """Nothing to tell anyone."""

    def train(self, setup: Setup, round_no: int, state: State, lost: Lost) -> RoundOutcome:
        t = setup.scenario.training
        return train_round(setup.model, setup.jobs, state, lost, round_no=round_no, iterations=t.local_iters,
                           batch=t.batch_size, optimizer=t.optimizer, lr=setup.config.lr, seed=setup.config.seed,
                           faults=setup.faults)

    def serve(self, setup: Setup, round_no: int, state: State, lost: Lost) -> ServeOutcome:
        gone = gone_serving(setup, lost)
        records = []
        for i, start, chain in setup.serving:
            if i in gone:
                continue
            load_tunable(setup.model, setup.initial if setup.cached(start) else state)
            record = serve_request(setup, i, start, chain, round_no)
            assert record is not None  # every member is here, the start point too
            records.append(record)
        return records, [f"cluster {i}: {why}" for i, why in gone.items()]
