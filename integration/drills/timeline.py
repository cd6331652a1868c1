"""Questions the network and ZooKeeper drills ask of a drill's history directory, after the fact:
what each producer saw on a partition between two monotonic times, and when ZooKeeper's view
(as the zkmon workload process recorded it, every change with its CLOCK_MONOTONIC time) first met
a condition. Pure functions over the files; nothing here talks to a broker.
"""

import json
from pathlib import Path


def _lines(path):
    out = []
    for raw in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(raw))
        except ValueError:
            pass  # a torn last line of a killed process
    return out


def producer_completions(history_dir, partition, after, before=None):
    """[(process, line)] of every ok / fail / info line of every producer history for `partition`
    completed at a monotonic time in (after, before]."""
    out = []
    for path in sorted(Path(history_dir).glob("*.jsonl")):
        lines = _lines(path)
        if not lines or lines[0].get("role") != "producer":
            continue
        process = lines[0].get("process", path.stem)
        for line in lines:
            if (line.get("type") in ("ok", "fail", "info") and line.get("partition") == partition
                    and line["mono"] > after and (before is None or line["mono"] <= before)):
                out.append((process, line))
    return out


def zk_states(history_dir):
    """ZooKeeper's view over time from zkmon.jsonl: [(mono, view)] where view is
    {path: {"data", "czxid", ...}} holding every znode zkmon saw present at that time."""
    path = Path(history_dir) / "zkmon.jsonl"
    view, out = {}, []
    for line in _lines(path) if path.exists() else []:
        if line.get("type") == "zk":
            view = {**view, line["path"]: line}
        elif line.get("type") == "zk_gone":
            view = {k: v for k, v in view.items() if k != line["path"]}
        else:
            continue
        out.append((line["mono"], view))
    return out


def first(states, predicate, after=float("-inf")):
    """The monotonic time of the first view at or after `after` that satisfies predicate(view),
    or None. The view in force at `after` counts too (reported at `after`)."""
    prior = None
    for mono, view in states:
        if mono < after:
            prior = view
            continue
        if prior is not None:
            if predicate(prior):
                return after
            prior = None
        if predicate(view):
            return mono
    if prior is not None and predicate(prior):
        return after
    return None


def partition_state(view, topic, partition):
    """The state znode's data {"leader", "isr", "leader_epoch", ...} in `view`, or None."""
    line = view.get(f"/brokers/topics/{topic}/partitions/{partition}/state")
    return None if line is None else line["data"]


def broker_registrations(states):
    """{broker id: [czxid, ...]}: every distinct registration of each broker, in order."""
    out = {}
    for _, view in states:
        for path, line in view.items():
            if path.startswith("/brokers/ids/"):
                regs = out.setdefault(int(path.rsplit("/", 1)[1]), [])
                if not regs or regs[-1] != line["czxid"]:
                    regs.append(line["czxid"])
    return out


def distinct(states, path, of=lambda line: line["czxid"]):
    """The distinct successive values of of(line) for znode `path` over time, from the first time
    zkmon saw it (None while absent after that)."""
    out = []
    for _, view in states:
        line = view.get(path)
        value = None if line is None else of(line)
        if (out or line is not None) and (not out or out[-1] != value):
            out.append(value)
    return out
