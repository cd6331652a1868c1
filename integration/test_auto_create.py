"""auto.create.topics.enable: on, a producer's first Metadata request for an unknown topic creates it
with num.partitions partitions; off, the topic stays unknown and the producer's messages fail."""

import time

from confluent_kafka import KafkaError, Producer
from kafka import KafkaProducer

import kafkawire
import util


def raw_metadata(cluster, topic):
    with kafkawire.Connection("127.0.0.1", cluster.brokers[0].port) as c:
        return kafkawire.metadata(c, [topic])[2].get(topic)


def test_auto_create_on(make_cluster, topic):
    cluster = make_cluster(overrides={"auto.create.topics.enable": "true", "num.partitions": "3"})
    delivered = util.produce(cluster.bootstrap, topic, [dict(key=str(i).encode(), value=str(i).encode()) for i in range(60)])
    assert len(delivered) == 60
    util.wait_for_leaders(cluster.bootstrap, topic, 3)
    assert {m.partition() for m in delivered} == {0, 1, 2}
    total = sum(util.watermarks(cluster.bootstrap, topic, p)[1] for p in range(3))
    assert total == 60

    # kafka-python asks Metadata v1+ with the topic and also gets it created.
    other = topic + "-kp"
    p = KafkaProducer(bootstrap_servers=cluster.bootstrap, request_timeout_ms=20000, max_block_ms=30000)
    try:
        p.send(other, b"hello").get(timeout=30)
    finally:
        p.close(timeout=10)
    util.wait_for_leaders(cluster.bootstrap, other, 3)


def test_auto_create_off(make_cluster, topic):
    cluster = make_cluster(overrides={"auto.create.topics.enable": "false"})
    t = raw_metadata(cluster, topic)
    assert t is not None and t["error"] == kafkawire.UNKNOWN_TOPIC_OR_PARTITION

    errors = []
    p = Producer({"bootstrap.servers": cluster.bootstrap, "message.timeout.ms": 5000})
    p.produce(topic, value=b"nowhere", on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(20) == 0
    assert len(errors) == 1 and errors[0] is not None
    assert errors[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._MSG_TIMED_OUT, KafkaError._UNKNOWN_TOPIC), str(errors[0])

    time.sleep(1)
    t = raw_metadata(cluster, topic)
    assert t is not None and t["error"] == kafkawire.UNKNOWN_TOPIC_OR_PARTITION, t
    assert topic not in util.admin(cluster.bootstrap).list_topics(timeout=10).topics

    # Explicit creation still works.
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    util.produce(cluster.bootstrap, topic, [dict(partition=1, value=b"now it exists")])
    assert [m.value() for m in util.consume(cluster.bootstrap, topic, partition=1, count=1)] == [b"now it exists"]
