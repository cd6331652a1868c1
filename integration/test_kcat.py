"""kcat (librdkafka's command-line client, Debian's package) against one Odradek broker: produce with
every codec, keys and headers, consume with formats, list metadata, query offsets by time."""

import json
import subprocess
import time

import pytest

import util

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def kcat(*args, input=None, timeout=60):
    run = subprocess.run(["kcat", *args], input=input, capture_output=True, timeout=timeout)
    assert run.returncode == 0, f"kcat {' '.join(args)} exited {run.returncode}:\n{run.stderr.decode(errors='replace')[-3000:]}"
    return run.stdout


@pytest.mark.parametrize("codec", list(CODECS))
def test_produce_consume(cluster, topic, codec):
    util.create_topic(cluster.bootstrap, topic)
    b = cluster.bootstrap
    lines = [f"key{i}:value {i} {'x' * (i % 50)}" for i in range(200)]
    before = int(time.time() * 1000)
    kcat("-P", "-b", b, "-t", topic, "-p", "0", "-K", ":", "-z", codec, "-H", "source=kcat", "-H", f"codec={codec}",
         "-X", "linger.ms=20", input=("\n".join(lines) + "\n").encode())
    after = int(time.time() * 1000)

    out = kcat("-C", "-b", b, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
               "-f", "%o|%k|%s|%h|%T\n").decode().splitlines()
    assert len(out) == 200
    for i, line in enumerate(out):
        offset, key, value, headers, ts = line.split("|")
        assert (int(offset), key, value) == (i, f"key{i}", f"value {i} {'x' * (i % 50)}")
        assert headers == f"source=kcat,codec={codec}"
        assert before - 1000 <= int(ts) <= after + 1000

    batches = util.raw_batches(cluster.brokers[0].address, topic)
    assert {attrs & 7 for _, attrs, _, _ in batches} == {CODECS[codec]}

    # -c and a start offset.
    out = kcat("-C", "-b", b, "-t", topic, "-p", "0", "-o", "195", "-c", "3", "-f", "%o %k\n").decode()
    assert out.splitlines() == ["195 key195", "196 key196", "197 key197"]


def test_metadata_list(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=3)
    md = json.loads(kcat("-L", "-J", "-b", cluster.bootstrap, "-t", topic))
    assert [(br["id"], br["name"]) for br in md["brokers"]] == [(0, cluster.brokers[0].address)]
    [t] = md["topics"]
    assert t["topic"] == topic and "error" not in t
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2]
    assert all(p["leader"] == 0 and [r["id"] for r in p["replicas"]] == [0] for p in t["partitions"])


def test_query_offsets_by_time(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    base = int(time.time() * 1000) - 10_000
    util.produce(cluster.bootstrap, topic, [dict(value=str(i).encode(), timestamp=base + i * 100) for i in range(10)],
                 {"linger.ms": 0, "batch.num.messages": 1, "max.in.flight": 1})
    out = kcat("-Q", "-b", cluster.bootstrap, "-t", f"{topic}:0:{base + 450}").decode()
    assert f"{topic} [0] offset 5" in out, out
    out = kcat("-Q", "-b", cluster.bootstrap, "-t", f"{topic}:0:-1").decode()
    assert f"{topic} [0] offset 10" in out, out


def test_tombstone_and_empty(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    kcat("-P", "-b", cluster.bootstrap, "-t", topic, "-p", "0", "-K", ":", "-Z", input=b"gone:\nkept:v\n")
    out = kcat("-C", "-b", cluster.bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q",
               "-Z", "-f", "%k=%S\n").decode().splitlines()
    assert out == ["gone=-1", "kept=1"]
