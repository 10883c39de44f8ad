"""What every results file records first: the command that made it, the versions and the host."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from gaisnet_opt.provenance import host_description, package_versions


def header(title: str, packages: tuple[str, ...]) -> list[str]:
    """Markdown lines: title, command, date, host, versions, load."""
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"# {title}", "",
        f"- command: `{command}`",
        f"- date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        f"- host: {host_description()} (load average {load:.1f} at the start)",
        f"- versions: {', '.join(f'{k} {v}' for k, v in package_versions(packages).items())}", "",
    ]
