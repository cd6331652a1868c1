"""A network topology for failure drills: each broker in a network namespace of its own on a bridge,
ZooKeeper and the clients in the root namespace on two different bridge addresses, and the faults a
drill injects (partitions by blackhole routes and rules), all removed again at the end.

    root namespace          bridge odk<tag>br, 10.77.N.0/24
      10.77.N.1  clients    (the bridge's primary address: what clients connect from)
      10.77.N.2  ZooKeeper  (a secondary address: ZooKeeper listens only here)
    namespace odkd-<tag>-b<i>   eth0 10.77.N.(11+i)   broker i

Symmetric partitions without nft or iptables:
- broker X from broker Y: a blackhole route to Y inside X's namespace and to X inside Y's;
- broker X from ZooKeeper: a blackhole route to ZooKeeper's address inside X's namespace, and in the
  root namespace a policy rule that blackholes what leaves ZooKeeper's address for X (so neither
  side's packets reach the other, while the clients' address still reaches X).

Names carry a random tag, so a leftover of a killed run never clashes with a new one; the bridge's
alias records the creating process (pid and start time), so `cleanup_stale()` removes what belongs
to processes that are gone. Creation and stale cleanup hold a lock file, and the third octet N is
chosen among the 10.77.x.0/24 networks no interface of this host uses.

Needs root and iproute2; nothing here depends on pytest.
"""

import contextlib
import fcntl
import ipaddress
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # integration/: harness, kafkawire

import harness  # noqa: E402
import kafkawire  # noqa: E402

NS_PREFIX = "odkd-"  # namespaces: odkd-<tag>-b<i>
LINK_PREFIX = "odk"  # links: odk<tag>br (bridge), odk<tag>v<i> (root side of broker i's veth)
ALIAS_PREFIX = "odradek-drill"
LOCK_PATH = "/tmp/odradek-netns.lock"
SUPERNET = "10.77"  # networks 10.77.N.0/24
BROKER_PORT = 9092  # every broker listens on its own address, so they can share the port


def ip(*args, ns=None, check=True):
    """Runs `ip ARGS` (inside namespace `ns` if given); its stdout. Bounded to 20 s."""
    argv = ["ip"] + (["netns", "exec", ns, "ip"] if ns else []) + [str(a) for a in args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def _start_time(pid):
    """Field 22 of /proc/PID/stat (start time in clock ticks), or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def _locked():
    with open(LOCK_PATH, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _owned_bridges():
    """{tag: (pid, start time)} for the bridges of drill topologies, from their aliases."""
    out = {}
    for line in ip("-o", "link", "show", "type", "bridge").splitlines():
        m = re.match(r"\d+: (odk(\w{5})br)[:@]", line)
        if not m:
            continue
        alias = re.search(rf"alias {ALIAS_PREFIX} pid=(\d+) start=(\d+)", line)
        out[m.group(2)] = (int(alias.group(1)), int(alias.group(2))) if alias else (0, 0)
    return out


def _remove(tag):
    """Everything of topology `tag`: its namespaces (their veth ends go with them), links, rules."""
    for name in ip("netns", "list").split():
        if name.startswith(f"{NS_PREFIX}{tag}-"):
            ip("netns", "del", name, check=False)
    for line in ip("-o", "link", "show").splitlines():
        m = re.match(rf"\d+: ({LINK_PREFIX}{tag}\w+?)[:@]", line)
        if m:
            ip("link", "del", m.group(1), check=False)
    _drop_rules()


def _drop_rules():
    """Policy rules of drills live at priorities 7700..7799; removes those whose source network has
    no bridge any more (their topology is gone)."""
    live = set()
    for line in ip("-o", "-4", "addr", "show").splitlines():
        m = re.search(rf"inet ({SUPERNET}\.\d+)\.\d+/24", line)
        if m:
            live.add(m.group(1))
    for line in ip("rule", "show").splitlines():
        m = re.match(rf"(77\d\d):\s+from ({SUPERNET}\.\d+)\.\d+ to (\S+) blackhole", line)
        if m and m.group(2) not in live:
            ip("rule", "del", "priority", m.group(1), "from", f"{m.group(2)}.2", "to", m.group(3),
               "blackhole", check=False)


def cleanup_stale():
    """Removes drill topologies whose creating process is gone (a killed run's leftovers), and
    namespaces with the drill prefix that no bridge owns. Returns the tags removed."""
    removed = []
    with _locked():
        owners = _owned_bridges()
        tags = set(owners)
        for name in ip("netns", "list").split():
            m = re.match(rf"{NS_PREFIX}(\w{{5}})-", name)
            if m:
                tags.add(m.group(1))
        for tag in sorted(tags):
            pid, start = owners.get(tag, (0, 0))
            if pid and _start_time(pid) == start:
                continue  # its process still runs
            _remove(tag)
            removed.append(tag)
        _drop_rules()
    return removed


class Topology:
    """Namespaces b0..b(n-1) for the brokers on one bridge; see the module's doc."""

    def __init__(self, brokers=3):
        self.count = brokers
        self.tag = secrets.token_hex(3)[:5]
        self.net = None  # "10.77.N", chosen at create()
        self.bridge = f"{LINK_PREFIX}{self.tag}br"
        self.namespaces = [f"{NS_PREFIX}{self.tag}-b{i}" for i in range(brokers)]
        self.cuts = set()  # installed faults, so heal() can undo exactly them
        self.created = False

    # ---- addresses ----
    @property
    def client_ip(self):
        return f"{self.net}.1"

    @property
    def zookeeper_ip(self):
        return f"{self.net}.2"

    def broker_ip(self, i):
        return f"{self.net}.{11 + i}"

    def exec_argv(self, i, argv):
        """argv run inside broker i's namespace. `ip netns exec` execs the target (no fork), so a
        parent-death signal set before it still applies to the target."""
        return ["ip", "netns", "exec", self.namespaces[i]] + [str(a) for a in argv]

    # ---- life cycle ----
    def _free_net(self):
        used = []
        for line in ip("-o", "-4", "addr", "show").splitlines() + ip("-4", "route", "show").splitlines():
            for m in re.finditer(r"(\d+\.\d+\.\d+\.\d+(?:/\d+)?)", line):
                with contextlib.suppress(ValueError):
                    used.append(ipaddress.ip_network(m.group(1), strict=False))
        for third in range(0, 256):
            candidate = ipaddress.ip_network(f"{SUPERNET}.{third}.0/24")
            if not any(candidate.overlaps(u) for u in used if u.prefixlen > 0):
                return f"{SUPERNET}.{third}"
        raise RuntimeError(f"no free {SUPERNET}.x.0/24 network on this host")

    def create(self):
        cleanup_stale()
        with _locked():
            self.net = self._free_net()
            self.created = True
            try:
                self._build()
            except BaseException:
                _remove(self.tag)
                self.created = False
                raise
        return self

    def _build(self):
        pid = os.getpid()
        ip("link", "add", self.bridge, "type", "bridge", "forward_delay", "0", "stp_state", "0")
        ip("link", "set", self.bridge, "alias", f"{ALIAS_PREFIX} pid={pid} start={_start_time(pid)}")
        ip("addr", "add", f"{self.client_ip}/24", "dev", self.bridge)
        ip("addr", "add", f"{self.zookeeper_ip}/24", "dev", self.bridge)  # secondary: never a source
        ip("link", "set", self.bridge, "up")
        for i, ns in enumerate(self.namespaces):
            outer, inner = f"{LINK_PREFIX}{self.tag}v{i}", f"{LINK_PREFIX}{self.tag}p{i}"
            ip("netns", "add", ns)
            ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            ip("link", "set", outer, "master", self.bridge)
            ip("link", "set", outer, "up")
            ip("link", "set", inner, "netns", ns)
            ip("link", "set", inner, "name", "eth0", ns=ns)
            ip("addr", "add", f"{self.broker_ip(i)}/24", "dev", "eth0", ns=ns)
            ip("link", "set", "eth0", "up", ns=ns)
            ip("link", "set", "lo", "up", ns=ns)

    def destroy(self):
        if not self.created:
            return
        with _locked():
            self.heal()
            _remove(self.tag)
            self.created = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.destroy()

    # ---- faults ----
    def _route(self, action, i, target):
        ip("route", action, "blackhole", f"{target}/32", ns=self.namespaces[i], check=(action == "add"))

    def _zk_rule(self, action, i, check=True):
        ip("rule", action, "priority", str(7700 + i), "from", self.zookeeper_ip, "to", self.broker_ip(i),
           "blackhole", check=check)

    def cut_brokers(self, x, others):
        """Broker x cannot exchange a packet with any broker in `others` (both directions)."""
        for y in others:
            if y == x or ("peer", min(x, y), max(x, y)) in self.cuts:
                continue
            self._route("add", x, self.broker_ip(y))
            self._route("add", y, self.broker_ip(x))
            self.cuts.add(("peer", min(x, y), max(x, y)))

    def isolate_broker(self, x):
        """Broker x cut from every other broker; ZooKeeper and clients still reach it."""
        self.cut_brokers(x, [y for y in range(self.count) if y != x])

    def cut_zookeeper(self, x):
        """Broker x cannot exchange a packet with ZooKeeper; brokers and clients still reach it."""
        if ("zk", x) in self.cuts:
            return
        self._route("add", x, self.zookeeper_ip)
        self._zk_rule("add", x)
        self.cuts.add(("zk", x))

    def heal(self):
        """Removes every fault this topology installed."""
        for cut in sorted(self.cuts):
            if cut[0] == "peer":
                _, a, b = cut
                self._route("del", a, self.broker_ip(b))
                self._route("del", b, self.broker_ip(a))
            else:
                self._route("del", cut[1], self.zookeeper_ip)
                self._zk_rule("del", cut[1], check=False)
        self.cuts.clear()

    # ---- probes ----
    def can_connect(self, src, dst_ip, port, timeout=1.0):
        """True if a TCP connect from `src` (a broker index, or None for the root namespace) to
        dst_ip:port completes within `timeout`."""
        if src is None:
            try:
                with socket.create_connection((dst_ip, port), timeout=timeout):
                    return True
            except OSError:
                return False
        code = ("import socket,sys\n"
                f"try:\n socket.create_connection(({dst_ip!r},{port}),timeout={timeout}).close()\n"
                "except OSError: sys.exit(1)\n")
        done = subprocess.run(self.exec_argv(src, [sys.executable, "-c", code]), capture_output=True,
                              timeout=timeout + 20)
        return done.returncode == 0


def metadata(address, topics=None, timeout=3.0):
    """Raw Metadata v1 from one broker "host:port": (brokers, controller, topics), or None."""
    host, port = address.rsplit(":", 1)
    try:
        with kafkawire.Connection(host, int(port), timeout=timeout) as c:
            return kafkawire.metadata(c, topics)
    except (OSError, kafkawire.Closed, ValueError, TimeoutError):
        return None


class NetCluster(harness.Cluster):
    """harness.Cluster in a Topology: broker i runs in namespace i on its own address (port 9092),
    ZooKeeper listens on the topology's ZooKeeper address. `zookeeper(root, host)`, if given, makes
    the ZooKeeper (for example zkensemble.Ensemble); otherwise one harness.ZooKeeper serves.
    The topology is created by start() and removed by stop(), also when start() fails."""

    def __init__(self, root, brokers=3, overrides=None, zookeeper=None):  # noqa: super() builds at start()
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.topology = Topology(brokers)
        self.overrides = dict(overrides or {})
        self.overrides.setdefault("default.replication.factor", str(min(3, brokers)))
        self.zookeeper_factory = zookeeper or (lambda root, host: harness.ZooKeeper(root, host=host))
        self.zookeeper = None
        self.brokers = []

    def start(self, timeout=90.0):
        try:
            self.topology.create()
            self.zookeeper = self.zookeeper_factory(self.root / "zookeeper", self.topology.zookeeper_ip)
            self.brokers = [
                harness.Broker(i, self.root / f"broker-{i}", self.zookeeper.connect, port=BROKER_PORT,
                               overrides=self.overrides, host=self.topology.broker_ip(i),
                               wrapper=self.topology.exec_argv(i, []))
                for i in range(self.topology.count)]
            super().start(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops every process, then removes the topology; safe to call more than once."""
        try:
            with contextlib.suppress(Exception):
                self.topology.heal()
            for b in self.brokers:
                b.stop(signal.SIGTERM, 30.0)
            if self.zookeeper is not None:
                self.zookeeper.stop()
        finally:
            self.topology.destroy()

    def logs(self, lines=60):
        head = (f"---- topology {self.topology.tag} on {self.topology.net}.0/24, faults now: "
                f"{sorted(self.topology.cuts) or 'none'}")
        return head + ("\n" + super().logs(lines) if self.zookeeper is not None else "")
