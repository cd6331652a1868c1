"""A three-server ZooKeeper ensemble (Debian's package) for the ZooKeeper drills.

Each server: tickTime 500, admin server off, every four-letter word allowed, -Xmx256m, its own
dataDir with myid; clients reach it on `host` (the topology's ZooKeeper address), the servers talk
to each other on loopback. Nothing here depends on pytest.
"""

import re
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # integration/: harness

import harness  # noqa: E402


class Server:
    """One ensemble member."""

    def __init__(self, myid, root, host, client_port, peers):
        self.myid = myid
        self.name = f"zookeeper-{myid}"
        self.root = Path(root)
        self.host = host
        self.port = client_port
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        (data / "myid").write_text(f"{myid}\n")
        self.config = self.root / "zoo.cfg"
        self.config.write_text(
            "tickTime=500\ninitLimit=10\nsyncLimit=5\n"
            f"dataDir={data}\nclientPort={client_port}\nclientPortAddress={host}\n"
            "admin.enableServer=false\n4lw.commands.whitelist=*\nmaxSessionTimeout=60000\n"
            + "".join(f"server.{i}={harness.HOST}:{q}:{e}\n" for i, (q, e) in peers.items()))
        self.process = harness.Process(self.name, [
            "java", "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
            f"-Dzookeeper.log.dir={self.root}", "-cp", harness.ZOOKEEPER_CLASSPATH,
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", self.config,
        ], self.root / "zookeeper.log", cwd=self.root)

    def four_letter_word(self, word, timeout=2.0):
        return harness.four_letter_word(word, self.port, timeout, host=self.host)

    def mode(self):
        """"leader", "follower", "standalone", or None when the server does not serve."""
        m = re.search(r"Mode: (\w+)", self.four_letter_word("srvr", timeout=1.0) or "")
        return m.group(1) if m else None

    def start(self):
        self.process.start()

    def kill(self):
        """SIGKILL, as a crash."""
        return self.process.stop(signal.SIGKILL, 10.0)

    def stop(self, timeout=15.0):
        return self.process.stop(signal.SIGTERM, timeout)


class Ensemble:
    """Three servers on `host`, client ports of their own; the interface NetCluster expects of its
    ZooKeeper (connect, start, stop, ephemeral_paths) plus leader() and the servers."""

    def __init__(self, root, host, size=3):
        self.root = Path(root)
        self.host = host
        peers = {i: (harness.free_port(), harness.free_port()) for i in range(1, size + 1)}
        self.servers = [Server(i, self.root / f"server-{i}", host, harness.free_port(), peers)
                        for i in range(1, size + 1)]

    @property
    def process(self):
        """For failure reports (harness.Cluster.logs): the servers' log tails together."""
        return _Tails(self.root, self.servers)

    @property
    def connect(self):
        return ",".join(f"{self.host}:{s.port}" for s in self.servers)

    def start(self, timeout=60.0):
        for s in self.servers:
            s.start()
        self.wait_quorum(timeout, want_all=True)

    def wait_quorum(self, timeout=60.0, want_all=False):
        """Until one running server leads and the others running follow (all of them if want_all).
        Returns the seconds waited."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        last = None
        while time.monotonic() < deadline:
            running = [s for s in self.servers if s.process.running()]
            modes = [s.mode() for s in running]
            last = {s.name: m for s, m in zip(running, modes)}
            if (modes.count("leader") == 1 and modes.count("follower") == len(running) - 1
                    and (not want_all or len(running) == len(self.servers))):
                return time.monotonic() - t0
            for s in self.servers:
                if s.process.popen is not None and not s.process.running():
                    raise RuntimeError(f"{s.name} exited:\n{s.process.log_tail()}")
            time.sleep(0.1)
        raise RuntimeError(f"no ZooKeeper quorum within {timeout} s: modes {last}")

    def leader(self):
        """The server in leader mode now, or None."""
        for s in self.servers:
            if s.process.running() and s.mode() == "leader":
                return s
        return None

    def serving(self):
        return [s for s in self.servers if s.process.running() and s.mode() in ("leader", "follower")]

    def ephemeral_paths(self):
        leader = self.leader()
        answer = leader.four_letter_word("dump") if leader else ""
        return set(re.findall(r"^\s+(/\S+)", answer or "", re.M))

    def stop(self):
        for s in self.servers:
            s.stop()


class _Tails:
    def __init__(self, root, servers):
        self.log_path = root
        self.servers = servers

    def running(self):
        return all(s.process.running() for s in self.servers)

    def log_tail(self, lines=60):
        return "\n".join(f"[{s.name}: {'running' if s.process.running() else 'not running'}]\n"
                         + s.process.log_tail(lines) for s in self.servers)
