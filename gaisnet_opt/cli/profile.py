"""`gaisnet-opt profile` (placeholder until the profile module lands)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the profile command to `app`."""
