"""`gaisnet-opt schedule` (placeholder until the schedule module lands)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the schedule command to `app`."""
