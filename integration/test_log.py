"""The log as Kafka lays it out and maintains it: segment files on disk, retention by time and by
size enforced by the broker's periodic check, many partitions, concurrent producers, and fetches
smaller than one record (KIP-74: a consumer always makes progress)."""

import threading
import time

import pytest

import util

BROKER_OVERRIDES = {"log.retention.check.interval.ms": "500"}


def test_disk_layout(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=b"x" * 100) for p in (0, 1) for _ in range(10)])
    data = cluster.brokers[0].log_dir
    for p in (0, 1):
        d = data / f"{topic}-{p}"
        assert (d / "00000000000000000000.log").is_file()
        assert (d / "00000000000000000000.index").exists()
        assert (d / "00000000000000000000.timeindex").exists()
    meta = (data / "meta.properties").read_text()
    assert "broker.id=0" in meta


@pytest.mark.parametrize("limit", ["time", "size"])
def test_retention(cluster, topic, limit):
    # Small segments so that closed segments exist; retention deletes whole closed segments only.
    config = {"segment.bytes": "2048"}
    config.update({"retention.ms": "2000"} if limit == "time" else {"retention.bytes": "4096"})
    util.create_topic(cluster.bootstrap, topic, config=config)
    values = [f"{i:04d}".encode() + b"r" * 200 for i in range(100)]
    util.produce(cluster.bootstrap, topic, [dict(value=v) for v in values],
                 {"linger.ms": 0, "batch.num.messages": 1, "max.in.flight": 1, "compression.type": "none"})
    if limit == "time":
        time.sleep(2.5)
        # One more record so the old ones are behind a closed segment.
        util.produce(cluster.bootstrap, topic, [dict(value=b"latest")])
    deadline = time.monotonic() + 30
    low, high = util.watermarks(cluster.bootstrap, topic)
    while low == 0 and time.monotonic() < deadline:
        time.sleep(0.5)
        low, high = util.watermarks(cluster.bootstrap, topic)
    assert low > 0, f"retention by {limit} deleted nothing in 30 s"
    assert high == (101 if limit == "time" else 100)
    got = util.consume(cluster.bootstrap, topic, offset=low)
    assert [m.offset() for m in got] == list(range(low, high))
    if limit == "size":
        # What is left fits the limit plus the active segment.
        assert sum(len(m.value()) for m in got) <= 4096 + 2048 + 1024
    seg_files = sorted(p.name for p in (cluster.brokers[0].log_dir / f"{topic}-0").glob("*.log"))
    assert seg_files[0] != "00000000000000000000.log", "the oldest segment is still on disk"


def test_many_partitions(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=64)
    sent = [dict(partition=p, value=f"{p}-{i}".encode()) for p in range(64) for i in range(5)]
    util.produce(cluster.bootstrap, topic, sent)
    for p in (0, 17, 63):
        got = util.consume(cluster.bootstrap, topic, partition=p, count=5)
        assert [m.value() for m in got] == [f"{p}-{i}".encode() for i in range(5)]
    assert sum(util.watermarks(cluster.bootstrap, topic, p)[1] for p in range(64)) == len(sent)


def test_concurrent_producers(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    errors = []

    def run(name):
        try:
            util.produce(cluster.bootstrap, topic, [dict(value=f"{name}-{i}".encode()) for i in range(500)],
                         {"compression.type": "gzip" if name % 2 else "none", "linger.ms": 1})
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors, errors
    got = util.consume(cluster.bootstrap, topic, count=2000)
    assert [m.offset() for m in got] == list(range(2000))
    by_producer = {}
    for m in got:
        name, i = m.value().decode().split("-")
        by_producer.setdefault(name, []).append(int(i))
    # Each producer's records are all there, in its own order.
    assert by_producer == {str(n): list(range(500)) for n in range(4)}


def test_fetch_smaller_than_a_record(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    values = [bytes([i]) * 50_000 for i in range(10)]
    util.produce(cluster.bootstrap, topic, [dict(value=v) for v in values], {"compression.type": "none"})
    got = util.consume(cluster.bootstrap, topic, count=10,
                       config={"fetch.max.bytes": 1024, "max.partition.fetch.bytes": 1024, "message.max.bytes": 1000,
                               "receive.message.max.bytes": 2000000})
    assert [m.value() for m in got] == values
