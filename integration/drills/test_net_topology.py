"""The drills' network topology (netns.py): each fault primitive cuts exactly the paths it names,
in both directions, including connections already established, and heal() restores them; nothing
survives the topology, not even a killed run's. Fast (seconds), no broker needed."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import netns

PORT = 7000


@pytest.fixture
def topology():
    t = netns.Topology(3).create()
    listeners = [subprocess.Popen(t.exec_argv(i, [sys.executable, "-c", _LISTEN.format(port=PORT)]))
                 for i in range(3)]
    zk = socket.socket()
    zk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    zk.bind((t.zookeeper_ip, PORT))
    zk.listen(64)
    stop = threading.Event()
    accepted = []

    def accept():
        zk.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(zk.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    t.accepted = accepted
    try:
        deadline = time.monotonic() + 10
        while not all(t.can_connect(None, t.broker_ip(i), PORT) for i in range(3)):
            assert time.monotonic() < deadline, "listeners in the namespaces did not come up"
            time.sleep(0.1)
        yield t
    finally:
        stop.set()
        thread.join(5)
        zk.close()
        for s in accepted:
            s.close()
        for p in listeners:
            p.kill()
            p.wait(5)
        t.destroy()


_LISTEN = """
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {port}))
s.listen(64)
conns = []
while True:
    conns.append(s.accept()[0])
"""


def reach(t):
    """Which TCP paths connect now: {(src, dst)} with names b0..b2, zk, client."""
    out = set()
    for i in range(3):
        for j in range(3):
            if i != j and t.can_connect(i, t.broker_ip(j), PORT):
                out.add((f"b{i}", f"b{j}"))
        if t.can_connect(i, t.zookeeper_ip, PORT):
            out.add((f"b{i}", "zk"))
        if t.can_connect(None, t.broker_ip(i), PORT):
            out.add(("client", f"b{i}"))
        if _connect_from(t.zookeeper_ip, t.broker_ip(i)):
            out.add(("zk", f"b{i}"))
    return out


def _connect_from(source_ip, dst_ip, timeout=1.0):
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((source_ip, 0))
        s.connect((dst_ip, PORT))
        return True
    except OSError:
        return False
    finally:
        s.close()


ALL = ({(f"b{i}", f"b{j}") for i in range(3) for j in range(3) if i != j}
       | {(f"b{i}", "zk") for i in range(3)} | {("zk", f"b{i}") for i in range(3)}
       | {("client", f"b{i}") for i in range(3)})


def test_addresses_and_full_reach(topology):
    t = topology
    assert t.net.startswith("10.77.")
    with socket.create_connection((t.broker_ip(0), PORT), timeout=2) as s:
        assert s.getsockname()[0] == t.client_ip != t.zookeeper_ip, "clients must not come from ZooKeeper's address"
    assert reach(t) == ALL


def test_cut_broker_from_brokers_then_heal(topology):
    t = topology
    t.isolate_broker(0)
    lost = {("b0", "b1"), ("b1", "b0"), ("b0", "b2"), ("b2", "b0")}
    assert reach(t) == ALL - lost
    t.heal()
    assert reach(t) == ALL


def test_cut_one_pair(topology):
    t = topology
    t.cut_brokers(2, [1])
    assert reach(t) == ALL - {("b1", "b2"), ("b2", "b1")}
    t.heal()
    assert reach(t) == ALL


def test_cut_broker_from_zookeeper_only_then_heal(topology):
    t = topology
    t.cut_zookeeper(1)
    assert reach(t) == ALL - {("b1", "zk"), ("zk", "b1")}
    t.heal()
    assert reach(t) == ALL


_CLIENT = """
import socket, sys
s = socket.create_connection(({host!r}, {port}), timeout=5)
s.sendall(b"hello")
print("connected", flush=True)
sys.stdin.readline()           # the test has installed the cut
s.settimeout(2.0)
try:
    data = s.recv(100)         # the server pushes "push" after the cut: must not arrive
    print("received", data, flush=True)
except socket.timeout:
    print("nothing", flush=True)
s.sendall(b"after")            # must not reach the server either
sys.stdin.readline()
"""


def test_cut_applies_to_established_connections(topology):
    """A connection from broker 0 to ZooKeeper's address opened before the cut carries nothing
    either way once broker 0 is cut from ZooKeeper."""
    t = topology
    before = len(t.accepted)
    child = subprocess.Popen(t.exec_argv(0, [sys.executable, "-c", _CLIENT.format(host=t.zookeeper_ip, port=PORT)]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "connected"
        deadline = time.monotonic() + 5
        while len(t.accepted) == before:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server_side = t.accepted[-1]
        server_side.settimeout(2)
        assert server_side.recv(100) == b"hello"
        t.cut_zookeeper(0)
        child.stdin.write("go\n")
        child.stdin.flush()
        server_side.sendall(b"push")
        assert child.stdout.readline().strip() == "nothing"
        with pytest.raises(socket.timeout):
            server_side.recv(100)  # "after" does not arrive within 2 s
    finally:
        child.kill()
        child.wait(5)


_ORPHAN = """
import subprocess, sys, time
sys.path.insert(0, {drills!r})
import netns, harness
t = netns.Topology(3).create()
p = harness.Process("sleeper", t.exec_argv(1, ["sleep", "300"]), {log!r}, cwd="/tmp")
p.start()
print(t.tag, p.pid, flush=True)
time.sleep(300)
"""


def test_killed_run_leaves_nothing(tmp_path):
    """A run killed with SIGKILL: the process it started inside a namespace dies with it (the
    parent-death signal holds across `ip netns exec`), and cleanup_stale() removes its topology."""
    drills = os.path.dirname(os.path.abspath(netns.__file__))
    run = subprocess.Popen([sys.executable, "-c", _ORPHAN.format(drills=drills, log=str(tmp_path / "p.log"))],
                           stdout=subprocess.PIPE, text=True)
    try:
        tag, pid = run.stdout.readline().split()
        pid = int(pid)
        assert any(n.startswith(f"{netns.NS_PREFIX}{tag}-") for n in netns.ip("netns", "list").split())
        time.sleep(0.3)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[0] == b"sleep", "ip netns exec must exec the target, not fork"
        assert netns.ip("netns", "identify", str(pid)).strip() == f"{netns.NS_PREFIX}{tag}-b1"
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait(5)
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
        assert time.monotonic() < deadline, "the process in the namespace outlived its parent"
        time.sleep(0.05)
    assert tag in netns.cleanup_stale()
    assert not any(tag in n for n in netns.ip("netns", "list").split())
    assert tag not in netns.ip("-o", "link", "show")


def test_live_topology_is_not_stale():
    with netns.Topology(1) as t:
        assert t.tag not in netns.cleanup_stale()
        assert t.namespaces[0] in netns.ip("netns", "list").split()
    assert t.namespaces[0] not in netns.ip("netns", "list").split()
