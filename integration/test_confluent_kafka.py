"""confluent-kafka (librdkafka) against one Odradek broker: every codec, keys, headers, timestamps,
acks, partitions, offsets by time."""

import time

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, Consumer, Producer, TopicPartition

import util

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def sample_messages(n, base_ts, partition=0):
    return [dict(partition=partition, key=f"key-{i}".encode(), value=f"value-{i}-".encode() * (1 + i % 7),
                 headers=[("index", str(i).encode()), ("kind", b"sample"), ("empty", b"")],
                 timestamp=base_ts + i)
            for i in range(n)]


@pytest.mark.parametrize("codec", list(CODECS))
def test_codec_round_trip(cluster, topic, codec):
    util.create_topic(cluster.bootstrap, topic)
    base_ts = int(time.time() * 1000) - 60_000
    sent = sample_messages(300, base_ts)
    util.produce(cluster.bootstrap, topic, sent, {"compression.type": codec, "linger.ms": 50, "batch.num.messages": 100})

    got = util.consume(cluster.bootstrap, topic, count=len(sent))
    assert [m.offset() for m in got] == list(range(len(sent)))
    for s, m in zip(sent, got):
        assert m.key() == s["key"]
        assert m.value() == s["value"]
        assert m.headers() == s["headers"]
        assert m.timestamp() == (TIMESTAMP_CREATE_TIME, s["timestamp"])

    # The broker keeps the producer's codec: every stored batch carries it, and batches hold
    # several records (the producer batched them).
    batches = util.raw_batches(cluster.brokers[0].address, topic)
    assert {attrs & 7 for _, attrs, _, _ in batches} == {CODECS[codec]}
    assert sum(n for _, _, n, _ in batches) == len(sent)
    assert len(batches) < len(sent)


@pytest.mark.parametrize("acks", ["0", "1", "all"])
def test_acks(cluster, topic, acks):
    util.create_topic(cluster.bootstrap, topic)
    sent = [dict(value=f"acks-{acks}-{i}".encode()) for i in range(100)]
    util.produce(cluster.bootstrap, topic, sent, {"acks": acks})
    got = util.consume(cluster.bootstrap, topic, count=len(sent))
    assert [m.value() for m in got] == [s["value"] for s in sent]
    assert util.watermarks(cluster.bootstrap, topic) == (0, len(sent))


def test_partitions_and_keys(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=3)
    sent = [dict(key=f"user-{i % 10}".encode(), value=str(i).encode()) for i in range(300)]
    delivered = util.produce(cluster.bootstrap, topic, sent)
    by_partition = {}
    for m in delivered:
        by_partition.setdefault(m.partition(), []).append(m)
    assert set(by_partition) == {0, 1, 2}, "the default partitioner spreads 10 keys over 3 partitions"
    partitions_of_key = {}
    for m in delivered:
        partitions_of_key.setdefault(m.key(), set()).add(m.partition())
    assert all(len(ps) == 1 for ps in partitions_of_key.values()), partitions_of_key
    for p, msgs in by_partition.items():
        got = util.consume(cluster.bootstrap, topic, partition=p, count=len(msgs))
        assert [(m.key(), m.value()) for m in got] == [(m.key(), m.value()) for m in msgs]
        assert util.watermarks(cluster.bootstrap, topic, p) == (0, len(msgs))


def test_null_key_and_tombstone(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    util.produce(cluster.bootstrap, topic, [dict(value=b"no key"), dict(key=b"gone", value=None), dict(key=b"", value=b"")])
    got = util.consume(cluster.bootstrap, topic, count=3)
    assert [(m.key(), m.value()) for m in got] == [(None, b"no key"), (b"gone", None), (b"", b"")]


def test_large_message(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    big = bytes(range(256)) * 3500  # 896 000 bytes, under message.max.bytes (1 MB)
    util.produce(cluster.bootstrap, topic, [dict(value=big), dict(value=b"after")])
    got = util.consume(cluster.bootstrap, topic, count=2)
    assert got[0].value() == big and got[1].value() == b"after"


def test_message_too_large_is_refused(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    p = Producer({"bootstrap.servers": cluster.bootstrap, "message.max.bytes": 3_000_000,
                  "compression.type": "none", "message.timeout.ms": 15000})
    errors = []
    p.produce(topic, value=b"x" * 2_000_000, on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(20) == 0
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].name() == "MSG_SIZE_TOO_LARGE", str(errors[0])
    assert util.watermarks(cluster.bootstrap, topic) == (0, 0)


def test_offsets_for_times(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    base = int(time.time() * 1000) - 3_600_000
    sent = [dict(value=str(i).encode(), timestamp=base + i * 1000) for i in range(20)]
    # One batch per message so the time index has an entry for each.
    util.produce(cluster.bootstrap, topic, sent, {"linger.ms": 0, "batch.num.messages": 1, "max.in.flight": 1})
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "odradek-integration", "enable.auto.commit": False})
    try:
        def offset_for(ts):
            [tp] = c.offsets_for_times([TopicPartition(topic, 0, ts)], timeout=10)
            assert tp.error is None, tp.error
            return tp.offset

        assert offset_for(base) == 0
        assert offset_for(base - 10_000) == 0
        assert offset_for(base + 5_000) == 5
        assert offset_for(base + 5_500) == 6
        assert offset_for(base + 19_000) == 19
        assert offset_for(base + 19_001) == -1  # no record that late: Kafka answers offset -1
    finally:
        c.close()
    got = util.consume(cluster.bootstrap, topic, offset=7, count=13)
    assert [m.value() for m in got] == [str(i).encode() for i in range(7, 20)]


def test_consume_from_middle_and_end(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    util.produce(cluster.bootstrap, topic, [dict(value=str(i).encode()) for i in range(50)])
    got = util.consume(cluster.bootstrap, topic, offset=42, count=8)
    assert [m.offset() for m in got] == list(range(42, 50))
    assert util.consume(cluster.bootstrap, topic, offset=50) == []


def test_log_append_time(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, config={"message.timestamp.type": "LogAppendTime"})
    old = int(time.time() * 1000) - 86_400_000
    before = int(time.time() * 1000)
    util.produce(cluster.bootstrap, topic, [dict(value=str(i).encode(), timestamp=old + i) for i in range(10)])
    after = int(time.time() * 1000)
    got = util.consume(cluster.bootstrap, topic, count=10)
    for m in got:
        kind, ts = m.timestamp()
        assert kind == TIMESTAMP_LOG_APPEND_TIME
        assert before - 1000 <= ts <= after + 1000, (ts, before, after)


def test_consumer_waiting_at_the_end_gets_new_records(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": "odradek-integration",
                  "enable.auto.commit": False, "fetch.wait.max.ms": 5000})
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        assert c.poll(1.5) is None
        start = time.monotonic()
        util.produce(cluster.bootstrap, topic, [dict(value=b"late")])
        m = None
        while m is None and time.monotonic() - start < 15:
            m = c.poll(0.2)
        assert m is not None and m.error() is None and m.value() == b"late"
        # A long poll is woken by the append: well under fetch.wait.max.ms.
        assert time.monotonic() - start < 3.0, time.monotonic() - start
    finally:
        c.close()
