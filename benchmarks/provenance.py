"""What every results file records first: the command that made it, the versions and the host."""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def host() -> str:
    """CPU model, logical CPUs and OS of this machine."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((l.split(":", 1)[1].strip() for l in lines if l.startswith("model name")), platform.machine())
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def versions(packages: tuple[str, ...]) -> str:
    def one(p: str) -> str:
        try:
            return f"{p} {version(p)}"
        except PackageNotFoundError:
            return f"{p} (not installed)"

    return ", ".join([*(one(p) for p in packages), f"Python {platform.python_version()}"])


def header(title: str, packages: tuple[str, ...]) -> list[str]:
    """Markdown lines: title, command, date, host, versions, load."""
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"# {title}", "",
        f"- command: `{command}`",
        f"- date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        f"- host: {host()} (load average {load:.1f} at the start)",
        f"- versions: {versions(packages)}", "",
    ]
