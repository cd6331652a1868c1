"""The failure-drill runner (reliability.md §7): a ZooKeeper and three brokers, topic `drill`
(3 partitions, RF 3, min.insync.replicas 2), the workload processes of workload.py, a fault, the
final drain and checker.py.

Shared by every drill module (test_d*.py, test_net_*.py, test_zk_*.py):

    d = Drill(tmp_path)            # the `drill` fixture of conftest.py does this, and cleans up
    d.start()                      # cluster + topic, every partition with a full ISR
    d.start_workload()             # 2 producers, 1 assign() consumer, the ZooKeeper monitor
    d.fault("sigkill", target=1)   # an event line: availability is measured from here
    ...inject, d.heal("restart", target=1)...
    d.finish()                     # heal check (<= 30 s), stop the workload, drain, check
    d.assert_safe()                # the universal safety criteria on d.results

ZooKeeper views (a kazoo client of the drill's own): d.state(p), d.leader(p), d.isr(p),
d.controller(), d.controller_epoch(), d.registrations() ({broker id: czxid = broker epoch}),
d.healed() -> (bool, why). Waits return the seconds they took, or None when the bound passed:
d.wait_for(predicate, timeout). d.zk_history() reads the monitor's change log.

Every process is started here and stopped here (SIGTERM, then SIGKILL after a bounded wait).
"""

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoNodeError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # integration/: harness, kafkawire, util

import harness  # noqa: E402
import kafkawire  # noqa: E402
import util  # noqa: E402

import checker  # noqa: E402

TOPIC = "drill"
PARTITIONS = 3
SESSION_TIMEOUT = 6.0                    # zookeeper.session.timeout.ms, seconds (T_s)
FAILOVER_BOUND = SESSION_TIMEOUT + 5.0   # §7.3: failover and deregistration within T_s + 5 s
HEAL_BOUND = 30.0                        # all registered, one controller, full ISRs, after a heal
RATE = 170.0                             # messages per second per producer (two producers)
OVERRIDES = {
    "zookeeper.session.timeout.ms": "6000",
    "replica.lag.time.max.ms": "10000",
    "unclean.leader.election.enable": "false",
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
}
PRODUCERS = {"confluent": "confluent-producer", "kpython": "kafka-python-producer"}


class Drill:
    def __init__(self, root, rate=RATE, overrides=None, topic=TOPIC, partitions=PARTITIONS, cluster=harness.Cluster):
        """`cluster(root, brokers=3, overrides={...})` builds the cluster: harness.Cluster on
        loopback, or a drop-in such as netns.NetCluster (a module sets DRILL_CLUSTER for the fixture)."""
        self.root = Path(root)
        self.history = self.root / "history"
        self.history.mkdir(parents=True, exist_ok=True)
        self.topic, self.partitions, self.rate = topic, partitions, rate
        self.cluster = cluster(self.root / "cluster", brokers=3, overrides={**OVERRIDES, **(overrides or {})})
        self.workers = {}
        self.zk = None
        self.results = None
        self.notes = {}  # figures a drill measured, printed with the results
        self.problems = []
        self._events = open(self.history / "events.jsonl", "w", buffering=1)
        self._event("start", role="events")

    # ---- life cycle ------------------------------------------------------------------------------

    def start(self, timeout=90.0):
        self.cluster.start(timeout=timeout)
        self.zk = KazooClient(hosts=self.cluster.zookeeper.connect, timeout=10.0)
        self.zk.start(timeout=20)
        util.create_topic(self.cluster.bootstrap, self.topic, partitions=self.partitions, replication_factor=3,
                          config={"min.insync.replicas": "2"}, timeout=30)
        took = self.wait_for(lambda: self.healed()[0], 60)
        assert took is not None, f"the new cluster never showed full ISRs: {self.healed()[1]}"

    def stop(self):
        """Everything started by this drill, bounded."""
        for w in list(self.workers.values()):
            w.stop(signal.SIGTERM, timeout=5)
        if self.zk is not None:
            try:
                self.zk.stop()
                self.zk.close()
            except Exception:  # noqa: BLE001 - best effort at teardown
                pass
        for b in self.cluster.brokers:
            if b.process.running():
                os.kill(b.process.pid, signal.SIGCONT)
        self.cluster.stop()
        self._events.close()

    # ---- events --------------------------------------------------------------------------------

    def _event(self, kind, **fields):
        line = {"type": kind, "process": "events", "mono": time.monotonic(), "wall": time.time(), **fields}
        self._events.write(json.dumps(line) + "\n")
        return line["mono"]

    def fault(self, name, target=None, **extra):
        """Marks a fault injected now; returns its monotonic time."""
        return self._event("fault", name=name, target=target, **extra)

    def heal(self, name, target=None, **extra):
        self.last_heal = self._event("heal", name=name, target=target, **extra)
        return self.last_heal

    # ---- workload ---------------------------------------------------------------------------------

    def _worker(self, name, command, *args):
        argv = [sys.executable, HERE / "workload.py", command, "--out", self.history / f"{name}.jsonl", *args]
        p = harness.Process(name, argv, self.root / "workload" / f"{name}.log", cwd=self.root)
        p.start()
        self.workers[name] = p
        return p

    def start_workload(self, producers=PRODUCERS, consumer=True, leader_probe=True, warmup=5.0, producer_args=()):
        """`producer_args`: extra workload.py options for the producers (e.g. --delivery-timeout-ms)."""
        common = ["--bootstrap", self.cluster.bootstrap, "--topic", self.topic, "--partitions", str(self.partitions)]
        self._worker("zkmon", "zkmon", "--zookeeper", self.cluster.zookeeper.connect)
        for name, command in producers.items():
            self._worker(name, command, *common, "--name", name, "--rate", str(self.rate), *producer_args)
        if consumer:
            self._worker("consumer", "consumer", *common, "--name", "consumer")
        if leader_probe:
            self._worker("lprobe", "leader-probe", *common, "--name", "lprobe", "--interval", "0.2")
        self.workload_started = time.monotonic()
        self.notes["load_average_1m_at_start"] = round(os.getloadavg()[0], 2)
        time.sleep(warmup)
        dead = [n for n, w in self.workers.items() if not w.running()]
        assert not dead, f"workload processes exited at start: {dead}: " + "\n".join(
            self.workers[n].log_tail(20) for n in dead)

    def start_probe(self, broker_id, partition=0, name=None):
        """A raw Produce loop to one broker for one partition (see workload.py probe)."""
        name = name or f"probe{broker_id}"
        return self._worker(name, "probe", "--broker", self.cluster.broker(broker_id).address,
                            "--broker-id", str(broker_id), "--topic", self.topic, "--partition", str(partition),
                            "--name", name)

    def stop_workload(self, timeout=60.0):
        """Producers stop invoking and wait for their outstanding deliveries (delivery.timeout 30 s)."""
        for name, w in self.workers.items():
            if name != "zkmon" and w.running():
                os.kill(w.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, w in self.workers.items():
            if name != "zkmon":
                w.stop(signal.SIGTERM, timeout=max(1.0, deadline - time.monotonic()))
        self.workers["zkmon"].stop(signal.SIGTERM, timeout=10)

    def drain(self, timeout=60.0):
        p = self._worker("final-drain", "drain", "--bootstrap", self.cluster.bootstrap, "--topic", self.topic,
                         "--partitions", str(self.partitions), "--timeout", str(timeout))
        try:
            p.popen.wait(timeout=timeout + 30)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: stopped below
            pass
        return p.stop(signal.SIGKILL, timeout=5)

    def finish(self, settle=10.0, until=None):
        """After the last heal: waits for the cluster to heal (recorded in notes['healed_after_s']),
        lets the workload run `settle` more seconds (or until workload time `until`), stops it,
        drains and checks. Returns the checker's results."""
        self.notes["load_average_1m_at_finish"] = round(os.getloadavg()[0], 2)
        since = getattr(self, "last_heal", time.monotonic())
        took = self.wait_for(lambda: self.healed()[0], HEAL_BOUND + 5)
        self.notes["healed_after_s"] = None if took is None else round(time.monotonic() - since, 2)
        self.notes["heal_state"] = self.healed()[1]
        rest = settle
        if until is not None:
            rest = max(settle, self.workload_started + until - time.monotonic())
        time.sleep(rest)
        self.stop_workload()
        self.notes["drain_status"] = self.drain()
        self.results = checker.check(self.history)
        self.results["notes"] = self.notes
        with open(self.history / "results.json", "w") as f:
            json.dump(self.results, f, indent=1, sort_keys=True, default=str)
        print(self.report())
        return self.results

    def finish_checked(self, names, bound=FAILOVER_BOUND, settle=10.0, until=None):
        """finish(), then the universal criteria: check_safe() and check_failovers(bound, names)."""
        results = self.finish(settle=settle, until=until)
        self.check_safe()
        self.check_failovers(bound, names=names)
        return results

    def report(self):
        return (checker.summary(self.results) + f"\nnotes: {json.dumps(self.notes, default=str)}"
                f"\nhistory: {self.history}")

    # ---- assertions ---------------------------------------------------------------------------------
    # Checks collect their problems (expect), so one run reports every failed criterion at once;
    # conclude() fails the test with all of them and the checker's summary.

    def expect(self, condition, message):
        if not condition:
            self.problems.append(message)
        return condition

    def conclude(self):
        if self.results is not None:
            self.results["notes"] = self.notes
            self.results["problems"] = self.problems
            with open(self.history / "results.json", "w") as f:
                json.dump(self.results, f, indent=1, sort_keys=True, default=str)
            print(f"drill figures: {json.dumps(self.notes, default=str)}")
        # The problems go on the first line too: a CI log that keeps only pytest's summary line
        # (or the tail of a long failure) still says which criterion failed.
        assert not self.problems, "\n".join([f"drill criteria not met: {' | '.join(self.problems)}"]
                                            + [f"- {p}" for p in self.problems] + [self.report()])

    def check_safe(self):
        """The universal criteria of §7.1 and §7.3: every anomaly class 0, the drain complete, the
        cluster healed within 30 s of the last heal, every broker and ZooKeeper alive."""
        r = self.results
        assert r is not None, "finish() was not called"
        self.expect(not r["completeness_problems"], f"incomplete history: {r['completeness_problems']}")
        bad = {c: r["counts"][c] for c in checker.CLASSES if r["counts"][c]}
        self.expect(not bad, f"safety anomalies {bad}")
        self.expect(r["totals"]["ok"] > 0, "no write was acknowledged")
        healed = self.notes.get("healed_after_s")
        self.expect(healed is not None and healed <= HEAL_BOUND,
                    f"cluster not healed within {HEAL_BOUND} s of the last heal: {self.notes.get('heal_state')}")
        dead = [b.broker_id for b in self.cluster.brokers if not b.process.running()]
        self.expect(not dead, f"brokers not running at the end: {dead}")
        self.expect(self.cluster.zookeeper.process.running(), "ZooKeeper not running at the end")

    def assert_safe(self):
        self.check_safe()
        self.conclude()

    def failovers(self, names=None):
        """[(fault name, target, worst seconds from the fault to the first ack of a write invoked
        after it, over every partition)] for each fault event (None: some partition never acked)."""
        out = []
        for f in self.results["availability"]["faults"]:
            if names is not None and f["name"] not in names:
                continue
            firsts = [p["first_ack_after_s"] for p in f["partitions"].values()]
            out.append((f["name"], f["target"], None if None in firsts or not firsts else max(firsts)))
        return out

    def client_failovers(self, names=None):
        """{producer: [worst seconds to its first ack after each fault, over the partitions]}: what
        each client saw, including how long it kept requests pinned to a dead or paused leader."""
        out = {}
        for f in self.results["availability"]["faults"]:
            if names is not None and f["name"] not in names:
                continue
            for process, firsts in f.get("by_process", {}).items():
                vals = list(firsts.values())
                out.setdefault(process, []).append(None if None in vals or not vals else max(vals))
        return out

    def check_failovers(self, bound=FAILOVER_BOUND, names=None):
        """Every fault (named `names`) followed by an ack on every partition within `bound` s, by
        any producer (the leader probe follows Metadata at once, see workload.leader_probe); each
        client's own figures go to notes['client_failovers']."""
        got = self.failovers(names)
        self.notes.setdefault("failovers", []).extend(got)
        self.notes["client_failovers"] = self.client_failovers(names)
        self.expect(got, f"no fault events named {names}")
        slow = [g for g in got if g[2] is None or g[2] > bound]
        self.expect(not slow, f"failover over {bound} s: {slow}")
        return got

    def max_ack_gap(self):
        """The longest gap between consecutive acks of any partition over the whole run, seconds."""
        return max(p["max_gap_s"] for p in self.results["availability"]["partitions"].values())

    # ---- ZooKeeper views ------------------------------------------------------------------------------

    def _json(self, path):
        try:
            data, stat = self.zk.get(path)
        except NoNodeError:
            return None, None
        return (json.loads(data.decode()) if data else None), stat

    def state(self, partition=0, topic=None):
        """The partition's state znode: {"leader", "leader_epoch", "isr", "controller_epoch", ...}."""
        return self._json(f"/brokers/topics/{topic or self.topic}/partitions/{partition}/state")[0]

    def leader(self, partition=0, topic=None):
        s = self.state(partition, topic)
        return None if s is None else s["leader"]

    def isr(self, partition=0, topic=None):
        s = self.state(partition, topic)
        return [] if s is None else sorted(s["isr"])

    def controller(self):
        data, _ = self._json("/controller")
        return None if data is None else data["brokerid"]

    def controller_epoch(self):
        data, _ = self._json("/controller_epoch")
        return data

    def registrations(self):
        """{broker id: czxid of /brokers/ids/N} (czxid is the broker epoch of KIP-380)."""
        out = {}
        for child in self.zk.get_children("/brokers/ids"):
            try:
                out[int(child)] = self.zk.exists(f"/brokers/ids/{child}").czxid
            except AttributeError:  # gone between the listing and the read
                pass
        return out

    def assignment(self, topic=None):
        data, _ = self._json(f"/brokers/topics/{topic or self.topic}")
        return {int(p): sorted(r) for p, r in (data or {}).get("partitions", {}).items()}

    def healed(self):
        """(True, summary) when all 3 brokers are registered, one controller is known and agreed on
        by every broker's Metadata, and every partition of every topic has a leader and a full ISR."""
        try:
            regs = self.registrations()
            want = {b.broker_id for b in self.cluster.brokers}
            if set(regs) != want:
                return False, f"registered {sorted(regs)}"
            ctl = self.controller()
            if ctl not in want:
                return False, f"controller {ctl}"
            for t in self.zk.get_children("/brokers/topics"):
                for p, replicas in self.assignment(t).items():
                    s = self.state(p, t)
                    if s is None or s["leader"] not in want or sorted(s["isr"]) != replicas:
                        return False, f"{t}-{p}: {s} (replicas {replicas})"
            for b in self.cluster.brokers:
                host, port = b.address.rsplit(":", 1)
                with kafkawire.Connection(host, int(port), timeout=3) as c:
                    brokers, controller, _ = kafkawire.metadata(c, [])
                if set(brokers) != want or controller != ctl:
                    return False, f"broker {b.broker_id} Metadata: brokers {sorted(brokers)}, controller {controller}"
            return True, f"registered {sorted(regs)}, controller {ctl}, full ISRs"
        except (OSError, kafkawire.Closed, ValueError, TimeoutError, KazooException) as e:
            # KazooException: this observer's own ZooKeeper session may have expired during a
            # ZooKeeper outage (Z14); kazoo opens a new one by itself, so ask again.
            return False, f"{type(e).__name__}: {e}"

    def zk_history(self):
        """The monitor's lines ("zk" / "zk_gone" with path, data, czxid, owner, version, mono)."""
        return self.history_lines("zkmon")

    # ---- broker control -----------------------------------------------------------------------------

    @staticmethod
    def wait_for(predicate, timeout, interval=0.1):
        """Seconds until predicate() was true, or None after `timeout` seconds."""
        start = time.monotonic()
        while True:
            if predicate():
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                return None
            time.sleep(interval)

    def broker(self, broker_id):
        return self.cluster.broker(broker_id)

    def sigkill(self, broker_id, name="sigkill"):
        b = self.broker(broker_id)
        t = self.fault(name, target=broker_id)
        os.kill(b.process.pid, signal.SIGKILL)
        b.process.stop(signal.SIGKILL, timeout=10)
        return t

    def sigterm(self, broker_id, name="sigterm", timeout=30.0):
        """SIGTERM and wait for the exit (controlled shutdown); returns (fault time, seconds to exit)."""
        b = self.broker(broker_id)
        t = self.fault(name, target=broker_id)
        b.process.stop(signal.SIGTERM, timeout=timeout)
        return t, time.monotonic() - t

    def pause(self, broker_id, name="sigstop"):
        t = self.fault(name, target=broker_id)
        os.kill(self.broker(broker_id).process.pid, signal.SIGSTOP)
        return t

    def resume(self, broker_id, name="sigcont"):
        os.kill(self.broker(broker_id).process.pid, signal.SIGCONT)
        return self.heal(name, target=broker_id)

    def restart(self, broker_id, name="restart"):
        """Starts a stopped broker on its port and data; returns the heal time."""
        t = self.heal(name, target=broker_id)
        self.broker(broker_id).start(wait=True, timeout=60)
        return t

    def acked_partitions_since(self, since):
        """Partitions with an ok ack (any producer of PRODUCERS) completed at or after `since`
        (monotonic), read from the producers' history files as they grow."""
        tails = self.__dict__.setdefault("_tails", {})
        seen = self.__dict__.setdefault("_last_ack", {})
        for name in PRODUCERS:
            path = self.history / f"{name}.jsonl"
            if not path.exists():
                continue
            pos, rest = tails.get(name, (0, ""))
            with open(path) as f:
                f.seek(pos)
                chunk = f.read()
                tails[name] = (f.tell(), "")
            lines = (rest + chunk).split("\n")
            tails[name] = (tails[name][0], lines.pop())  # a line still being written
            for raw in lines:
                if '"type": "ok"' in raw:
                    x = json.loads(raw)
                    seen[x["partition"]] = max(seen.get(x["partition"], 0.0), x["mono"])
        return {p for p, t in seen.items() if t >= since}

    def wait_writable(self, timeout=FAILOVER_BOUND + 10):
        """Seconds until every partition of the drill topic has acked a write after now."""
        since = time.monotonic()
        return self.wait_for(lambda: len(self.acked_partitions_since(since)) == self.partitions, timeout, 0.2)

    def wait_deregistered(self, broker_id, timeout=FAILOVER_BOUND + 10):
        return self.wait_for(lambda: broker_id not in self.registrations(), timeout)

    def wait_registered(self, broker_id, other_than=None, timeout=FAILOVER_BOUND + 10):
        """Until /brokers/ids/N exists with a czxid other than `other_than`."""
        return self.wait_for(lambda: self.registrations().get(broker_id) not in (None, other_than), timeout)

    def wait_new_leader(self, partition, old, timeout=FAILOVER_BOUND + 10):
        return self.wait_for(lambda: self.leader(partition) not in (None, -1, old), timeout)

    def wait_in_all_isrs(self, broker_id, timeout=HEAL_BOUND):
        return self.wait_for(lambda: all(broker_id in self.isr(p) for p in range(self.partitions)), timeout)

    def metadata_controllers(self):
        """The controller id each running broker's Metadata names ({-1} parts for no answer)."""
        out = set()
        for b in self.cluster.brokers:
            if not b.process.running():
                continue
            host, port = b.address.rsplit(":", 1)
            try:
                with kafkawire.Connection(host, int(port), timeout=2) as c:
                    out.add(kafkawire.metadata(c, [])[1])
            except (OSError, kafkawire.Closed, ValueError, TimeoutError):
                out.add(-1)
        return out

    def history_lines(self, name):
        """The lines of one history file (history/NAME.jsonl); a torn last line is skipped."""
        out = []
        path = self.history / f"{name}.jsonl"
        for raw in (path.read_text().splitlines() if path.exists() else []):
            try:
                out.append(json.loads(raw))
            except ValueError:
                pass
        return out

    def controller_claims(self):
        """Brokers whose log, since their last start, ends with "became the controller" rather than
        a resignation: the brokers acting as controller right now by their own account."""
        claims = set()
        for b in self.cluster.brokers:
            try:
                text = b.process.log_path.read_text(errors="replace")
            except OSError:
                continue
            starts = [m.start() for m in re.finditer(r"^==== \S+ start:", text, re.M)]
            text = text[starts[-1]:] if starts else text
            last = None
            for line in text.splitlines():
                if "became the controller" in line:
                    last = "became"
                elif "resign" in line:
                    last = "resigned"
            if last == "became" and b.process.running():
                claims.add(b.broker_id)
        return claims

    def log_count(self, text):
        """How many lines of all broker logs (every start) contain `text`."""
        n = 0
        for b in self.cluster.brokers:
            try:
                n += sum(1 for line in b.process.log_path.read_text(errors="replace").splitlines() if text in line)
            except OSError:
                pass
        return n

    def logs(self, lines=80):
        return self.cluster.logs(lines)
