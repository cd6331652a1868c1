"""aiokafka against one Odradek broker: every codec, keys, headers, timestamps, offsets by time."""

import asyncio
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

import util

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def produce(bootstrap, topic, count, base_ts, codec):
    p = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                         linger_ms=20, acks="all", request_timeout_ms=20000)
    await p.start()
    try:
        futures = [await p.send(topic, partition=0, key=f"k{i}".encode(), value=(f"v{i}-" * (1 + i % 9)).encode(),
                                headers=[("n", str(i).encode()), ("codec", codec.encode())], timestamp_ms=base_ts + i)
                   for i in range(count)]
        await p.flush()
        return [(await f).offset for f in futures]
    finally:
        await p.stop()


async def consume(bootstrap, topic, count, start=None):
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await c.start()
    try:
        tp = TopicPartition(topic, 0)
        c.assign([tp])
        if start is None:
            await c.seek_to_beginning(tp)
        else:
            c.seek(tp, start)
        out = []
        deadline = time.monotonic() + 60
        while len(out) < count and time.monotonic() < deadline:
            for recs in (await c.getmany(tp, timeout_ms=500)).values():
                out += recs
        return out
    finally:
        await c.stop()


@pytest.mark.parametrize("codec", list(CODECS))
def test_codec_round_trip(cluster, topic, codec):
    util.create_topic(cluster.bootstrap, topic)
    base_ts = int(time.time() * 1000) - 30_000
    offsets = run(produce(cluster.bootstrap, topic, 200, base_ts, codec))
    assert offsets == list(range(200))
    got = run(consume(cluster.bootstrap, topic, 200))
    assert [r.offset for r in got] == list(range(200))
    for i, r in enumerate(got):
        assert r.key == f"k{i}".encode()
        assert r.value == (f"v{i}-" * (1 + i % 9)).encode()
        assert list(r.headers) == [("n", str(i).encode()), ("codec", codec.encode())]
        assert (r.timestamp, r.timestamp_type) == (base_ts + i, 0)
    batches = util.raw_batches(cluster.brokers[0].address, topic)
    assert {attrs & 7 for _, attrs, _, _ in batches} == {CODECS[codec]}


def test_offsets_for_times_and_ends(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    base_ts = int(time.time() * 1000) - 600_000

    async def scenario():
        p = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, linger_ms=0)
        await p.start()
        try:
            for i in range(30):
                await p.send_and_wait(topic, value=str(i).encode(), partition=0, timestamp_ms=base_ts + i * 100)
        finally:
            await p.stop()
        c = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=None)
        await c.start()
        try:
            tp = TopicPartition(topic, 0)
            c.assign([tp])
            found = await c.offsets_for_times({tp: base_ts + 1050})
            beyond = await c.offsets_for_times({tp: base_ts + 100_000})
            return (found[tp].offset, found[tp].timestamp, beyond[tp],
                    (await c.beginning_offsets([tp]))[tp], (await c.end_offsets([tp]))[tp])
        finally:
            await c.stop()

    offset, ts, beyond, begin, end = run(scenario())
    assert (offset, ts) == (11, base_ts + 1100)
    assert beyond is None
    assert (begin, end) == (0, 30)
    got = run(consume(cluster.bootstrap, topic, 19, start=11))
    assert [r.value for r in got] == [str(i).encode() for i in range(11, 30)]


def test_admin_client(cluster, topic):
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    async def scenario():
        admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap, request_timeout_ms=30000)
        await admin.start()
        try:
            created = await admin.create_topics([NewTopic(topic, 3, 1, topic_configs={"cleanup.policy": "delete",
                                                                                        "retention.ms": "5000000"})])
            errors = [e[1] for e in created.topic_errors]
            util.wait_for_leaders(cluster.bootstrap, topic, 3)
            listed = topic in await admin.list_topics()
            [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            entries = {e[0]: e[1] for e in described.resources[0][4]}
            deleted = await admin.delete_topics([topic])
            return errors, listed, described.resources[0][0], entries, [e[1] for e in deleted.topic_error_codes]
        finally:
            await admin.close()

    errors, listed, describe_error, entries, delete_errors = run(scenario())
    assert errors == [0] and listed
    assert describe_error == 0 and entries["retention.ms"] == "5000000" and entries["cleanup.policy"] == "delete"
    assert delete_errors == [0]
