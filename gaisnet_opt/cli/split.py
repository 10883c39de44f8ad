"""`gaisnet-opt split` (placeholder until the split module lands)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the split command to `app`."""
