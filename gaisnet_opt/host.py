"""Facts about the host a figure was measured on: CPU, OS and package versions (for profiles, reports, benchmarks)."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def host_description(extra: str = "") -> str:
    """`name: CPU, N CPUs, OS release[, extra]`."""
    text = f"{platform.node()}: {cpu_model()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"
    return f"{text}, {extra}" if extra else text


def package_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Python's version and each package's, or 'not installed'."""
    out = {"python": platform.python_version()}
    for package in packages:
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "not installed"
    return out
