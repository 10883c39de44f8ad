"""`validate`, `calibrate` and `pretrain`: run a plan for real with HFSL training, measure this host for the
predictions, and make the backbone training starts from.

torch is imported inside the commands, so the rest of the CLI works without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, TypedDict

import typer

from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.errors import InputError
from gaisnet_opt.io import load
from gaisnet_opt.plan import Plan
from gaisnet_opt.scenario import Scenario

if TYPE_CHECKING:
    from gaisnet_opt.validator.faults import Fault
    from gaisnet_opt.validator.records import ValidationReport


class RunOptions(TypedDict):
    """What `validate` and a torchrun process take alike."""

    partition_scheme: Literal["classes", "iid", "dirichlet"]
    alpha: float
    lr: float
    faults: list[Fault]
    timeout: float
    network: Literal["loopback", "emulate"]
    time_scale: float
    calibration: Path | None

FLAGS = {"rounds": "--rounds", "nprocs": "--nprocs", "timeout": "--timeout", "network": "--network",
         "time_scale": "--time-scale", "faults": "--fault"}
"""The library's parameter names that are options of `validate` under another name."""

CHOICES = {"--partition": ("classes", "iid", "dirichlet"), "--engine": ("inprocess", "distributed"),
           "--network": ("loopback", "emulate")}


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


def _choice(flag: str, value: str) -> None:
    if value not in CHOICES[flag]:
        raise InputError("validate", [(flag, f"'{value}' is not one of {', '.join(CHOICES[flag])}")])


def parse_faults(specs: list[str]) -> list[Fault]:
    """`ROUND:NODE[:ITERATION[:exit|hang]]` each, or an InputError naming --fault."""
    from gaisnet_opt.validator.faults import Fault

    out = []
    for spec in specs:
        parts = spec.split(":")
        try:
            if not 2 <= len(parts) <= 4:
                raise ValueError("expected ROUND:NODE[:ITERATION[:exit|hang]]")
            out.append(Fault(round=int(parts[0]), node=parts[1], iteration=int(parts[2]) if len(parts) > 2 else 0,
                             kind=parts[3] if len(parts) > 3 else "exit"))  # type: ignore[arg-type]
        except ValueError as exc:
            raise InputError("validate", [("--fault", f"'{spec}': {exc}")]) from None
    return out


def _summary(report: ValidationReport, out: Path) -> None:
    first, last = report.rounds[0], report.rounds[-1]
    cal = report.calibration
    speed = "no timed pass" if cal is None else (f"{cal.fit.flops_per_s:.3g} FLOP/s and {1e3 * cal.fit.pass_overhead_s:.3g} "
                                                 f"ms per pass from {cal.source}")
    console.print(f"held-out accuracy {first.test_accuracy:.4f} (round {first.round}) -> {last.test_accuracy:.4f} "
                  f"(round {last.round}); host speed {speed}")
    if report.round_latency_s is not None:
        console.print(f"round latency (last round): measured {report.round_latency_s:.4g} s, predicted "
                      f"{report.round_latency_s_pred:.4g} s on the testbed (time scale {report.config.time_scale:g})")
    from gaisnet_opt.plotting.figure_io import save_figure
    from gaisnet_opt.plotting.validation import plot_accuracy, plot_member_seconds, plot_timelines

    figures = {"accuracy.png": plot_accuracy(report), "members.png": plot_member_seconds(report)}
    if report.measured_segments:
        figures["timeline.png"] = plot_timelines(report)
    for name, fig in figures.items():
        save_figure(fig, out / name)
    console.print(f"wrote {out}/report.json, report.md, {', '.join(figures)}, checkpoint.pt")


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
    threads: Annotated[int | None, typer.Option(help="torch threads (default: torch's; with --calibration, its)")] = None,
    engine: Annotated[str, typer.Option(help="inprocess (every member here) or distributed (a torch.distributed "
                                        "process per member and the edge server; under torchrun, this process's rank)")] = "inprocess",
    network: Annotated[str, typer.Option(help="distributed: loopback, or emulate (each node in a network namespace, "
                                         "links shaped with tc to the scenario's rates; needs root and iproute2)")] = "loopback",
    time_scale: Annotated[float, typer.Option(help="emulated links run at their rates divided by this (predicted "
                                              "link seconds times it), so a large model's round fits in minutes")] = 1.0,
    calibration: Annotated[Path | None, typer.Option(help="host speed from `calibrate` to predict seconds with "
                                                     "(default: a fit of the run's own passes)")] = None,
    fault: Annotated[list[str] | None, typer.Option(help="inject ROUND:NODE[:ITERATION[:exit|hang]] (repeatable): the "
                                                    "member drops out before that iteration's compute")] = None,
    nprocs: Annotated[int | None, typer.Option(help="distributed: processes to spawn here (default: as many as the plan needs)")] = None,
    master_addr: Annotated[str, typer.Option(help="distributed: rendezvous address")] = "127.0.0.1",
    master_port: Annotated[int, typer.Option(help="distributed: rendezvous port (0: a free one)")] = 0,
    timeout: Annotated[float, typer.Option(help="distributed: seconds a process waits for any one message, "
                                           "a peer's compute included, before declaring the peer lost "
                                           "(on an emulated network, times the time scale)")] = 60.0,
) -> None:
    """Execute PLAN on SCENARIO with real HFSL fine-tuning and SL inference; report measured against predicted."""
    scenario, plan = load(Scenario, scenario_file), load(Plan, plan_file)
    for flag, value in (("--partition", partition), ("--engine", engine), ("--network", network)):
        _choice(flag, value)
    if timeout <= 0:
        raise InputError("validate", [("--timeout", f"{timeout}: must be positive")])
    _threads(threads)
    options = RunOptions(partition_scheme=partition, alpha=alpha, lr=lr, faults=parse_faults(fault or []),  # type: ignore[typeddict-item]
                         timeout=timeout, network=network, time_scale=time_scale, calibration=calibration)  # type: ignore[typeddict-item]
    from gaisnet_opt.validator.distributed.torchrun import run_from_env, under_torchrun

    if engine == "distributed" and under_torchrun():
        with _flag_names():
            node, code = run_from_env(scenario, plan, rounds, data, checkpoint, seed, out, resume, **options)
        rank = os.environ["RANK"]
        if code:
            console.print(f"rank {rank} ({node}) was lost (exit code {code}); the run went on without it")
        else:
            console.print(f"rank {rank} ({node}) finished" + (f"; wrote {out}/report.json" if rank == "0" else ""))
        return
    from rich.progress import Progress

    from gaisnet_opt.validator import validate
    from gaisnet_opt.validator.records import RoundRecord

    with Progress(console=console, transient=True) as bar, _flag_names():
        task = bar.add_task("HFSL rounds", total=rounds)

        def advance(record: RoundRecord, total: int) -> None:
            bar.update(task, completed=record.round, description=f"round {record.round}/{total}: "
                       f"accuracy {record.test_accuracy:.3f}")

        report = validate(scenario, plan, rounds, data, checkpoint, seed, out, resume, progress=advance,
                          engine=engine, nprocs=nprocs, master_addr=master_addr,  # type: ignore[arg-type]
                          master_port=master_port, **options)
    _summary(report, out)


@reports_bad_input
def calibrate_command(
    output: Annotated[Path, typer.Option("-o", "--output", help="calibration to write (JSON), for `validate --calibration`")],
    profile: Annotated[Path | None, typer.Option(help="profile JSON of the model to time (default: the tiny digits ViT's)")] = None,
    batch: Annotated[int, typer.Option(help="samples per pass: the batch size of the runs it will predict")] = 32,
    threads: Annotated[int, typer.Option(help="torch threads: the runs it predicts compute with as many")] = 1,
    steps: Annotated[int, typer.Option(help="passes per split (the first of each shape is counted, not timed)")] = 6,
) -> None:
    """Measure this host's FLOP/s and per-pass overhead (backward apart if the data say so) and save them."""
    for flag, value, least in (("--batch", batch, 1), ("--threads", threads, 1), ("--steps", steps, 2)):
        if value < least:
            raise InputError("calibrate", [(flag, f"{value}: at least {least}")])
    from gaisnet_opt.io import save
    from gaisnet_opt.profile import ModelProfile
    from gaisnet_opt.validator.calibration import calibrate_host
    from gaisnet_opt.validator.model import digits_profile

    model = load(ModelProfile, profile) if profile is not None else digits_profile()
    with console.status(f"timing every split of {model.name} at batch {batch}"):
        result = calibrate_host(model, batch=batch, threads=threads, steps=steps)
    save(result, output)
    fit = result.fit
    console.print(f"{len(result.points)} members' median passes: {fit.flops_per_s / 1e9:.3f} GFLOP/s, {1e3 * fit.pass_overhead_s:.3f} ms "
                  f"per pass, backward at {fit.bwd_efficiency:.3f} of the forward rate (RMS relative error "
                  f"{100 * fit.rms_relative_error:.1f} %, single speed {100 * result.single.rms_relative_error:.1f} %); "
                  f"load average {result.load_average:.2f}; wrote {output}")


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
    """Add `validate`, `calibrate` and `pretrain` to `app`."""
    app.command("validate")(validate_command)
    app.command("calibrate")(calibrate_command)
    app.command("pretrain")(pretrain_command)
