"""A broker restarted under its clients: acknowledged data survives (SIGTERM and SIGKILL), and the
idempotent producer (confluent-kafka enable.idempotence=True) retries across the restart without
duplicates or gaps."""

import signal
import threading
import time

import pytest
from confluent_kafka import Producer

import util

SIGNALS = {"SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


@pytest.mark.parametrize("sig", list(SIGNALS))
def test_acknowledged_data_survives_restart(cluster, topic, sig):
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    first = [dict(partition=i % 2, key=str(i).encode(), value=f"before-{i}".encode()) for i in range(400)]
    util.produce(cluster.bootstrap, topic, first, {"acks": "all", "compression.type": "lz4"})

    cluster.restart(0, SIGNALS[sig])
    util.wait_for_leaders(cluster.bootstrap, topic, 2)

    second = [dict(partition=i % 2, key=str(i).encode(), value=f"after-{i}".encode()) for i in range(100)]
    util.produce(cluster.bootstrap, topic, second, {"acks": "all"})
    for p in (0, 1):
        got = util.consume(cluster.bootstrap, topic, partition=p, count=250)
        want = [m["value"] for m in first + second if m["partition"] == p]
        assert [m.value() for m in got] == want
        assert [m.offset() for m in got] == list(range(250))
        assert util.watermarks(cluster.bootstrap, topic, p) == (0, 250)


@pytest.mark.parametrize("sig", list(SIGNALS))
def test_idempotent_producer_across_restart(cluster, topic, sig):
    util.create_topic(cluster.bootstrap, topic)
    total, restart_at = 4000, 1200
    producer = Producer({
        "bootstrap.servers": cluster.bootstrap, "enable.idempotence": True, "linger.ms": 5,
        "batch.num.messages": 50, "message.timeout.ms": 90000, "compression.type": "snappy",
        "error_cb": lambda err: errors.append(("error_cb", err)),
    })
    errors, delivered = [], []
    progress = {"sent": 0}

    def report(err, msg):
        if err:
            errors.append(("delivery", err))
        else:
            delivered.append(msg.offset())

    def produce_all():
        # Production goes on while the broker stops and starts again (the restart runs on the
        # main thread: the broker process must be started by the thread that outlives it).
        for i in range(total):
            while True:
                try:
                    producer.produce(topic, value=str(i).encode(), on_delivery=report)
                    break
                except BufferError:
                    producer.poll(0.05)
            progress["sent"] = i + 1
            producer.poll(0)
            if i % 20 == 0:
                time.sleep(0.03)

    thread = threading.Thread(target=produce_all, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while progress["sent"] < restart_at and time.monotonic() < deadline:
        time.sleep(0.01)
    assert progress["sent"] >= restart_at, "the producer did not get going"
    cluster.restart(0, SIGNALS[sig])
    thread.join(timeout=120)
    assert not thread.is_alive()
    left = producer.flush(120)
    assert left == 0, f"{left} messages still undelivered after the restart"
    fatal = [e for kind, e in errors if kind == "delivery" or e.fatal()]
    assert not fatal, [str(e) for _, e in errors]

    got = util.consume(cluster.bootstrap, topic, count=total, timeout=60)
    values = [int(m.value()) for m in got]
    duplicates = len(values) - len(set(values))
    assert duplicates == 0, f"{duplicates} duplicates"
    assert values == list(range(total)), "gaps or reordering"
    assert util.watermarks(cluster.bootstrap, topic) == (0, total)
    assert sorted(delivered) == list(range(total))
