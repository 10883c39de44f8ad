"""What every CLI command shares: bad input exits 2 with the problems, no traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from gaisnet_opt.errors import InputError

P = ParamSpec("P")
R = TypeVar("R")

# Logs and pipes get wide tables instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EXIT_BAD_INPUT = 2


def reports_bad_input(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn an InputError into its message on stderr and exit status 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT) from None

    return wrapper


def as_flags(exc: InputError, flags: Mapping[str, str]) -> InputError:
    """The library's error with each parameter it names given as the command's flag (`methods` -> `--methods`)."""
    return InputError(exc.source, [(flags.get(path, path), reason) for path, reason in exc.problems])
