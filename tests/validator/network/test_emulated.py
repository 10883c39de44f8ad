"""The emulated network: one shaped link carries a known tensor in bytes·8/rate, and nothing of a run is left behind
on any exit path. Tests that need root and iproute2 skip with the reason where they are missing (CI runs as root)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

torch = pytest.importorskip("torch")

from gaisnet_opt.validator.network.emulated import EmulatedNetwork, Link  # noqa: E402
from gaisnet_opt.validator.network.namespaces import (  # noqa: E402
    NetemError,
    leftovers,
    pids_in,
    remove_leftovers,
    setns,
)
from tests.support.validator_runs import needs_network, root_links, wait_for  # noqa: E402

needs_root = needs_network()

RATE = 20e6
NBYTES = 1_250_000
"""0.5 s at 20 Mbit/s: the per-message terms (one packet and the 0.1 ms burst early, ~0.3 ms latency) are < 0.2 %"""
TOLERANCE = 0.05
"""measured: gloo transfers of 100 kB and more, 50 ms and longer, within -0.0..+0.6 % (worst single +1.1 %), up to
+2.3 % with both cores saturated; a link never beats its rate, so 5 % below fails on missing or loose shaping
(frame accounting, +4.6 %, is caught by the byte count instead)"""
SLOW_TOLERANCE = 0.5
"""above the rate the host adds time now and then: of 6 runs on a quiet host 4 were within +0.7 %, one +10 %, one
+22 % (and +10 % once in a CI run, +68 % in another); 50 % still fails on bits for bytes (8x) or a wrong time scale
(2x and more)"""
ATTEMPTS = 3
"""Transfers at most, the next only when every one so far was slower than `SLOW_TOLERANCE` allows."""


def _run_id(tag: str) -> str:
    return f"t{os.getpid()}{tag}"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_names_addresses_and_scaled_shaping():
    net = EmulatedNetwork("abc1", ["e0", "c1", "odd/name"], [Link("c1", "e0", 10e6), Link("e0", "c1", 40e6)], time_scale=4)
    assert net.namespace("c1") == "gn-abc1-c1" and net.namespace("odd/name") == "gn-abc1-#2"
    assert net.names()[0] == "gn-abc1" and net.address("e0") == "10.77.0.1" and net.address("odd/name") == "10.77.0.3"
    assert net.rate("c1", "e0") == 2.5e6 and net.rate("c1", "odd/name") == 1e9  # unlinked: the default class, unscaled
    tc = "\n".join(net.shaping("c1"))
    assert "htb rate 2500000bit ceil 2500000bit" in tc and "match ip dst 10.77.0.1/32 flowid 1:2" in tc
    assert "stab overhead -66" in tc and "htb default 1" in tc
    for bad in (lambda: EmulatedNetwork("bad-id", ["a"], []), lambda: EmulatedNetwork("x", ["a", "b"], [Link("a", "zz", 1e6)])):
        with pytest.raises(ValueError):
            bad()


RECEIVER = textwrap.dedent("""
    import socket, sys, time
    with socket.create_server((sys.argv[1], 29512)) as listener:
        print("ready", flush=True)
        conn, _ = listener.accept()
        with conn:
            chunks = list(iter(lambda: conn.recv(1 << 16), b""))
            done = time.monotonic()  # one clock for every process of the host
    sys.stdout.buffer.write(f"{done!r}\\n".encode() + b"".join(chunks))
""")


def _connect(namespace: str, address: str) -> socket.socket:
    """A TCP connection opened from `namespace` (setns moves the calling thread only: a thread of its own)."""
    box: list[socket.socket] = []
    thread = threading.Thread(target=lambda: (setns(namespace), box.append(socket.create_connection((address, 29512)))))
    thread.start()
    thread.join(30)
    return box[0]


def _transfer(net: EmulatedNetwork, payload: bytes) -> tuple[float, bytes]:
    """Seconds from the first byte sent on a to the last received in b, and what b received."""
    receiver = subprocess.Popen([*net.exec_prefix("b"), sys.executable, "-c", RECEIVER, net.address("b")],
                                stdout=subprocess.PIPE)
    assert receiver.stdout is not None and receiver.stdout.readline() == b"ready\n"
    sender = _connect(net.namespace("a"), net.address("b"))
    time.sleep(0.1)  # idle, as between hops: the token bucket is full
    start = time.monotonic()
    sender.sendall(payload)
    sender.close()
    done, received = receiver.stdout.read().split(b"\n", 1)
    receiver.wait(30)
    return float(done) - start, received


@needs_root
def test_a_shaped_link_carries_a_known_tensor_in_bytes_times_8_over_rate():
    """The receiver is a process of its own (its wake-ups never wait for this one's), in b's namespace. The host
    only ever adds time (a link never beats its rate), so the best of up to `ATTEMPTS` transfers is held to the
    rate: a busy moment of a shared host does not fail the test, loose shaping or a wrong rate still does."""
    before = root_links()
    tensor = torch.arange(NBYTES // 4, dtype=torch.float32)
    predicted, errors = NBYTES * 8 / RATE, []
    with EmulatedNetwork(_run_id("g"), ["a", "b"], [Link("a", "b", RATE)]) as net:
        while len(errors) < ATTEMPTS and (not errors or min(errors) >= SLOW_TOLERANCE):
            seconds, received = _transfer(net, tensor.numpy().tobytes())
            errors.append(seconds / predicted - 1)
            print(f"measured {seconds:.4f} s, predicted {predicted:.4f} s, error {100 * errors[-1]:+.2f} %")
            assert torch.equal(torch.frombuffer(bytearray(received), dtype=torch.float32), tensor)
        sent = net.stats()[("a", "b")]
    assert all(e > -TOLERANCE for e in errors) and min(errors) < SLOW_TOLERANCE
    n = len(errors)  # TCP payload counted, not frames
    assert sent.drops == 0 and n * NBYTES <= sent.bytes < n * NBYTES * 1.01
    assert leftovers(net.hub) == [] and root_links() == before


@needs_root
def test_nothing_left_after_an_exception_or_a_killed_member():
    """A process inside at the exception, another killed before: every namespace goes, and every process in one."""
    before = root_links()
    run = _run_id("e")
    with pytest.raises(RuntimeError, match="boom"), EmulatedNetwork(run, ["a", "b"], [Link("a", "b", 1e6)]) as net:
        killed = subprocess.Popen([*net.exec_prefix("a"), "sleep", "60"])
        inside = subprocess.Popen([*net.exec_prefix("b"), "sleep", "60"])
        assert wait_for(lambda: len(pids_in(net.names())) == 2, 5)
        killed.kill()
        killed.wait()
        raise RuntimeError("boom")
    assert inside.wait(5) == -signal.SIGKILL
    assert leftovers(f"gn-{run}") == [] and root_links() == before


OWNER = textwrap.dedent("""
    import subprocess, time
    from gaisnet_opt.validator.network.emulated import EmulatedNetwork, Link
    with EmulatedNetwork({run!r}, ["a", "b"], [Link("a", "b", 1e6)]) as net:
        p = subprocess.Popen([*net.exec_prefix("a"), "sleep", "60"])
        time.sleep(0.2)
        print(p.pid, flush=True)
        time.sleep(60)
""")


@needs_root
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_nothing_left_when_the_owner_dies(sig):
    """SIGTERM and SIGINT: the owner removes its network itself; SIGKILL: its reaper does."""
    run = _run_id(f"o{int(sig)}")
    owner = subprocess.Popen([sys.executable, "-c", OWNER.format(run=run)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
    inner = int(owner.stdout.readline())  # type: ignore[union-attr]
    assert _alive(inner) and leftovers(f"gn-{run}") == [f"gn-{run}", f"gn-{run}-a", f"gn-{run}-b"]
    owner.send_signal(sig)
    owner.wait(10)
    assert wait_for(lambda: leftovers(f"gn-{run}") == [] and not _alive(inner), 10)


@needs_root
def test_a_crashed_runs_leftovers_are_refused_then_removed():
    run = _run_id("c")
    net = EmulatedNetwork(run, ["a"], [])
    net.open()
    net._closed = True  # as if its owner had died without a reaper: nothing removes the network
    with pytest.raises(NetemError, match="exist already"):
        EmulatedNetwork(run, ["a"], []).open()
    assert remove_leftovers(f"gn-{run}") == [f"gn-{run}", f"gn-{run}-a"] and leftovers(f"gn-{run}") == []
    net._reaper.stdin.close()  # type: ignore[union-attr]
    net._reaper.wait(10)  # type: ignore[union-attr]
