"""`validate` and `pretrain`: run a plan for real with HFSL training, and make the backbone it starts from.

torch is imported inside the commands, so the rest of the CLI works without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer

from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import load
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario

FLAGS = {"rounds": "--rounds", "nprocs": "--nprocs", "timeout": "--timeout"}
"""The library's parameter names that are options of `validate` under another name."""


@contextmanager
def _flag_names() -> Iterator[None]:
    """Bad input the library reports by parameter name, reported by the option's name."""
    try:
        yield
    except InputError as exc:
        raise InputError(exc.source, [(FLAGS.get(path, path), reason) for path, reason in exc.problems]) from None


def _threads(threads: int | None) -> None:
    import torch

    if threads is not None:
        torch.set_num_threads(threads)


@reports_bad_input
def validate_command(
    scenario_file: Annotated[Path, typer.Argument(metavar="SCENARIO", help="scenario JSON/YAML")],
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN", help="plan JSON/YAML")],
    rounds: Annotated[int, typer.Option(help="HFSL rounds (local iterations + FedAvg each)")] = 5,
    data: Annotated[str, typer.Option(help="'digits' (scikit-learn, bundled) or an ImageFolder directory")] = "digits",
    checkpoint: Annotated[Path | None, typer.Option(help="pre-trained backbone (safetensors or torch.save), e.g. from `pretrain`")] = None,
    out: Annotated[Path, typer.Option("--out", help="directory for the report, plots and the training checkpoint")] = Path("validation"),
    resume: Annotated[bool, typer.Option(help="continue the run whose checkpoint is in --out")] = False,
    seed: Annotated[int, typer.Option(help="seed of the prompts, head, partition and batch order")] = 0,
    partition: Annotated[str, typer.Option(help="classes (each source's own classes), iid or dirichlet")] = "classes",
    alpha: Annotated[float, typer.Option(help="Dirichlet concentration for --partition dirichlet")] = 0.5,
    lr: Annotated[float, typer.Option(help="learning rate of the tunable modules")] = 1e-2,
    threads: Annotated[int | None, typer.Option(help="torch threads (default: torch's)")] = None,
    engine: Annotated[str, typer.Option(help="inprocess (every member here) or distributed (a torch.distributed "
                                        "process per member and the edge server; under torchrun, this process's rank)")] = "inprocess",
    nprocs: Annotated[int | None, typer.Option(help="distributed: processes to spawn here (default: as many as the plan needs)")] = None,
    master_addr: Annotated[str, typer.Option(help="distributed: rendezvous address")] = "127.0.0.1",
    master_port: Annotated[int, typer.Option(help="distributed: rendezvous port (0: a free one)")] = 0,
    timeout: Annotated[float, typer.Option(help="distributed: seconds a process waits for any one message, "
                                           "a peer's compute included, before declaring the peer lost")] = 60.0,
) -> None:
    """Execute PLAN on SCENARIO with real HFSL fine-tuning and SL inference; report measured against predicted."""
    scenario, plan = load(Scenario, scenario_file), load(Plan, plan_file)
    if partition not in ("classes", "iid", "dirichlet"):
        raise InputError("validate", [("--partition", f"'{partition}' is not one of classes, iid, dirichlet")])
    if engine not in ("inprocess", "distributed"):
        raise InputError("validate", [("--engine", f"'{engine}' is not one of inprocess, distributed")])
    if timeout <= 0:
        raise InputError("validate", [("--timeout", f"{timeout}: must be positive")])
    scheme: Literal["classes", "iid", "dirichlet"] = partition  # type: ignore[assignment]
    _threads(threads)
    from gaisnet_opt.validator.distributed.torchrun import run_from_env, under_torchrun

    if engine == "distributed" and under_torchrun():
        with _flag_names():
            node = run_from_env(scenario, plan, rounds, data, checkpoint, seed, out, resume, partition_scheme=scheme,
                                alpha=alpha, lr=lr, timeout=timeout)
        rank = os.environ["RANK"]
        console.print(f"rank {rank} ({node}) finished" + (f"; wrote {out}/report.json" if rank == "0" else ""))
        return
    from rich.progress import Progress

    from gaisnet_opt.validator import validate
    from gaisnet_opt.validator.report import RoundRecord

    with Progress(console=console, transient=True) as bar, _flag_names():
        task = bar.add_task("HFSL rounds", total=rounds)

        def advance(record: RoundRecord, total: int) -> None:
            bar.update(task, completed=record.round, description=f"round {record.round}/{total}: "
                       f"accuracy {record.test_accuracy:.3f}")

        report = validate(scenario, plan, rounds, data, checkpoint, seed, out, resume, partition_scheme=scheme,
                          alpha=alpha, lr=lr, progress=advance, engine=engine,  # type: ignore[arg-type]
                          nprocs=nprocs, master_addr=master_addr, master_port=master_port, timeout=timeout)
    first, last = report.rounds[0], report.rounds[-1]
    console.print(f"held-out accuracy {first.test_accuracy:.4f} (round {first.round}) -> {last.test_accuracy:.4f} "
                  f"(round {last.round}); host calibrated at {report.host_flops_per_s or 0:.3g} FLOP/s and "
                  f"{1e3 * (report.host_pass_overhead_s or 0):.3g} ms per pass")
    from gaisnet_opt.plotting.figure_io import save_figure
    from gaisnet_opt.plotting.validation import plot_accuracy, plot_member_seconds

    save_figure(plot_accuracy(report), Path(out) / "accuracy.png")
    save_figure(plot_member_seconds(report), Path(out) / "members.png")
    console.print(f"wrote {out}/report.json, report.md, accuracy.png, members.png, checkpoint.pt")


@reports_bad_input
def pretrain_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="checkpoint to write (safetensors)")],
    epochs: Annotated[int, typer.Option(help="epochs over the digits source split")] = 40,
    seed: Annotated[int, typer.Option(help="initialisation and shuffling seed")] = 0,
    threads: Annotated[int | None, typer.Option(help="torch threads (default: torch's)")] = None,
) -> None:
    """Pre-train the tiny digits ViT backbone (the cloud's pre-training) and write it for `validate --checkpoint`."""
    if epochs < 1:
        raise InputError("pretrain", [("--epochs", f"{epochs}: at least one epoch is needed")])
    _threads(threads)
    from gaisnet_opt.validator.pretrain import pretrain

    with console.status(f"pre-training for {epochs} epoch(s)"):
        loss, acc = pretrain(output, epochs=epochs, seed=seed)
    console.print(f"last epoch: loss {loss:.4f}, accuracy {acc:.4f} on the source split; wrote {output}")


def register(app: typer.Typer) -> None:
    """Add `validate` and `pretrain` to `app`."""
    app.command("validate")(validate_command)
    app.command("pretrain")(pretrain_command)
