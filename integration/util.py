"""Client-side helpers shared by the tests (confluent-kafka, i.e. librdkafka, as the reference client)."""

import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kafkawire


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def create_topic(bootstrap, name, partitions=1, replication_factor=1, config=None, timeout=30.0):
    """Creates `name` with the admin API and waits until every partition has a leader."""
    a = admin(bootstrap)  # kept alive until the result arrives: a destroyed client fails its futures
    futures = a.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor, config=config or {})],
        request_timeout=timeout, operation_timeout=timeout)
    futures[name].result(timeout=timeout)
    wait_for_leaders(bootstrap, name, partitions, timeout)


def wait_for_leaders(bootstrap, topic, partitions, timeout=30.0):
    """Until the raw Metadata of every broker in `bootstrap` shows `partitions` partitions with leaders."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        ok = True
        for address in bootstrap.split(","):
            host, port = address.rsplit(":", 1)
            try:
                with kafkawire.Connection(host, int(port), timeout=3) as c:
                    _, _, topics = kafkawire.metadata(c, [topic])
            except (OSError, kafkawire.Closed, ValueError, TimeoutError) as e:
                last, ok = repr(e), False
                break
            t = topics.get(topic)
            last = t
            if (t is None or t["error"] != 0 or len(t["partitions"]) != partitions
                    or any(p["leader"] < 0 for p in t["partitions"].values())):
                ok = False
                break
        if ok:
            return
        time.sleep(0.2)
    raise AssertionError(f"topic {topic} has no leaders for its {partitions} partitions within {timeout} s: {last}")


def produce(bootstrap, topic, messages, config=None, flush_timeout=30.0):
    """Produces [dict(value=..., key=..., partition=..., headers=..., timestamp=...)] with
    confluent-kafka and returns the delivered messages; fails on any delivery error."""
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "message.timeout.ms": 20000, **(config or {})})
    delivered, errors = [], []

    def report(err, msg):
        (errors if err else delivered).append((err, msg))

    for m in messages:
        p.produce(topic, on_delivery=report, **m)
        p.poll(0)
    left = p.flush(flush_timeout)
    assert left == 0, f"{left} messages not delivered within {flush_timeout} s"
    assert not errors, f"delivery errors: {[str(e) for e, _ in errors[:5]]}"
    return [m for _, m in delivered]


def consume(bootstrap, topic, partition=0, count=None, offset=0, timeout=30.0, config=None):
    """Reads `partition` from `offset` with assign() until `count` messages arrived (or, with
    count None, until the end of the partition). Returns confluent_kafka Messages."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "odradek-integration", "enable.auto.commit": False,
                  "enable.partition.eof": True, "auto.offset.reset": "earliest", **(config or {})})
    try:
        c.assign([TopicPartition(topic, partition, offset)])
        out = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    if count is None or len(out) >= count:
                        return out
                    continue
                raise AssertionError(f"consumer error: {m.error()}")
            out.append(m)
            if count is not None and len(out) >= count:
                return out
        raise AssertionError(f"read {len(out)} of {count} messages of {topic}-{partition} within {timeout} s")
    finally:
        c.close()


def watermarks(bootstrap, topic, partition=0, timeout=10.0):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "odradek-integration", "enable.auto.commit": False})
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
    finally:
        c.close()


def raw_batches(bootstrap_address, topic, partition=0, offset=0, timeout=10.0):
    """Every batch header of a partition as the broker stores it:
    [(base_offset, attributes, count, last_offset_delta)],
    read with raw Fetch v11 requests (so zstd batches are allowed) from `bootstrap_address`, which
    must be the partition's leader."""
    host, port = bootstrap_address.rsplit(":", 1)
    out = []
    deadline = time.monotonic() + timeout
    with kafkawire.Connection(host, int(port), timeout=timeout) as c:
        while time.monotonic() < deadline:
            err, hw, records = kafkawire.fetch(c, topic, partition, offset, version=11)
            assert err == 0, f"raw fetch of {topic}-{partition} at {offset}: error {err}"
            batches = kafkawire.batch_headers(records)
            out += batches
            if batches:
                base, _, _, last_delta = batches[-1]
                offset = base + last_delta + 1
            if not batches or offset >= hw:
                return out
    raise AssertionError("raw fetch did not reach the high watermark in time")


def leader_address(bootstrap, topic, partition=0):
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    with kafkawire.Connection(host, int(port), timeout=5) as c:
        brokers, _, topics = kafkawire.metadata(c, [topic])
    leader = topics[topic]["partitions"][partition]["leader"]
    h, p = brokers[leader]
    return f"{h}:{p}"
