"""The emulated network of one run: namespaces, a bridge, and each node's egress shaped per destination with HTB.

Shaping on the sender's own egress keeps the queue at the sending socket: TCP
Small Queues hold the socket back instead of the qdisc dropping, so a
transfer takes bytes/rate without losses or retransmissions (a queue at the
bridge dropped and retransmitted). Each class's burst is 0.1 ms of its rate:
a message sent after an idle spell gains one packet plus the burst, so a
larger burst makes messages fast (64 KB: 100 kB messages 65 % fast).

Everything is removed by `close()`: on leaving the context, on an exception,
on SIGTERM or SIGHUP (turned into SystemExit) and SIGINT, at interpreter
exit, and, if the owner is SIGKILLed, by a reaper process in its own session
that waits on the owner's pidfd.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Self

from gaisnet_opt.validator.network import namespaces
from gaisnet_opt.validator.network.namespaces import (
    HEADERS,
    IFNAME,
    NETNS_DIR,
    PREFIX,
    NetemError,
    ip,
    leftovers,
    remove,
)

SUBNET = "10.77"
MTU = 1500
ROUTE_MTU = 576
"""packets within the run's subnet (the least IPv4 allows): the token bucket lets a message's first packet through at
once, so smaller packets make messages of a few kB accurate (measured at 5 Mbit/s: 1-6 kB within -3..-8 %, against
-22..-89 % with 1500 B packets; 35 kB and more within 0.2 % either way)"""
BURST_S = 1e-4
DEFAULT_RATE_BPS = 1e9
"""the unlinked pairs' rate (not time-scaled): only the rendezvous and control data cross there"""
_RUN_ID = re.compile(r"[A-Za-z0-9]{1,40}")
_SAFE_NODE = re.compile(r"[A-Za-z0-9_.]{1,64}")
_CLASS = re.compile(r"class htb 1:([0-9a-f]+) .*\n Sent (\d+) bytes (\d+) pkt \(dropped (\d+),")

REAPER = """
import os, select, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
import importlib.util
spec = importlib.util.spec_from_file_location("namespaces_reaper", sys.argv[1])
namespaces = sys.modules["namespaces_reaper"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(namespaces)
owner, names = int(sys.argv[2]), sys.argv[3:]
try:
    select.select([os.pidfd_open(owner), sys.stdin], [], [])  # the owner died, or closed our stdin
except ProcessLookupError:
    pass  # died before we looked
namespaces.remove(names)
"""
"""A process that removes the run's namespaces when their owner ends without doing so."""


class Link(NamedTuple):
    """A directed link: traffic from `src` to `dst` is shaped to `rate_bps` (bit/s, before time scaling)."""

    src: str
    dst: str
    rate_bps: float


@dataclass(frozen=True)
class ClassStats:
    """Counters of one (src, dst) class on src's egress (dst None: its default class); bytes are TCP payload."""

    bytes: int
    packets: int
    drops: int


class EmulatedNetwork:
    """Namespaces, a bridge and per-link shaping for `nodes`, named after `run_id`; a context manager. Rates are
    divided by `time_scale`; `DEFAULT_RATE_BPS` (pairs without a link) is not."""

    def __init__(self, run_id: str, nodes: Sequence[str], links: Iterable[Link], time_scale: float = 1.0):
        if not _RUN_ID.fullmatch(run_id):
            raise ValueError(f"run id {run_id!r}: 1-40 letters and digits")
        if len(set(nodes)) != len(nodes) or not 0 < len(nodes) < 65000:
            raise ValueError("nodes must be distinct, at most 64999")
        if not time_scale > 0:
            raise ValueError("time_scale must be > 0")
        self.nodes, self.links, self.time_scale = tuple(nodes), tuple(links), time_scale
        self._index = {n: i for i, n in enumerate(self.nodes)}
        pairs = [(l.src, l.dst) for l in self.links]
        bad = [l for l in self.links if l.src not in self._index or l.dst not in self._index or l.src == l.dst
               or not l.rate_bps > 0]
        if bad or len(set(pairs)) != len(pairs):
            raise ValueError(f"links {bad} join unknown nodes, a node to itself, or have no rate; or a pair is twice")
        self.hub = f"{PREFIX}{run_id}"
        self._ns = {n: f"{self.hub}-{n if _SAFE_NODE.fullmatch(n) else f'#{i}'}" for i, n in enumerate(self.nodes)}
        self._reaper: subprocess.Popen[str] | None = None
        self._old_handlers: dict[int, object] = {}
        self._closed = True
        self._owner = os.getpid()

    # --- names --------------------------------------------------------------------------------------------------
    def namespace(self, node: str) -> str:
        return self._ns[node]

    def address(self, node: str) -> str:
        i = self._index[node] + 1
        return f"{SUBNET}.{i >> 8}.{i & 255}"

    def _mac(self, node: str) -> str:
        i = self._index[node] + 1
        return f"02:67:6e:00:{i >> 8:02x}:{i & 255:02x}"

    def rate(self, src: str, dst: str) -> float:
        """The shaped rate src -> dst in bit/s (after time scaling; the default rate for an unlinked pair)."""
        r = next((l.rate_bps for l in self.links if (l.src, l.dst) == (src, dst)), None)
        return DEFAULT_RATE_BPS if r is None else r / self.time_scale

    def names(self) -> list[str]:
        """The hub's namespace, then every node's."""
        return [self.hub, *self._ns.values()]

    def exec_prefix(self, node: str) -> list[str]:
        """Prepend to a command to run it in `node`'s namespace (a process started afresh, e.g. torchrun)."""
        return ["ip", "netns", "exec", self._ns[node]]

    # --- life cycle ---------------------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Build the network (a NetemError if a run of this id exists already); removed again on any failure."""
        if leftovers(self.hub + "-") or os.path.exists(os.path.join(NETNS_DIR, self.hub)):
            raise NetemError(f"namespaces of run {self.hub} exist already (remove_leftovers('{self.hub}'))")
        self._closed = False
        self._owner = os.getpid()  # a forked child inherits atexit and signal handlers: it must not tear down
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        atexit.register(self.close)
        self._reaper = subprocess.Popen([sys.executable, "-c", REAPER, namespaces.__file__, str(os.getpid()),
                                         *self.names()], stdin=subprocess.PIPE, text=True, start_new_session=True)
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _on_signal(self, signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # unwinds through __exit__ / finally

    def _build(self) -> None:
        for name in self.names():
            ip(["ip", "netns", "add", name])
        hub = ["link add br0 type bridge", "link set br0 addrgenmode none", "link set lo up"]
        for i, n in enumerate(self.nodes):
            hub += [f"link add p{i} mtu {MTU} type veth peer name {IFNAME} mtu {MTU} address {self._mac(n)} "
                    f"netns {self._ns[n]}", f"link set p{i} addrgenmode none", f"link set p{i} master br0",
                    f"link set p{i} up"]
        ip(["ip", "-n", self.hub, "-batch", "-"], "\n".join([*hub, "link set br0 up"]) + "\n")
        for n in self.nodes:
            cmds = ["link set lo up", f"link set {IFNAME} addrgenmode none", f"addr add {self.address(n)}/16 dev {IFNAME}",
                    f"link set {IFNAME} gso_max_segs 1", f"link set {IFNAME} up",  # GSO off: no 64 KB super-packets
                    f"route replace {SUBNET}.0.0/16 dev {IFNAME} mtu lock {ROUTE_MTU}"]
            cmds += [f"neigh replace {self.address(m)} lladdr {self._mac(m)} dev {IFNAME} nud permanent"
                     for m in self.nodes if m != n]  # static ARP: no resolution delay, no broadcasts
            ip(["ip", "-n", self._ns[n], "-batch", "-"], "\n".join(cmds) + "\n")
            ip(["tc", "-n", self._ns[n], "-batch", "-"], "\n".join(self.shaping(n)) + "\n")

    def shaping(self, src: str) -> list[str]:
        """tc commands for src's egress: HTB charging TCP payload only, class 1:1 the default, 1:<index of dst + 2>
        per link at its scaled rate."""
        dev, quantum = f"dev {IFNAME}", MTU + 14
        default = self._burst(DEFAULT_RATE_BPS)
        out = [f"qdisc replace {dev} root handle 1: stab overhead -{HEADERS} htb default 1",
               f"class add {dev} parent 1: classid 1:1 htb rate {int(DEFAULT_RATE_BPS)}bit burst {default} "
               f"cburst {default} quantum {quantum}"]
        for l in self.links:
            if l.src != src:
                continue
            minor = f"{self._index[l.dst] + 2:x}"
            rate = max(8, round(l.rate_bps / self.time_scale))
            b = self._burst(rate)
            out += [f"class add {dev} parent 1: classid 1:{minor} htb rate {rate}bit ceil {rate}bit burst {b} "
                    f"cburst {b} quantum {quantum}",
                    f"qdisc add {dev} parent 1:{minor} handle {minor}: pfifo limit 10000",
                    f"filter add {dev} parent 1: protocol ip prio 1 u32 match ip dst {self.address(l.dst)}/32 "
                    f"flowid 1:{minor}"]
        return out

    @staticmethod
    def _burst(rate_bps: float) -> int:
        """A class's burst in (payload) bytes: `BURST_S` of its rate."""
        return max(1, int(rate_bps / 8 * BURST_S))

    def stats(self) -> dict[tuple[str, str | None], ClassStats]:
        """Bytes, packets and drops per (src, dst) class so far; (src, None): src's default class."""
        by_minor = {f"{i + 2:x}": n for i, n in enumerate(self.nodes)}
        out: dict[tuple[str, str | None], ClassStats] = {}
        for n in self.nodes:
            text = ip(["tc", "-n", self._ns[n], "-s", "class", "show", "dev", IFNAME])  # tc 6.1: no JSON for htb
            for minor, b, p, d in _CLASS.findall(text):
                out[(n, None if minor == "1" else by_minor[minor])] = ClassStats(int(b), int(p), int(d))
        return out

    def close(self) -> None:
        """Kill the processes in the run's namespaces and delete them; idempotent."""
        if self._closed or os.getpid() != self._owner:
            return
        self._closed = True
        try:
            remove(self.names())
        finally:
            if self._reaper is not None:
                assert self._reaper.stdin is not None
                self._reaper.stdin.close()  # the reaper wakes, finds nothing left, exits
                self._reaper.wait(10)
                self._reaper = None
            if threading.current_thread() is threading.main_thread():
                for sig, old in self._old_handlers.items():
                    signal.signal(sig, old)  # type: ignore[arg-type]
                self._old_handlers.clear()
            atexit.unregister(self.close)
