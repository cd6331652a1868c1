#!/usr/bin/env python3
"""A Jepsen-style checker for failure-drill histories (reliability.md §8), in plain Python.

It imports nothing of Odradek, so a broker bug cannot hide itself in shared code: it reads the
history files a drill left in one directory and decides from them alone.

    python3 integration/drills/checker.py HISTORY_DIR     # writes HISTORY_DIR/results.json

History files are JSON lines, `*.jsonl`, one per client process. Every file starts with
{"type": "start", "process": NAME, "role": ROLE, ...}; ROLE is one of

  producer  then invoke / ok / fail / info lines, each with "value" and "partition";
            ok carries "offset"; fail and info carry "error_code" and "error"; every line has
            "mono" (CLOCK_MONOTONIC seconds, comparable between processes of one machine) and
            "wall" (Unix time). The start line says "idempotent": true|false.
            fail = certainly not appended (an error raised before append on a single attempt);
            info = outcome unknown (timeouts, disconnects, retried attempts, ...).
  consumer  then "assign" lines ({"gen": G}) and "poll" lines ({"gen", "partition", "offset",
            "value"}); the generation is bumped on every (re)assign or seek.
  drain     the final read: "end" lines ({"partition", "offset"}: the ListOffsets end offset),
            "read" lines ({"partition", "offset", "value"}) and one closing
            {"type": "drain_done", "complete": bool, "reached": {p: next offset}}.
  events    fault and heal markers written by the drill: {"type": "fault"|"heal", "name", "mono"}.
            Per fault, availability gives the time to the first ack of a write invoked after it, on
            each partition, over all producers and per producer.

Values are unique strings "<producer>-<seq>"; an unknown role is ignored.
"""

import bisect
import json
import sys
from collections import defaultdict
from pathlib import Path

EXAMPLES = 20
AROUND = 5

# Anomaly classes; all of them make a history invalid except those in REPORTED_ONLY, and
# duplicates / reorders count only for values of idempotent producers.
CLASSES = ["inconsistent_offsets", "lost", "duplicates", "phantoms", "aborted_reads", "dirty_reads",
           "producer_reorders", "poll_skips", "nonmonotonic_polls"]
REPORTED_ONLY = ["duplicates_non_idempotent", "producer_reorders_non_idempotent", "unacked_but_present"]


def load(directory):
    """{process: (start line, [lines])} for every *.jsonl in `directory`."""
    histories = {}
    for path in sorted(Path(directory).glob("*.jsonl")):
        lines = []
        raw_lines = path.read_text().splitlines()
        for n, raw in enumerate(raw_lines, 1):
            raw = raw.strip()
            if not raw:
                continue
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                # A process killed mid-write leaves a torn last line; anything else is an error.
                if n == len(raw_lines):
                    break
                raise ValueError(f"{path}:{n}: not JSON: {raw[:80]!r}")
        if not lines:
            continue
        start = lines[0] if lines[0].get("type") == "start" else {"type": "start", "process": path.stem,
                                                                  "role": "unknown"}
        histories[start.get("process", path.stem)] = (start, lines)
    return histories


def _percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, max(0, int(round(q * (len(sorted_values) - 1)))))
    return sorted_values[i]


class Check:
    def __init__(self, histories):
        self.histories = histories
        self.anomalies = {c: [] for c in CLASSES + REPORTED_ONLY}
        self.producers = {}      # process -> start line
        self.invoked = {}        # value -> (process, partition, invoke mono)
        self.outcome = {}        # value -> "ok" | "fail" | "info"
        self.acks = {}           # value -> (partition, offset, ok mono)
        self.idempotent = {}     # process -> bool
        self.polls = []          # (consumer, gen, partition, offset, value, mono)
        self.drain = None        # (start, lines)
        self.events = []         # fault / heal lines
        self.final = defaultdict(dict)   # partition -> {offset: value}  (L[p])
        self.final_values = defaultdict(set)
        self.end_offsets = {}
        self.drain_done = None
        self.errors = defaultdict(lambda: defaultdict(int))  # process -> "code name" -> count
        self.latencies = defaultdict(list)

    # ---- reading ---------------------------------------------------------------------------

    def read(self):
        for process, (start, lines) in self.histories.items():
            role = start.get("role")
            if role == "producer":
                self.producers[process] = start
                self.idempotent[process] = bool(start.get("idempotent"))
                invoke_mono = {}
                for line in lines:
                    t, v = line.get("type"), line.get("value")
                    if t == "invoke":
                        self.invoked[v] = (process, line.get("partition"), line.get("mono"))
                        invoke_mono[v] = line.get("mono")
                        self.outcome.setdefault(v, "info")  # no completion recorded: unknown
                    elif t == "ok":
                        self.outcome[v] = "ok"
                        self.acks[v] = (line["partition"], line["offset"], line.get("mono"))
                        if invoke_mono.get(v) is not None and line.get("mono") is not None:
                            self.latencies[process].append(line["mono"] - invoke_mono[v])
                    elif t in ("fail", "info"):
                        self.outcome[v] = t
                        self.errors[process][f"{line.get('error_code')} {line.get('error')}"] += 1
            elif role == "consumer":
                for line in lines:
                    if line.get("type") == "poll":
                        self.polls.append((process, line.get("gen", 0), line["partition"], line["offset"],
                                           line["value"], line.get("mono")))
            elif role == "drain":
                self.drain = (start, lines)
                for line in lines:
                    t = line.get("type")
                    if t == "read":
                        p, o, v = line["partition"], line["offset"], line["value"]
                        if o in self.final[p] and self.final[p][o] != v:
                            self.anomalies["inconsistent_offsets"].append(
                                {"partition": p, "offset": o, "values": sorted({self.final[p][o], v}),
                                 "kind": "drain read one offset twice with different values"})
                        self.final[p][o] = v
                        self.final_values[p].add(v)
                    elif t == "end":
                        self.end_offsets[line["partition"]] = line["offset"]
                    elif t == "drain_done":
                        self.drain_done = line
            elif role == "events":
                self.events += [line for line in lines if line.get("type") in ("fault", "heal")]
        self.events.sort(key=lambda e: e.get("mono", 0))

    # ---- steps of §8.2 -----------------------------------------------------------------------

    def completeness(self):
        """Step 1: the drain reached every end offset, and each end offset covers the highest ack."""
        problems = []
        if self.drain is None:
            return ["no final drain in the history"]
        if not self.drain_done or not self.drain_done.get("complete"):
            problems.append("the final drain did not report itself complete")
        reached = {int(k): v for k, v in (self.drain_done or {}).get("reached", {}).items()}
        highest_ack = defaultdict(lambda: -1)
        for p, o, _ in self.acks.values():
            highest_ack[p] = max(highest_ack[p], o)
        partitions = set(self.end_offsets) | set(highest_ack)
        for p in sorted(partitions):
            end = self.end_offsets.get(p)
            if end is None:
                problems.append(f"partition {p}: no end offset recorded by the drain")
                continue
            if reached.get(p, 0) < end:
                problems.append(f"partition {p}: drain reached {reached.get(p, 0)}, end offset {end}")
            if end <= highest_ack[p]:
                problems.append(f"partition {p}: end offset {end} not above the highest ack {highest_ack[p]}")
        return problems

    def version_order(self):
        """Step 2: offset -> set of values from acks, polls and the final log; inconsistent offsets."""
        self.versions = defaultdict(lambda: defaultdict(set))
        self.ack_claims = defaultdict(dict)   # partition -> {offset: value} claimed by acks
        for v, (p, o, _) in self.acks.items():
            self.versions[p][o].add(v)
            self.ack_claims[p][o] = v
        for _, _, p, o, v, _ in self.polls:
            self.versions[p][o].add(v)
        for p, log in self.final.items():
            for o, v in log.items():
                self.versions[p][o].add(v)
        for p in sorted(self.versions):
            for o in sorted(self.versions[p]):
                vs = self.versions[p][o]
                if len(vs) > 1:
                    self.anomalies["inconsistent_offsets"].append(
                        {"partition": p, "offset": o, "values": sorted(vs)})
        # An ack naming an offset the complete final log does not hold, while the log holds the
        # value somewhere else, also disagrees about what sits at that offset.
        for p, claims in self.ack_claims.items():
            where = {v: o for o, v in self.final.get(p, {}).items()}
            for o, v in claims.items():
                if o not in self.final.get(p, {}) and v in where:
                    self.anomalies["inconsistent_offsets"].append(
                        {"partition": p, "offset": o, "values": [v],
                         "kind": f"acked at {o}, stored at {where[v]}"})
        # Dense indices: gaps (control records, truncation) are legal and dropped.
        self.dense = {p: sorted(self.versions[p]) for p in self.versions}

    def lost(self):
        """Step 3: every ok-acked value must be in the final log of its partition."""
        for v, (p, o, mono) in sorted(self.acks.items(), key=lambda kv: (kv[1][0], kv[1][1])):
            if v not in self.final_values.get(p, ()):
                self.anomalies["lost"].append({"partition": p, "offset": o, "value": v,
                                               "writer": self.invoked.get(v, (None,))[0]})

    def duplicates(self):
        """Step 4: a value at more than one offset in L[p], in the union of polls, or in two partitions."""
        seen = defaultdict(set)  # value -> {(partition, offset)}
        for p, log in self.final.items():
            for o, v in log.items():
                seen[v].add((p, o))
        polled = defaultdict(set)
        for _, _, p, o, v, _ in self.polls:
            polled[v].add((p, o))
        for v in sorted(set(seen) | set(polled)):
            places = seen.get(v, set()) | polled.get(v, set())
            if len(places) > 1:
                writer = self.invoked.get(v, (None,))[0]
                cls = "duplicates" if self.idempotent.get(writer, True) else "duplicates_non_idempotent"
                p, o = sorted(places)[0]
                self.anomalies[cls].append({"partition": p, "offset": o, "value": v, "writer": writer,
                                            "at": sorted(places)})

    def phantoms_aborted_dirty(self):
        """Steps 5-7."""
        readers = defaultdict(set)
        for c, _, p, o, v, _ in self.polls:
            readers[(p, o, v)].add(c)
        for p, log in self.final.items():
            for o, v in log.items():
                readers[(p, o, v)].add("final-drain")
        for (p, o, v), who in sorted(readers.items()):
            if v not in self.invoked:
                self.anomalies["phantoms"].append({"partition": p, "offset": o, "value": v, "readers": sorted(who)})
            elif self.outcome.get(v) == "fail":
                self.anomalies["aborted_reads"].append({"partition": p, "offset": o, "value": v,
                                                        "writer": self.invoked[v][0], "readers": sorted(who)})
            elif self.outcome.get(v) != "ok" and "final-drain" in who:
                self.anomalies["unacked_but_present"].append({"partition": p, "offset": o, "value": v,
                                                              "writer": self.invoked[v][0]})
            polled_by = sorted(who - {"final-drain"})
            if polled_by and v not in self.final_values.get(p, ()):
                self.anomalies["dirty_reads"].append({"partition": p, "offset": o, "value": v, "readers": polled_by})

    def producer_order(self):
        """Step 8: per producer and partition, ok acks in invoke order have increasing offsets."""
        by = defaultdict(list)
        for v, (p, o, _) in self.acks.items():
            process, _, invoke = self.invoked.get(v, (None, None, None))
            if process is not None and invoke is not None:
                by[(process, p)].append((invoke, o, v))
        for (process, p), acks in sorted(by.items()):
            acks.sort()
            for (_, o1, v1), (_, o2, v2) in zip(acks, acks[1:]):
                if o2 <= o1:
                    cls = "producer_reorders" if self.idempotent.get(process) else "producer_reorders_non_idempotent"
                    self.anomalies[cls].append({"partition": p, "offset": o2, "value": v2, "writer": process,
                                                "after": {"value": v1, "offset": o1}})

    def consumer_order(self):
        """Step 9: within one (consumer, generation, partition), dense indices go up by exactly 1."""
        runs = defaultdict(list)
        for c, gen, p, o, v, _ in self.polls:
            runs[(c, gen, p)].append((o, v))
        if self.drain is not None:
            name = self.drain[0].get("process", "final-drain")
            for p, log in self.final.items():
                runs[(name, 0, p)] = sorted(log.items())
        for (c, gen, p), reads in sorted(runs.items(), key=lambda kv: (str(kv[0][0]), kv[0][1], kv[0][2])):
            dense = self.dense.get(p, [])
            for (o1, v1), (o2, v2) in zip(reads, reads[1:]):
                i1, i2 = bisect.bisect_left(dense, o1), bisect.bisect_left(dense, o2)
                if i2 - i1 > 1:
                    skipped = [sorted(self.versions[p][o]) for o in dense[i1 + 1:i2]]
                    self.anomalies["poll_skips"].append({
                        "partition": p, "offset": o2, "value": v2, "reader": c, "gen": gen,
                        "after": {"offset": o1, "value": v1}, "skipped": skipped[:20],
                        "skipped_count": len(skipped)})
                elif i2 - i1 <= 0:
                    self.anomalies["nonmonotonic_polls"].append({
                        "partition": p, "offset": o2, "value": v2, "reader": c, "gen": gen,
                        "after": {"offset": o1, "value": v1}})

    # ---- availability -------------------------------------------------------------------------

    def availability(self):
        acks_by_p = defaultdict(list)   # partition -> sorted ok completion times
        invoked_acks = defaultdict(list)  # partition -> [(invoke mono, ok mono, process)]
        for v, (p, o, mono) in self.acks.items():
            if mono is None:
                continue
            acks_by_p[p].append(mono)
            process, _, inv = self.invoked.get(v, (None, None, None))
            if inv is not None:
                invoked_acks[p].append((inv, mono, process))
        for p in acks_by_p:
            acks_by_p[p].sort()
        out = {"partitions": {}, "faults": []}
        for p, times in sorted(acks_by_p.items()):
            gaps = [(b - a, a) for a, b in zip(times, times[1:])]
            worst = max(gaps, default=(0.0, None))
            windows = self._windows(times)
            out["partitions"][str(p)] = {
                "acks": len(times), "max_gap_s": round(worst[0], 3), "max_gap_at_mono": worst[1],
                "windows_5s": windows[1], "windows_5s_with_ack": windows[0]}
        ends = [e.get("mono") for e in self.events] + [None]
        for i, e in enumerate(self.events):
            if e.get("type") != "fault":
                continue
            t0, t1 = e.get("mono"), ends[i + 1]
            entry = {"name": e.get("name"), "target": e.get("target"), "mono": t0, "partitions": {}, "by_process": {}}
            for p in sorted(acks_by_p):
                after = [ok for inv, ok, _ in invoked_acks[p] if inv >= t0]
                first = min(after) - t0 if after else None
                for process in self.producers:
                    mine = [ok for inv, ok, who in invoked_acks[p] if inv >= t0 and who == process]
                    entry["by_process"].setdefault(process, {})[str(p)] = (
                        round(min(mine) - t0, 3) if mine else None)
                in_window = [t for t in acks_by_p[p] if t >= t0 and (t1 is None or t <= t1)]
                before = [t for t in acks_by_p[p] if t < t0]
                points = ([before[-1]] if before else []) + in_window
                gap = max((b - a for a, b in zip(points, points[1:])), default=None)
                entry["partitions"][str(p)] = {
                    "first_ack_after_s": None if first is None else round(first, 3),
                    "max_gap_s": None if gap is None else round(gap, 3)}
            out["faults"].append(entry)
        lat = {}
        for process, xs in self.latencies.items():
            xs.sort()
            lat[process] = {"count": len(xs), "p50_ms": round(1000 * _percentile(xs, 0.50), 1),
                            "p99_ms": round(1000 * _percentile(xs, 0.99), 1),
                            "max_ms": round(1000 * xs[-1], 1)}
        out["ack_latency"] = lat
        out["errors"] = {p: dict(c) for p, c in self.errors.items()}
        return out

    @staticmethod
    def _windows(times):
        if not times:
            return 0, 0
        n = int((times[-1] - times[0]) // 5) + 1
        hit = {int((t - times[0]) // 5) for t in times}
        return len(hit), n

    # ---- output ---------------------------------------------------------------------------------

    def around(self, p, o):
        dense = self.dense.get(p, [])
        i = bisect.bisect_left(dense, o)
        return [{"offset": x, "values": sorted(self.versions[p][x]),
                 "final": self.final.get(p, {}).get(x)}
                for x in dense[max(0, i - AROUND):i + AROUND + 1]]

    def run(self):
        self.read()
        gate = self.completeness()
        self.version_order()
        self.lost()
        self.duplicates()
        self.phantoms_aborted_dirty()
        self.producer_order()
        self.consumer_order()
        counts = {c: len(xs) for c, xs in self.anomalies.items()}
        anomalies = {}
        for c, xs in self.anomalies.items():
            examples = []
            for x in xs[:EXAMPLES]:
                x = dict(x)
                if "partition" in x and "offset" in x:
                    x["around"] = self.around(x["partition"], x["offset"])
                examples.append(x)
            anomalies[c] = {"count": len(xs), "examples": examples}
        bad = [c for c in CLASSES if counts[c]]
        verdict = "incomplete" if gate else ("invalid" if bad else "valid")
        outcomes = defaultdict(int)
        for o in self.outcome.values():
            outcomes[o] += 1
        return {
            "verdict": verdict,
            "failed_classes": bad,
            "completeness_problems": gate,
            "counts": counts,
            "totals": {"invoked": len(self.invoked), "ok": outcomes["ok"], "fail": outcomes["fail"],
                       "info": outcomes["info"], "polled": len(self.polls),
                       "final_log": sum(len(x) for x in self.final.values()),
                       "end_offsets": {str(p): o for p, o in sorted(self.end_offsets.items())},
                       "producers": {p: {"idempotent": self.idempotent[p]} for p in self.producers}},
            "availability": self.availability(),
            "anomalies": anomalies,
        }


def check(directory, write=True):
    """Checks the histories in `directory`; returns the results and writes results.json there."""
    results = Check(load(directory)).run()
    if write:
        with open(Path(directory) / "results.json", "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
    return results


def summary(results):
    """A few lines for humans and failure messages."""
    c = results["counts"]
    t = results["totals"]
    lines = [f"verdict {results['verdict']}: invoked {t['invoked']}, ok {t['ok']}, fail {t['fail']}, "
             f"info {t['info']}, polled {t['polled']}, final log {t['final_log']}",
             "anomalies: " + ", ".join(f"{k} {v}" for k, v in c.items() if v) if any(c.values()) else "anomalies: none"]
    for p in results["completeness_problems"]:
        lines.append(f"incomplete: {p}")
    for cls in results["failed_classes"]:
        for x in results["anomalies"][cls]["examples"][:3]:
            x = {k: v for k, v in x.items() if k != "around"}
            lines.append(f"  {cls}: {json.dumps(x)[:300]}")
    return "\n".join(lines)


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} HISTORY_DIR", file=sys.stderr)
        return 2
    results = check(argv[1])
    print(summary(results))
    print(f"results: {Path(argv[1]) / 'results.json'}")
    return 0 if results["verdict"] == "valid" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
