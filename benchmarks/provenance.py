"""What every results file records first (the command, the versions, the host), and how it is written."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from gaisnet_opt.host import host_description, package_versions
from gaisnet_opt.io import csv_text, write_text


def header(title: str, packages: tuple[str, ...]) -> list[str]:
    """Markdown lines: title, command, date, host, versions, load."""
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"# {title}", "",
        f"- command: `{command}`",
        f"- date (UTC): {datetime.now(UTC):%Y-%m-%d %H:%M}",
        f"- host: {host_description()} (load average {load:.1f} at the start)",
        f"- versions: {', '.join(f'{k} {v}' for k, v in package_versions(packages).items())}", "",
    ]


def write_csv(path: Path, rows: Iterable[Mapping[str, object]]) -> None:
    """Rows as CSV (columns in first-seen order), written atomically."""
    write_text(path, csv_text(rows))
