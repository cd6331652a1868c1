"""The drill checker against crafted histories: one clean, and one per anomaly class (fast, no brokers)."""

import json
import subprocess
import sys
from pathlib import Path

import checker


class History:
    """Builds a history directory the way the workload processes write it."""

    def __init__(self, root):
        self.root = Path(root)
        self.files = {}
        self.t = 100.0

    def _write(self, process, line):
        self.t += 0.01
        line.setdefault("mono", self.t)
        line.setdefault("wall", 1_700_000_000 + self.t)
        line["process"] = process
        self.files.setdefault(process, []).append(line)

    def start(self, process, role, **extra):
        self._write(process, {"type": "start", "role": role, **extra})

    def invoke(self, process, value, partition):
        self._write(process, {"type": "invoke", "value": value, "partition": partition})

    def ok(self, process, value, partition, offset, mono=None):
        line = {"type": "ok", "value": value, "partition": partition, "offset": offset}
        if mono is not None:
            line["mono"] = mono
        self._write(process, line)

    def fail(self, process, value, partition, code=19, kind="fail"):
        self._write(process, {"type": kind, "value": value, "partition": partition, "error_code": code,
                              "error": "NOT_ENOUGH_REPLICAS"})

    def poll(self, process, gen, partition, offset, value):
        self._write(process, {"type": "poll", "gen": gen, "partition": partition, "offset": offset, "value": value})

    def drain(self, log, end=None, complete=True, reached=None):
        """log: {partition: [values at offsets 0..]} or {partition: {offset: value}}."""
        self.start("drain", "drain")
        nxt = {}
        for p, values in log.items():
            items = values.items() if isinstance(values, dict) else enumerate(values)
            items = sorted(items)
            e = (end or {}).get(p, items[-1][0] + 1 if items else 0)
            self._write("drain", {"type": "end", "partition": p, "offset": e})
            for o, v in items:
                self._write("drain", {"type": "read", "partition": p, "offset": o, "value": v})
            nxt[str(p)] = items[-1][0] + 1 if items else 0
        self._write("drain", {"type": "drain_done", "complete": complete, "reached": reached or nxt})

    def produce(self, process, values, partition, first_offset=0):
        for i, v in enumerate(values):
            self.invoke(process, v, partition)
            self.ok(process, v, partition, first_offset + i)

    def check(self):
        self.root.mkdir(parents=True, exist_ok=True)
        for process, lines in self.files.items():
            with open(self.root / f"{process}.jsonl", "w") as f:
                for line in lines:
                    f.write(json.dumps(line) + "\n")
        return checker.check(self.root)


def clean(tmp_path, consumer=True):
    """Two producers, two partitions, a consumer that reads everything, a complete drain."""
    h = History(tmp_path)
    h.start("a", "producer", idempotent=True)
    h.start("b", "producer", idempotent=True)
    h.start("c", "consumer")
    a = [f"a-{i}" for i in range(10)]
    b = [f"b-{i}" for i in range(10)]
    h.produce("a", a, 0)
    h.produce("b", b, 1)
    if consumer:
        for o, v in enumerate(a):
            h.poll("c", 1, 0, o, v)
        for o, v in enumerate(b):
            h.poll("c", 1, 1, o, v)
    return h, a, b


def only(results, *classes):
    bad = {k: v for k, v in results["counts"].items() if v and k not in classes}
    assert not bad, f"unexpected anomalies {bad}"
    for c in classes:
        assert results["counts"][c] > 0, f"{c} not found: {results['counts']}"


def test_clean_history_is_valid(tmp_path):
    h, a, b = clean(tmp_path)
    h.drain({0: a, 1: b})
    r = h.check()
    assert r["verdict"] == "valid", checker.summary(r)
    assert r["failed_classes"] == [] and not any(r["counts"].values())
    assert r["totals"]["ok"] == 20 and r["totals"]["final_log"] == 20 and r["totals"]["polled"] == 20
    assert (tmp_path / "results.json").exists()
    assert r["availability"]["partitions"]["0"]["acks"] == 10


def test_gaps_in_offsets_are_legal(tmp_path):
    # Offsets 3 and 4 hold control records or were truncated away before anyone read them.
    h = History(tmp_path)
    h.start("a", "producer", idempotent=True)
    h.start("c", "consumer")
    log = {0: "a-0", 1: "a-1", 2: "a-2", 5: "a-3", 6: "a-4"}
    for o, v in log.items():
        h.invoke("a", v, 0)
        h.ok("a", v, 0, o)
        h.poll("c", 1, 0, o, v)
    h.drain({0: log})
    assert h.check()["verdict"] == "valid"


def test_incomplete_drain(tmp_path):
    h, a, b = clean(tmp_path)
    h.drain({0: a[:5], 1: b}, end={0: 10}, complete=False)
    r = h.check()
    assert r["verdict"] == "incomplete"
    assert any("partition 0" in p for p in r["completeness_problems"])


def test_end_offset_below_highest_ack_is_incomplete(tmp_path):
    h, a, b = clean(tmp_path, consumer=False)
    h.drain({0: a[:8], 1: b})  # reached its end offset 8, but offset 9 was acked
    r = h.check()
    assert r["verdict"] == "incomplete"
    assert r["counts"]["lost"] == 2


def test_lost_write(tmp_path):
    h, a, b = clean(tmp_path, consumer=False)
    h.drain({0: a[:4] + a[5:] + ["a-99"], 1: b})
    h.invoke("a", "a-99", 0)  # invoked, never acked, then present: legal (info)
    r = h.check()
    assert r["verdict"] == "invalid"
    assert r["counts"]["lost"] == 1
    ex = r["anomalies"]["lost"]["examples"][0]
    assert ex["value"] == "a-4" and ex["writer"] == "a" and ex["around"]
    assert r["counts"]["inconsistent_offsets"] >= 1  # the ack said a-4 at offset 4


def test_inconsistent_offsets(tmp_path):
    h, a, b = clean(tmp_path, consumer=False)
    h.poll("c", 1, 1, 3, "b-3")
    h.poll("c", 1, 1, 4, "b-5")  # a consumer saw b-5 at 4; acks and the log say b-4
    h.drain({0: a, 1: b})
    r = h.check()
    assert r["counts"]["inconsistent_offsets"] == 1
    ex = r["anomalies"]["inconsistent_offsets"]["examples"][0]
    assert ex["partition"] == 1 and ex["offset"] == 4 and ex["values"] == ["b-4", "b-5"]
    assert len(ex["around"]) == 10  # offsets 0..9 (±5 around 4, clipped)


def test_duplicates_fail_with_idempotence_only(tmp_path):
    h = History(tmp_path)
    h.start("a", "producer", idempotent=True)
    h.start("k", "producer", idempotent=False)
    for i, v in enumerate(["a-0", "a-1", "k-0", "k-1"]):
        h.invoke(v[0], v, 0)
        h.ok(v[0], v, 0, i)
    h.drain({0: ["a-0", "a-1", "k-0", "k-1", "a-1", "k-1"]})
    r = h.check()
    assert r["counts"]["duplicates"] == 1 and r["anomalies"]["duplicates"]["examples"][0]["value"] == "a-1"
    assert r["counts"]["duplicates_non_idempotent"] == 1
    assert r["verdict"] == "invalid" and r["failed_classes"] == ["duplicates"]


def test_phantom(tmp_path):
    h, a, b = clean(tmp_path)
    h.poll("c", 1, 1, 10, "zz-1")
    h.drain({0: a, 1: b + ["zz-1"]})
    r = h.check()
    only(r, "phantoms")
    assert r["anomalies"]["phantoms"]["examples"][0]["value"] == "zz-1"


def test_aborted_read(tmp_path):
    h, a, b = clean(tmp_path)
    h.invoke("a", "a-10", 0)
    h.fail("a", "a-10", 0, code=19)
    h.invoke("b", "b-10", 1)
    h.fail("b", "b-10", 1, code=20, kind="info")  # NOT_ENOUGH_REPLICAS_AFTER_APPEND: may be there
    h.drain({0: a + ["a-10"], 1: b + ["b-10"]})
    r = h.check()
    only(r, "aborted_reads", "unacked_but_present")
    assert [x["value"] for x in r["anomalies"]["aborted_reads"]["examples"]] == ["a-10"]
    assert r["verdict"] == "invalid"


def test_dirty_read(tmp_path):
    h, a, b = clean(tmp_path)
    h.invoke("a", "a-10", 0)
    h.fail("a", "a-10", 0, code=7, kind="info")  # timed out; truncated later
    h.poll("c", 1, 0, 10, "a-10")
    h.drain({0: a, 1: b})
    r = h.check()
    only(r, "dirty_reads")
    assert r["anomalies"]["dirty_reads"]["examples"][0]["readers"] == ["c"]


def test_dirty_read_then_overwritten_is_also_inconsistent(tmp_path):
    h, a, b = clean(tmp_path)
    h.invoke("a", "a-10", 0)
    h.fail("a", "a-10", 0, code=7, kind="info")
    h.invoke("a", "a-11", 0)
    h.ok("a", "a-11", 0, 10)
    h.poll("c", 1, 0, 10, "a-10")  # read above the high watermark, then truncated and rewritten
    h.drain({0: a + ["a-11"], 1: b})
    r = h.check()
    only(r, "dirty_reads", "inconsistent_offsets")


def test_producer_reorder(tmp_path):
    h = History(tmp_path)
    h.start("a", "producer", idempotent=True)
    for v in ["a-0", "a-1", "a-2"]:
        h.invoke("a", v, 0)
    h.ok("a", "a-0", 0, 0)
    h.ok("a", "a-2", 0, 1)  # invoked after a-1, stored before it
    h.ok("a", "a-1", 0, 2)
    h.drain({0: ["a-0", "a-2", "a-1"]})
    r = h.check()
    only(r, "producer_reorders")
    ex = r["anomalies"]["producer_reorders"]["examples"][0]
    assert ex["value"] == "a-2" and ex["after"] == {"value": "a-1", "offset": 2}


def test_poll_skip_within_a_generation(tmp_path):
    h, a, b = clean(tmp_path, consumer=False)
    for o in [0, 1, 2, 5, 6]:
        h.poll("c", 1, 0, o, a[o])
    h.drain({0: a, 1: b})
    r = h.check()
    only(r, "poll_skips")
    ex = r["anomalies"]["poll_skips"]["examples"][0]
    assert ex["skipped"] == [["a-3"], ["a-4"]] and ex["after"]["offset"] == 2


def test_nonmonotonic_poll_and_reassign(tmp_path):
    h, a, b = clean(tmp_path, consumer=False)
    for o in [0, 1, 2, 3]:
        h.poll("c", 1, 0, o, a[o])
    for o in [2, 3, 4]:  # going back after a re-assign (new generation) is allowed
        h.poll("c", 2, 0, o, a[o])
    h.poll("c", 2, 0, 4, a[4])  # the same offset twice in one generation is not
    h.drain({0: a, 1: b})
    r = h.check()
    only(r, "nonmonotonic_polls")
    assert r["counts"]["nonmonotonic_polls"] == 1


def test_availability_figures(tmp_path):
    h = History(tmp_path)
    h.start("a", "producer", idempotent=True)
    h.start("events", "events")
    for i in range(5):
        h.invoke("a", f"a-{i}", 0)
        h.ok("a", f"a-{i}", 0, i, mono=200.0 + i * 0.1)
    h._write("events", {"type": "fault", "name": "kill", "target": 1, "mono": 200.45})
    for i in range(5, 8):
        h._write("a", {"type": "invoke", "value": f"a-{i}", "partition": 0, "mono": 200.5})
        h.ok("a", f"a-{i}", 0, i, mono=203.5 + i * 0.1)
    h._write("events", {"type": "heal", "name": "restart", "target": 1, "mono": 206.0})
    h.drain({0: [f"a-{i}" for i in range(8)]})
    r = h.check()
    assert r["verdict"] == "valid", checker.summary(r)
    fault = r["availability"]["faults"][0]
    assert fault["name"] == "kill" and fault["partitions"]["0"]["first_ack_after_s"] == 3.55
    assert fault["partitions"]["0"]["max_gap_s"] == 3.6
    assert fault["by_process"] == {"a": {"0": 3.55}}
    assert r["availability"]["partitions"]["0"]["max_gap_s"] == 3.6
    assert r["availability"]["ack_latency"]["a"]["count"] == 8


def test_torn_last_line_and_cli(tmp_path):
    h, a, b = clean(tmp_path)
    h.drain({0: a, 1: b})
    h.check()
    with open(tmp_path / "c.jsonl", "a") as f:
        f.write('{"type": "poll", "gen": 1, "parti')  # killed mid-write
    cli = Path(checker.__file__)
    out = subprocess.run([sys.executable, str(cli), str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "verdict valid" in out.stdout
    assert json.loads((tmp_path / "results.json").read_text())["verdict"] == "valid"
