"""A run's network namespaces: entering one, finding and removing them with every process inside (stdlib only).

Removal is by name prefix, so a crashed run's leftovers are found and removed
like a live run's (`python -m gaisnet_opt.validator.network.namespaces
leftovers|clean [PREFIX]`). A reaper process loads this file by path (no
package import, no torch) to remove a run whose owner was SIGKILLed.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence

PREFIX = "gn-"
NETNS_DIR = "/run/netns"
IFNAME = "eth0"
"""the node's interface in every node namespace (gloo's GLOO_SOCKET_IFNAME)"""
HEADERS = 14 + 20 + 20 + 12
"""bytes per TCP/IPv4 packet on a veth besides the payload (Ethernet, IP, TCP, timestamps)"""
CLONE_NEWNET = 0x40000000


class NetemError(RuntimeError):
    """A command building or removing the network failed."""


def ip(args: Sequence[str], stdin: str | None = None) -> str:
    """Run an iproute2 command (`ip`, `tc`); its stdout, or a NetemError with its stderr."""
    p = subprocess.run(list(args), input=stdin, capture_output=True, text=True, check=False)
    if p.returncode:
        raise NetemError(f"{' '.join(args)}: {p.stderr.strip() or p.stdout.strip()} (exit {p.returncode})")
    return p.stdout

def setns(name_or_path: str) -> None:
    """Move the calling thread into a network namespace (a name under /run/netns, or a path).

    Only the calling thread moves; threads it starts afterwards (gloo's IO threads,
    TCPStore's) inherit the namespace, threads already running (torch's intra-op
    pool) stay where they were, which is harmless as they open no sockets. Call it
    in the main thread of a child process before dist.init_process_group."""
    path = name_or_path if "/" in name_or_path else os.path.join(NETNS_DIR, name_or_path)
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def leftovers(prefix: str = PREFIX) -> list[str]:
    """Namespaces whose name starts with `prefix` (a crashed run's, or a live one's: pass a run's own prefix)."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []


def pids_in(names: Iterable[str]) -> list[int]:
    """Processes with any thread in one of the namespaces `names` (checks every thread, unlike `ip netns pids`)."""
    inodes = set()
    for n in names:
        try:
            st = os.stat(os.path.join(NETNS_DIR, n))
            inodes.add((st.st_dev, st.st_ino))
        except FileNotFoundError:
            pass
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                st = os.stat(f"/proc/{pid}/task/{tid}/ns/net")
                if (st.st_dev, st.st_ino) in inodes:
                    found.add(int(pid))
                    break
        except OSError:
            continue  # gone, or a kernel thread
    found.discard(os.getpid())
    return sorted(found)


def remove(names: Sequence[str], grace_s: float = 2.0) -> list[str]:
    """SIGKILL every process in the namespaces `names`, then delete them (their veths go with them)."""
    names = [n for n in names if os.path.exists(os.path.join(NETNS_DIR, n))]
    pids = pids_in(names)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + grace_s
    while pids and time.monotonic() < end:
        pids = pids_in(names)  # a killed child stays a zombie, but outside every namespace
        time.sleep(0.02)
    failed = []
    for n in sorted(names, key=len, reverse=True):  # nodes first, the hub last
        p = subprocess.run(["ip", "netns", "delete", n], capture_output=True, text=True, check=False)
        if p.returncode and os.path.exists(os.path.join(NETNS_DIR, n)):
            failed.append(f"{n}: {p.stderr.strip()}")
    if failed:
        raise NetemError("could not delete " + "; ".join(failed))
    return names


def remove_leftovers(prefix: str = PREFIX) -> list[str]:
    """Remove every namespace starting with `prefix` and kill its processes; returns the names removed."""
    return remove(leftovers(prefix))


def available() -> str | None:
    """None if this machine can emulate networks here, else why not."""
    if os.geteuid() != 0:
        return "not root (network namespaces and tc need CAP_NET_ADMIN and CAP_SYS_ADMIN)"
    for tool in ("ip", "tc"):
        if shutil.which(tool) is None:
            return f"'{tool}' not found (install iproute2)"
    probe = f"{PREFIX}probe{os.getpid()}"
    try:
        ip(["ip", "netns", "add", probe])
    except NetemError as e:
        return f"network namespaces unavailable: {e}"
    try:
        ip(["ip", "-n", probe, "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
        ip(["ip", "-n", probe, "link", "add", "br0", "type", "bridge"])
        ip(["tc", "-n", probe, "qdisc", "add", "dev", "p0", "root", "handle", "1:", "stab", "overhead", "-66",
              "htb", "default", "1"])
        ip(["tc", "-n", probe, "filter", "add", "dev", "p0", "parent", "1:", "protocol", "ip", "prio", "1",
              "u32", "match", "ip", "dst", "10.0.0.1/32", "flowid", "1:2"])
    except NetemError as e:
        return f"veth, bridge, HTB or u32 unavailable: {e}"
    finally:
        subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)
    return None


if __name__ == "__main__":
    command, prefix = [*sys.argv[1:], "leftovers"][0], [*sys.argv[2:], PREFIX][0]
    print("\n".join(remove_leftovers(prefix) if command == "clean" else leftovers(prefix)))
