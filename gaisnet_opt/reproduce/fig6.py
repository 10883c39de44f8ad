"""Fig. 6 (§V.A-B): fine-tuning from the cloud's pre-trained backbone against training from scratch.

Pre-trained: VPT on the backbone `pretrain` made (frozen), prompts and a new
head tuned. Scratch: no pre-trained model, so nothing to freeze: every
parameter trained from the seeded random initialisation on the clients' data.
The scratch arm needs many more rounds to leave chance level, so both arms run
`SCRATCH_FACTOR` times the usual number of rounds.
"""

from __future__ import annotations

from gaisnet_opt.reproduce.common import (
    Cell,
    Context,
    Result,
    baseline_plan,
    figure,
    first_end,
    mean_curve,
    scenario_note,
    seeds_note,
    verdict,
)
from gaisnet_opt.validator import ValidationReport
from gaisnet_opt.validator.model import Tune

PAPER = {"pre-trained first": 0.968, "pre-trained after 10 epochs": 0.975, "scratch converged": 0.570}
"""§V.A-B: 96.80 % after the first epoch, 97.50 % after 10, 57.00 % converged without pre-training."""
ARMS: dict[str, tuple[bool, Tune]] = {"pre-trained (VPT)": (True, "prompts"), "scratch (all parameters)": (False, "full")}
"""arm -> (start from the pre-trained backbone, what is tuned)"""
SCRATCH_FACTOR = 4
LEVEL_TOLERANCE = 0.02
"""pre-trained accuracies this close to the paper's count as the same level"""
SCRATCH_TOLERANCE = 0.05
"""scratch accuracies this close to the paper's count as the same level (its spread over seeds is about that)"""


def run(ctx: Context) -> Result:
    s = ctx.scale
    rounds = SCRATCH_FACTOR * s.rounds
    reports: dict[str, list[ValidationReport]] = {arm: [] for arm in ARMS}
    for seed in s.seeds:
        scenario = ctx.world(seed)
        plan = baseline_plan(scenario)
        for arm, (pretrained, tune) in ARMS.items():
            reports[arm].append(ctx.train(scenario, plan, seed, rounds=rounds, pretrained=pretrained, tune=tune))
    curves = {arm: mean_curve(r) for arm, r in reports.items()}
    rows: list[dict[str, Cell]] = []
    for arm, reps in reports.items():
        first, first_sd, end, end_sd = first_end(reps)
        at_paper = curves[arm][min(10, rounds)]
        rows.append({"arm": arm, "first": first, "first sd": first_sd, f"after {min(10, rounds)}": at_paper,
                     f"end ({rounds})": end, "end sd": end_sd})
    pre, scratch = rows
    e10 = f"after {min(10, rounds)}"
    scratch_arm = list(ARMS)[1]
    earlier = curves[scratch_arm][max(0, rounds - 5)]
    rising = curves[scratch_arm][-1] > earlier + 0.01
    comparison = [
        verdict(pre["first"] > scratch[f"end ({rounds})"],  # type: ignore[operator]
                f"pre-training gives a higher first-epoch accuracy ({pre['first']:.3f}) than training from scratch reaches "
                f"in {rounds} epochs ({scratch[f'end ({rounds})']:.3f}); paper 0.968 against 0.570",
                "The backbone already separates the classes; only prompts and the head need to adapt."),
        verdict(pre[e10] >= pre["first"],  # type: ignore[operator]
                f"fine-tuning the pre-trained model improves it only a little: {pre['first']:.3f} after the first epoch, "
                f"{pre[e10]:.3f} after {min(10, rounds)} (paper 0.968 to 0.975)",
                "Few-shot fine-tuning on a backbone pre-trained on similar data has little left to learn."),
        verdict(abs(pre["first"] - PAPER["pre-trained first"]) <= LEVEL_TOLERANCE,  # type: ignore[operator]
                f"the level: ours pre-trained {pre['first']:.3f} after the first epoch against the paper's 0.968",
                "Our backbone is a 4-layer, 64-wide ViT pre-trained on about 720 8×8 digits, the head starts at zero "
                "and each source holds 100 samples; the paper's is ViT-B/16 pre-trained on large-scale cloud data, "
                "fine-tuned on flowers. Only the shape is comparable."),
        verdict(abs(scratch[f"end ({rounds})"] - PAPER["scratch converged"]) <= SCRATCH_TOLERANCE,  # type: ignore[operator]
                f"from scratch ours reaches {scratch[f'end ({rounds})']:.3f} after {rounds} epochs "
                f"({'still rising' if rising else 'flat'}: {earlier:.3f} five epochs earlier) and "
                f"{scratch[e10]:.3f} after {min(10, rounds)}; the paper's scratch run converges at 0.570",
                "A ViT trained from scratch on a few hundred samples ends far below a pre-trained one. Ours sits near "
                "chance for its first couple of hundred Adam steps at this learning rate"
                + (f" and has not converged after {rounds} epochs, so the match in level owes something to the number "
                   "of epochs run." if rising else ".")),
    ]
    fig, (ours, paper) = figure()
    for arm, curve in curves.items():
        ours.plot(range(len(curve)), curve, marker="o", markersize=3, label=arm)
    ours.set(xlabel="round (epoch)", ylabel="held-out accuracy", ylim=(0, 1), title="ours (digits, tiny ViT)")
    paper.bar(range(len(PAPER)), list(PAPER.values()), color=["C0", "C0", "C1"])
    paper.set(xticks=range(len(PAPER)), ylim=(0, 1), title="paper Fig. 6 (flowers, ViT-B/16)")
    paper.set_xticklabels(list(PAPER), rotation=15, fontsize=8)
    for ax in (ours, paper):
        ax.grid(True, alpha=0.3)
    ours.legend()
    fig.tight_layout()
    setup = [seeds_note(s), scenario_note("(10, 10)", "3"),
             (f"- {rounds} rounds for both arms ({SCRATCH_FACTOR}× the other experiments: from scratch the tiny ViT stays "
              "near chance for its first couple of hundred steps)"),
             f"- paper (arXiv:2401.02668 §V.A-B, Fig. 6): {', '.join(f'{k} {v}' for k, v in PAPER.items())}"]
    return Result(setup, rows, comparison, fig)
