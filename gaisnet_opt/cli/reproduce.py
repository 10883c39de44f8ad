"""`gaisnet-opt reproduce NAME`: one of the paper's §V experiments, run for real with the validator.

torch is imported inside the command (by `gaisnet_opt.reproduce.reproduce`), so the rest of the CLI works without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gaisnet_opt.cli.common import console, reports_bad_input
from gaisnet_opt.reproduce import EXPERIMENTS


@reports_bad_input
def reproduce_command(
    name: Annotated[str, typer.Argument(metavar="NAME", help=f"one of: {', '.join(EXPERIMENTS)}")],
    out: Annotated[Path, typer.Option("--out", help="directory for NAME.md, NAME.csv and NAME.png")] = Path("reproduce"),
    quick: Annotated[bool, typer.Option("--quick", help="one round, one seed, a few samples: a smoke test, not a result")] = False,
    threads: Annotated[int, typer.Option(min=1, help="torch threads during the run")] = 1,
) -> None:
    """Run experiment NAME (the paper's Fig. 6, Fig. 7, Tables III, IV, V) and write its table, plot and comparison."""
    from gaisnet_opt.reproduce import reproduce

    with console.status(f"{EXPERIMENTS[name].title if name in EXPERIMENTS else name}{' (quick)' if quick else ''}"):
        files = reproduce(name, out, quick=quick, threads=threads)
    console.print("wrote " + ", ".join(str(f) for f in files))


def register(app: typer.Typer) -> None:
    """Add `reproduce` to `app`."""
    app.command("reproduce")(reproduce_command)
