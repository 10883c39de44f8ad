"""The in-process engine's round: local training of every cluster, then FedAvg of those that finished."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.plan import Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import build_model  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
from gaisnet_opt.validator.data import load_digits  # noqa: E402
from gaisnet_opt.validator.fedavg import tunable_state  # noqa: E402
from gaisnet_opt.validator.inprocess import train_round  # noqa: E402
from gaisnet_opt.validator.local_training import ClusterJob  # noqa: E402
from gaisnet_opt.validator.split_chain import SplitChain  # noqa: E402
from tests.support.validator_runs import same_state, state_of  # noqa: E402
from tests.support.validator_worlds import digits_world  # noqa: E402

torch.set_num_threads(1)

A = cluster_from_counts("finetune", ["c0", "c2", "e0"], [2, 3, 1])
B = cluster_from_counts("finetune", ["c1", "c3"], [1, 5])


def test_fedavg_of_identical_clusters_equals_one_clusters_training():
    data = load_digits().pool
    model = build_model(DIGITS_VIT, seed=2)
    start = tunable_state(model)

    def run(chains: list[list[str]]) -> dict[str, torch.Tensor]:
        jobs = [ClusterJob(i, SplitChain(model.units(), cluster_from_counts("finetune", chain, [3, 3]).members), data, "c0")
                for i, chain in enumerate(chains)]
        state = start
        for r in (1, 2):
            state = train_round(model, jobs, state, round_no=r, iterations=3, batch=8, optimizer="adam", lr=0.01, seed=0).state
        return state

    alone = run([["c0", "c1"]])
    together = run([["c0", "c1"], ["c2", "c3"], ["c4", "c5"]])
    assert not same_state(alone, start, atol=1e-3)  # training moved the modules
    assert same_state(together, alone, atol=1e-6)


def test_a_failed_member_is_lost_for_good(tmp_path):
    """One rule for both engines: the member that made a cluster fail is lost, and its cluster trains no more
    (the distributed engine cannot bring a dead process back; `distributed/test_engine.py` checks they agree)."""
    scenario = digits_world()
    both, only_a = Plan(clusters=(A, B)), Plan(clusters=(A,))
    fault = Fault(round=1, node="c3", iteration=1)
    failed = validate(scenario, both, rounds=2, out_dir=tmp_path / "f2", faults=[fault])
    assert failed.rounds[1].failures == ["cluster 1: member c3 failed at iteration 1"]
    assert failed.rounds[2].failures == ["cluster 1: member c3 is gone (lost in round 1)"]
    assert failed.rounds[2].train_loss is not None
    validate(scenario, only_a, rounds=2, out_dir=tmp_path / "a")
    assert same_state(state_of(tmp_path / "f2"), state_of(tmp_path / "a"))  # B's partial update touched nothing
