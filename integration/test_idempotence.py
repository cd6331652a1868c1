"""The idempotent producer's contract on the wire, with raw frames: a producer id from InitProducerId,
duplicates answered with the original offset and not appended, sequence gaps refused with
OUT_OF_ORDER_SEQUENCE_NUMBER, and the producer state surviving a broker killed with SIGKILL. Then
aiokafka's and kafka-python's idempotent producers end to end."""

import asyncio
import signal

from aiokafka import AIOKafkaProducer

import kafkawire as w
import util

OUT_OF_ORDER_SEQUENCE_NUMBER = 45


def send(cluster, topic, pid, epoch, seq, values):
    batch = w.record_batch([(None, v, []) for v in values], producer_id=pid, producer_epoch=epoch, base_sequence=seq)
    with w.Connection("127.0.0.1", cluster.brokers[0].port, timeout=20) as c:
        return w.produce(c, topic, 0, batch)


def test_duplicates_and_gaps_across_a_kill(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    with w.Connection("127.0.0.1", cluster.brokers[0].port) as c:
        err, pid, epoch = w.init_producer_id(c)
    assert err == 0 and pid >= 0 and epoch >= 0
    with w.Connection("127.0.0.1", cluster.brokers[0].port) as c:
        err, pid2, _ = w.init_producer_id(c)
    assert err == 0 and pid2 != pid, "two producers got the same id"

    assert send(cluster, topic, pid, epoch, 0, [b"a0", b"a1", b"a2"]) == (0, 0)
    # The same batch again (a retry): answered as a success with the first offset, not appended.
    assert send(cluster, topic, pid, epoch, 0, [b"a0", b"a1", b"a2"]) == (0, 0)
    # A gap in the sequence is refused.
    err, _ = send(cluster, topic, pid, epoch, 5, [b"gap"])
    assert err == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert send(cluster, topic, pid, epoch, 3, [b"b3", b"b4", b"b5"]) == (0, 3)

    # SIGKILL: no clean shutdown, no final snapshot; the state comes back from the log.
    cluster.restart(0, signal.SIGKILL)
    util.wait_for_leaders(cluster.bootstrap, topic, 1)
    assert send(cluster, topic, pid, epoch, 3, [b"b3", b"b4", b"b5"]) == (0, 3)
    err, _ = send(cluster, topic, pid, epoch, 7, [b"gap"])
    assert err == OUT_OF_ORDER_SEQUENCE_NUMBER
    assert send(cluster, topic, pid, epoch, 6, [b"c6"]) == (0, 6)

    got = util.consume(cluster.bootstrap, topic)
    assert [(m.offset(), m.value()) for m in got] == list(enumerate([b"a0", b"a1", b"a2", b"b3", b"b4", b"b5", b"c6"]))


def test_aiokafka_idempotent_producer(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)

    async def produce():
        p = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, enable_idempotence=True, compression_type="lz4")
        await p.start()
        try:
            futures = [await p.send(topic, value=str(i).encode(), partition=0) for i in range(300)]
            await p.flush()
            return [(await f).offset for f in futures]
        finally:
            await p.stop()

    assert asyncio.run(asyncio.wait_for(produce(), 60)) == list(range(300))
    got = util.consume(cluster.bootstrap, topic, count=300)
    assert [m.value() for m in got] == [str(i).encode() for i in range(300)]
    with w.Connection("127.0.0.1", cluster.brokers[0].port) as c:
        err, hw, records = w.fetch(c, topic, 0, 0)
    assert err == 0 and hw == 300
    r = w.Reader(records)
    r.take(43)
    assert r.i64() >= 0, "the batches carry no producer id"
