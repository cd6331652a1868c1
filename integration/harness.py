"""Real processes for the integration suite and tools/cluster: Debian's ZooKeeper and Odradek brokers.

Every wait is bounded; `stop()` sends SIGTERM, waits, then SIGKILLs. Nothing here depends on pytest.
"""

import ctypes
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import kafkawire

ROOT = Path(__file__).resolve().parent.parent
ZOOKEEPER_CLASSPATH = "/usr/share/java/zookeeper.jar:/etc/zookeeper/conf"
HOST = "127.0.0.1"


def odradek_binary():
    """$ODRADEK_BIN, else .build/release/odradek of this work tree."""
    path = Path(os.environ.get("ODRADEK_BIN", ROOT / ".build/release/odradek"))
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(f"no Odradek binary at {path}: build it with `swift build -c release` "
                           "or point ODRADEK_BIN at one")
    return path


_reserved = set()


def free_port():
    """A free loopback port, never the same twice in one process."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
        if port not in _reserved:
            _reserved.add(port)
            return port
    raise RuntimeError("no free port")


def port_open(port, host=HOST, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def four_letter_word(word, port, timeout=2.0, host=HOST):
    """ZooKeeper's four-letter command `word`; its answer, or None."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(word.encode())
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
            return b"".join(chunks).decode(errors="replace")
    except OSError:
        return None


_libc = ctypes.CDLL("libc.so.6", use_errno=True)  # loaded here: a forked child must not dlopen


def _die_with_parent():
    """Child side of Popen: SIGKILL when the test process dies, so nothing outlives a killed run."""
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    os.setsid()


class Process:
    """A child process writing to a log file, with a bounded stop."""

    def __init__(self, name, argv, log_path, cwd, tied_to_parent=True):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.log_path = Path(log_path)
        self.cwd = cwd
        self.tied_to_parent = tied_to_parent
        self.popen = None
        self.pid = None

    def start(self):
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} start: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if self.tied_to_parent else os.setsid)
        self.pid = self.popen.pid

    def running(self):
        return self.popen is not None and self.popen.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Sends `sig`, waits up to `timeout` s, then SIGKILL. Returns the exit status."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            try:
                os.kill(self.popen.pid, signal.SIGCONT)
                os.kill(self.popen.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with open(self.log_path, "ab") as log:
                    log.write(f"==== did not stop within {timeout} s of signal {sig}: SIGKILL\n".encode())
                self.popen.kill()
                self.popen.wait(timeout=10)
        status = self.popen.returncode
        with open(self.log_path, "ab") as log:
            log.write(f"==== {time.strftime('%H:%M:%S')} exited with status {status}\n".encode())
        self.popen = None
        return status

    def log_tail(self, lines=60):
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])


class ZooKeeper:
    """A standalone ZooKeeper server (Debian's package) with its own data directory."""

    def __init__(self, root, port=None, tied_to_parent=True, host=HOST):
        self.root = Path(root)
        self.host = host
        self.port = port or free_port()
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.config = self.root / "zoo.cfg"
        self.config.write_text(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
            f"dataDir={data}\nclientPort={self.port}\nclientPortAddress={host}\n"
            "admin.enableServer=false\n4lw.commands.whitelist=*\nmaxSessionTimeout=60000\n")
        self.process = Process("zookeeper", [
            "java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
            f"-Dzookeeper.log.dir={self.root}", "-cp", ZOOKEEPER_CLASSPATH,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.config,
        ], self.root / "zookeeper.log", cwd=self.root, tied_to_parent=tied_to_parent)

    @property
    def connect(self):
        return f"{self.host}:{self.port}"

    def start(self, timeout=60.0):
        self.process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = four_letter_word("srvr", self.port, timeout=1.0, host=self.host)
            if answer and re.search(r"Mode: (standalone|leader|follower)", answer):
                return
            if not self.process.running():
                raise RuntimeError(f"ZooKeeper exited at start:\n{self.process.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"ZooKeeper did not serve within {timeout} s:\n{self.process.log_tail()}")

    def pause(self):
        """SIGSTOP: the server stops answering without closing its sockets."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def ephemeral_paths(self):
        """Ephemeral znodes by the `dump` four-letter word (paths only)."""
        answer = four_letter_word("dump", self.port, host=self.host) or ""
        return set(re.findall(r"^\s+(/\S+)", answer, re.M))

    def stop(self, timeout=15.0):
        self.process.stop(signal.SIGTERM, timeout)


class Broker:
    """One Odradek broker: a generated server.properties, its own log dir, its own port."""

    def __init__(self, broker_id, root, zookeeper_connect, port=None, overrides=None, binary=None,
                 tied_to_parent=True, host=HOST, wrapper=()):
        """`host`: the address it listens on; `wrapper`: argv prefix to run it with (a namespace)."""
        self.broker_id = broker_id
        self.root = Path(root)
        self.host = host
        self.port = port or free_port()
        self.log_dir = self.root / "data"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.binary = binary or odradek_binary()
        self.properties = {
            "broker.id": str(broker_id),
            "listeners": f"PLAINTEXT://{host}:{self.port}",
            "advertised.listeners": f"PLAINTEXT://{host}:{self.port}",
            "log.dirs": str(self.log_dir),
            "zookeeper.connect": zookeeper_connect,
            "zookeeper.session.timeout.ms": "6000",
            "num.partitions": "1",
            "default.replication.factor": "1",
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            # As Kafka's shipped server.properties: single-broker friendly group settings.
            "offsets.topic.replication.factor": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        self.properties.update({k: str(v) for k, v in (overrides or {}).items()})
        self.config = self.root / "server.properties"
        self.config.write_text("".join(f"{k}={v}\n" for k, v in self.properties.items()))
        self.process = Process(f"broker {broker_id}", [*wrapper, self.binary, "server", self.config],
                               self.root / "broker.log", cwd=self.root, tied_to_parent=tied_to_parent)

    @property
    def address(self):
        return f"{self.host}:{self.port}"

    @property
    def pid(self):
        return self.process.pid if self.process.running() else None

    def start(self, wait=True, timeout=60.0):
        self.process.start()
        if wait:
            self.wait_ready(timeout)

    def wait_ready(self, timeout=60.0):
        """Until the port accepts and an ApiVersions round trip succeeds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.process.running():
                raise RuntimeError(f"broker {self.broker_id} exited at start:\n{self.process.log_tail()}")
            if port_open(self.port, self.host) and kafkawire.answers(self.host, self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"broker {self.broker_id} did not answer ApiVersions within {timeout} s:\n"
                           f"{self.process.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        return self.process.stop(sig, timeout)

    def state(self):
        """One line for failure reports: running or not, port accepting, open files, RSS."""
        if not self.process.running():
            return "not running"
        try:
            fds = len(os.listdir(f"/proc/{self.pid}/fd"))
            rss = self.rss_kib() // 1024
        except (OSError, RuntimeError):
            fds, rss = "?", "?"
        return (f"pid {self.pid}, port {self.port} {'accepting' if port_open(self.port, self.host) else 'NOT accepting'}, "
                f"{fds} open files, RSS {rss} MiB")

    def rss_kib(self):
        """VmRSS from /proc/PID/status, in KiB."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")


class Cluster:
    """A ZooKeeper and N brokers under one directory."""

    def __init__(self, root, brokers=1, overrides=None, zookeeper_port=None, broker_ports=None,
                 tied_to_parent=True):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.zookeeper = ZooKeeper(self.root / "zookeeper", port=zookeeper_port, tied_to_parent=tied_to_parent)
        overrides = dict(overrides or {})
        if brokers >= 3:
            overrides.setdefault("default.replication.factor", "3")
        self.brokers = [
            Broker(i, self.root / f"broker-{i}", self.zookeeper.connect,
                   port=(broker_ports[i] if broker_ports else None), overrides=overrides,
                   tied_to_parent=tied_to_parent)
            for i in range(brokers)
        ]

    @property
    def bootstrap(self):
        return ",".join(b.address for b in self.brokers)

    def start(self, timeout=90.0):
        deadline = time.monotonic() + timeout
        self.zookeeper.start(timeout=max(1.0, deadline - time.monotonic()))
        for b in self.brokers:
            b.start(wait=False)
        for b in self.brokers:
            b.wait_ready(timeout=max(1.0, deadline - time.monotonic()))
        self.wait_all_registered(timeout=max(1.0, deadline - time.monotonic()))

    def wait_all_registered(self, timeout=60.0):
        """Until every running broker's Metadata lists every running broker and a controller."""
        want = {b.broker_id for b in self.brokers if b.process.running()}
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                ok = True
                for b in self.brokers:
                    if not b.process.running():
                        continue
                    with kafkawire.Connection(b.host, b.port, timeout=3) as c:
                        brokers, controller, _ = kafkawire.metadata(c, [])
                    last = (b.broker_id, sorted(brokers), controller)
                    if set(brokers) != want or controller < 0:
                        ok = False
                        break
                if ok:
                    return
            except (OSError, kafkawire.Closed, ValueError, TimeoutError) as e:
                last = repr(e)
            time.sleep(0.2)
        raise RuntimeError(f"brokers {sorted(want)} not all registered within {timeout} s; last Metadata: {last}")

    def broker(self, broker_id):
        return next(b for b in self.brokers if b.broker_id == broker_id)

    def restart(self, broker_id, sig=signal.SIGTERM, timeout=60.0):
        """Stops broker `broker_id` with `sig` and starts it again on the same port and data.
        After SIGKILL, waits until ZooKeeper has expired its registration first (as Kafka needs)."""
        b = self.broker(broker_id)
        b.stop(sig)
        deadline = time.monotonic() + timeout
        path = f"/brokers/ids/{broker_id}"
        while path in self.zookeeper.ephemeral_paths():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} still registered {timeout} s after the broker stopped")
            time.sleep(0.2)
        b.start(wait=True, timeout=max(1.0, deadline - time.monotonic()))
        self.wait_all_registered(timeout=max(1.0, deadline - time.monotonic()))

    def stop(self):
        for b in self.brokers:
            b.stop(signal.SIGTERM, 30.0)
        self.zookeeper.stop()

    def logs(self, lines=60):
        parts = []
        for b in self.brokers:
            parts.append(f"---- broker {b.broker_id} ({b.process.log_path}): {b.state()}; last {lines} lines\n"
                         + b.process.log_tail(lines))
        parts.append(f"---- zookeeper ({self.zookeeper.process.log_path}), last 15 lines\n"
                     + self.zookeeper.process.log_tail(15))
        return "\n".join(parts)
