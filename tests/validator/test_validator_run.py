"""HFSL rounds end to end: FedAvg, dropped members, resume, determinism, refusals, the CLI."""

from __future__ import annotations

import json
import math

import pytest

torch = pytest.importorskip("torch")

import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from gaisnet_opt.cli.validate import register  # noqa: E402
from gaisnet_opt.errors import InputError  # noqa: E402
from gaisnet_opt.io import save  # noqa: E402
from gaisnet_opt.plan import Member, Plan, cluster_from_counts  # noqa: E402
from gaisnet_opt.profile_catalog import load_profile  # noqa: E402
from gaisnet_opt.profilers.closed_form import closed_form_profile  # noqa: E402
from gaisnet_opt.profilers.config import DIGITS_VIT  # noqa: E402
from gaisnet_opt.profilers.prompted_vit import build_model  # noqa: E402
from gaisnet_opt.validator import Fault, validate  # noqa: E402
from gaisnet_opt.validator.data import load_digits  # noqa: E402
from gaisnet_opt.validator.engine import SplitChain  # noqa: E402
from gaisnet_opt.validator.fedavg import ClusterJob, fedavg, train_round, tunable_state  # noqa: E402
from gaisnet_opt.validator.run import CHECKPOINT  # noqa: E402
from tests.support.validator_worlds import digits_world, two_cluster_plan  # noqa: E402

torch.set_num_threads(1)

A = cluster_from_counts("finetune", ["c0", "c2", "e0"], [2, 3, 1])
B = cluster_from_counts("finetune", ["c1", "c3"], [1, 5])


def _state(out_dir) -> dict[str, torch.Tensor]:
    return torch.load(out_dir / CHECKPOINT, weights_only=True)["state"]


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], atol: float = 0.0) -> bool:
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)


def test_fedavg_weights_by_samples():
    one, three = {"p": torch.ones(2)}, {"p": torch.full((2,), 3.0)}
    assert torch.equal(fedavg([(one, 30.0), (three, 10.0)])["p"], torch.full((2,), 1.5))


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
    assert not _same(alone, start, atol=1e-3)  # training moved the modules
    assert _same(together, alone, atol=1e-6)


def test_a_failed_member_leaves_its_cluster_out_of_that_round_only(tmp_path):
    scenario = digits_world()
    both, only_a = Plan(clusters=(A, B)), Plan(clusters=(A,))
    fault = Fault(round=1, node="c3", iteration=1)
    failed = validate(scenario, both, rounds=1, out_dir=tmp_path / "f1", faults=[fault])
    assert failed.rounds[1].failures == ["cluster 1: member c3 failed at iteration 1"]
    validate(scenario, only_a, rounds=1, out_dir=tmp_path / "a")
    assert _same(_state(tmp_path / "f1"), _state(tmp_path / "a"))  # B's partial update touched nothing
    goes_on = validate(scenario, both, rounds=2, out_dir=tmp_path / "f2", faults=[fault])
    assert goes_on.rounds[2].failures == [] and goes_on.rounds[2].train_loss is not None
    assert not _same(_state(tmp_path / "f2"), _state(tmp_path / "f1"), atol=1e-4)


def test_resume_ends_where_an_uninterrupted_run_ends_and_same_seed_same_result(tmp_path):
    scenario, plan = digits_world(), two_cluster_plan()
    straight = validate(scenario, plan, rounds=3, out_dir=tmp_path / "straight")
    validate(scenario, plan, rounds=1, out_dir=tmp_path / "stopped")  # stopped after round 1
    resumed = validate(scenario, plan, rounds=3, out_dir=tmp_path / "stopped", resume=True)
    again = validate(scenario, plan, rounds=3, out_dir=tmp_path / "again")
    for other in ("stopped", "again"):
        assert _same(_state(tmp_path / other), _state(tmp_path / "straight"))
    for run in (resumed, again):
        assert [(r.train_loss, r.test_loss, r.test_accuracy) for r in run.rounds] == \
               [(r.train_loss, r.test_loss, r.test_accuracy) for r in straight.rounds]
    other_seed = validate(scenario, plan, rounds=1, out_dir=tmp_path / "seed1", seed=1)
    assert not _same(_state(tmp_path / "seed1"), _state(tmp_path / "again"), atol=1e-4)
    with pytest.raises(InputError, match="another run"):
        validate(scenario, plan, rounds=4, out_dir=tmp_path / "stopped", resume=True, seed=1)
    assert other_seed.rounds[0].round == 0 and len(resumed.rounds) == 4


def test_report_sets_measured_beside_predicted(tmp_path):
    report = validate(digits_world(), two_cluster_plan(), rounds=2, out_dir=tmp_path)
    for name in ("report.json", "report.md", CHECKPOINT):
        assert (tmp_path / name).stat().st_size > 0
    body = json.loads((tmp_path / "report.json").read_text())
    assert [r["round"] for r in body["rounds"]] == [0, 1, 2]
    assert all(h["fwd_bytes"] == h["fwd_bytes_pred"] and h["bwd_bytes"] == h["bwd_bytes_pred"] for h in body["hops"])
    assert [h.role for h in report.hops].count("return") == 1
    assert all(c.comm_bytes_per_round == pytest.approx(c.comm_bytes_per_round_pred) for c in report.clusters)
    for m in report.members:
        assert m.fwd_flops == pytest.approx(m.fwd_flops_pred, rel=0.01)
        assert m.memory_bytes == pytest.approx(m.memory_bytes_pred, rel=0.10)
    assert all(m.delivery_bytes == m.delivery_bytes_pred and m.upload_bytes == m.upload_bytes_pred for m in report.members)
    assert report.host_flops_per_s > 0
    assert [x.samples for x in report.rounds[2].inference] == [6]


def test_a_cached_request_gets_no_delivery(tmp_path):
    scenario = digits_world()
    nodes = tuple(n.model_copy(update={"request": n.request.model_copy(update={"cached": True})}) if n.request else n
                  for n in scenario.nodes)
    cached = scenario.model_validate(scenario.model_dump() | {"nodes": [n.model_dump() for n in nodes]})
    plan = Plan(clusters=(B, two_cluster_plan().clusters[2]))
    report = validate(cached, plan, rounds=1, out_dir=tmp_path)
    serving = [m for m in report.members if m.kind == "inference"]
    assert serving and all(m.delivery_bytes == m.delivery_bytes_pred == 0 for m in serving)


def _refused(tmp_path, scenario, plan, match: str, **kwargs) -> None:
    out = tmp_path / "never"
    with pytest.raises(InputError, match="(?s)" + match):
        validate(scenario, plan, out_dir=out, **{"rounds": 1, **kwargs})
    assert not out.exists()  # nothing written


def test_bad_inputs_are_refused_by_name(tmp_path):
    scenario = digits_world()
    broken = Plan(clusters=(cluster_from_counts("finetune", ["c2", "c0"], [3, 3]),))  # c2 holds no data
    _refused(tmp_path, scenario, broken, r"plan.*start-point")
    gap = Plan(clusters=(A.model_copy(update={"members": (Member(node="c0", first=0, last=1), *A.members[1:2])}),))
    _refused(tmp_path, scenario, gap, r"embed-head")
    vit_b = digits_world(profile=load_profile())  # a plan for ViT-B/16: not what digits can train
    _refused(tmp_path, vit_b, Plan(clusters=(cluster_from_counts("finetune", ["c0", "e0"], [2, vit_b.profile.n_units - 2]),)),
             r"profile mismatch.*digits are \(1, 8, 8\)")
    wrong = closed_form_profile(DIGITS_VIT)
    units = list(wrong.units)
    units[2] = units[2].model_copy(update={"out_bytes": 1.0})
    _refused(tmp_path, digits_world(profile=wrong.model_copy(update={"units": tuple(units)})), two_cluster_plan(),
             r"profile mismatch.*units\[2\]\.out_bytes")
    _refused(tmp_path, scenario, two_cluster_plan(), r"no such folder", data=str(tmp_path / "missing"))
    _refused(tmp_path, scenario, two_cluster_plan(), r"checkpoint", checkpoint=tmp_path / "missing.safetensors")
    _refused(tmp_path, scenario, two_cluster_plan(), r"rounds.*at least one", rounds=0)
    (tmp_path / "torn").mkdir()
    (tmp_path / "torn" / CHECKPOINT).write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot read"):
        validate(scenario, two_cluster_plan(), rounds=1, out_dir=tmp_path / "torn", resume=True)


def test_a_timm_checkpoint_is_the_frozen_backbone(tmp_path):
    from timm.models.vision_transformer import VisionTransformer

    from gaisnet_opt.validator.model import build_for, digits_profile

    c = DIGITS_VIT
    timm_vit = VisionTransformer(img_size=c.img_size, patch_size=c.patch_size, in_chans=c.in_chans, num_classes=c.num_classes,
                                 embed_dim=c.embed_dim, depth=c.depth, num_heads=c.num_heads)
    torch.save(timm_vit.state_dict(), tmp_path / "timm.pth")
    model = build_for(digits_profile(), tmp_path / "timm.pth", seed=0)
    assert torch.equal(model.block_3.layer.mlp.fc1.weight, timm_vit.blocks[2].mlp.fc1.weight)
    assert torch.equal(model.embed.pos_embed, timm_vit.pos_embed)
    report = validate(digits_world(), Plan(clusters=(B,)), rounds=1, checkpoint=tmp_path / "timm.pth", out_dir=tmp_path / "o")
    assert report.config.checkpoint.endswith("timm.pth")


def test_image_folder_data(tmp_path):
    from PIL import Image

    digits = load_digits().pool
    for k in range(60):
        label = int(digits.labels[k])
        folder = tmp_path / "imgs" / f"class_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray((digits.images[k, 0].numpy() * 255).astype("uint8")).save(folder / f"{k}.png")
    report = validate(digits_world(), Plan(clusters=(B,)), rounds=1, data=str(tmp_path / "imgs"), out_dir=tmp_path / "out",
                      partition_scheme="iid")
    assert report.config.data.endswith("imgs") and 0 <= report.final_accuracy <= 1


def test_cli_pretrain_then_validate(tmp_path):
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """A second command, so typer keeps sub-command names."""

    runner = CliRunner()
    ckpt = tmp_path / "backbone.safetensors"
    r = runner.invoke(app, ["pretrain", "--epochs", "1", "-o", str(ckpt)])
    assert r.exit_code == 0, r.output
    scenario, plan = tmp_path / "s.json", tmp_path / "p.json"
    save(digits_world(), scenario)
    save(Plan(clusters=(B,)), plan)
    out = tmp_path / "run"
    r = runner.invoke(app, ["validate", str(scenario), str(plan), "--rounds", "1", "--checkpoint", str(ckpt), "--out", str(out)])
    assert r.exit_code == 0, r.output
    body = json.loads((out / "report.json").read_text())
    assert body["config"]["checkpoint"] == str(ckpt)
    assert body["rounds"][0]["test_loss"] == pytest.approx(math.log(10))  # the new task's head starts at zero
    save(Plan(clusters=(cluster_from_counts("finetune", ["c2"], [6]),)), plan)
    r = runner.invoke(app, ["validate", str(scenario), str(plan), "--out", str(tmp_path / "bad")])
    assert r.exit_code == 2 and "start-point" in r.output and not (tmp_path / "bad").exists()


def test_a_generated_scenario_with_a_greedy_plan_validates(tmp_path):
    from gaisnet_opt.generator import generate
    from gaisnet_opt.scenario import Training
    from gaisnet_opt.solvers.best_effort import solve_best_effort
    from gaisnet_opt.validator.model import digits_profile

    scenario = generate(8, 1, profile=digits_profile(), samples=(20, 40), training=Training(batch_size=8, local_iters=2))
    result = solve_best_effort(scenario, clusters=2)
    assert result.status == "feasible"
    report = validate(scenario, result.plan, rounds=1, out_dir=tmp_path)
    assert len(report.clusters) == len(result.plan.clusters) and len(report.rounds) == 2
