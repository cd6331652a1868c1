"""The admin API through confluent-kafka's AdminClient (librdkafka): create, describe and alter
configs, add partitions, delete records, delete topics, and the errors Kafka gives for bad requests."""

import time

import pytest
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import ConfigResource, NewPartitions, NewTopic

import util

TIMEOUT = 30


def topic_names(bootstrap):
    return set(util.admin(bootstrap).list_topics(timeout=TIMEOUT).topics)


def error_name(future):
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=TIMEOUT)
    return raised.value.args[0].name()


def describe_topic_config(bootstrap, topic):
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    a = util.admin(bootstrap)
    return a.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def test_create_describe_delete(cluster, topic):
    a = util.admin(cluster.bootstrap)
    futures = a.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1,
                                        config={"retention.ms": "3600000", "cleanup.policy": "delete"})],
                              operation_timeout=TIMEOUT)
    assert futures[topic].result(timeout=TIMEOUT) is None
    util.wait_for_leaders(cluster.bootstrap, topic, 4)

    md = a.list_topics(topic=topic, timeout=TIMEOUT).topics[topic]
    assert md.error is None and sorted(md.partitions) == [0, 1, 2, 3]
    assert all(p.leader == 0 and p.replicas == [0] and p.isrs == [0] for p in md.partitions.values())

    configs = describe_topic_config(cluster.bootstrap, topic)
    assert configs["retention.ms"].value == "3600000"
    assert configs["cleanup.policy"].value == "delete"
    assert not configs["retention.ms"].is_default
    assert "max.message.bytes" in configs and "segment.bytes" in configs

    assert a.delete_topics([topic], operation_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT) is None
    deadline = time.monotonic() + TIMEOUT
    while topic in topic_names(cluster.bootstrap) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert topic not in topic_names(cluster.bootstrap)

    # The name can be used again once the deletion completes (as in Kafka, a topic still marked for
    # deletion answers TOPIC_ALREADY_EXISTS), and the new topic starts empty.
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            util.create_topic(cluster.bootstrap, topic, partitions=1)
            break
        except KafkaException as e:
            if e.args[0].name() != "TOPIC_ALREADY_EXISTS" or time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert util.watermarks(cluster.bootstrap, topic) == (0, 0)
    util.produce(cluster.bootstrap, topic, [dict(value=b"second life")])
    assert [m.value() for m in util.consume(cluster.bootstrap, topic, count=1)] == [b"second life"]


def test_alter_configs(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic,
                              set_config={"retention.ms": "7200000", "max.message.bytes": "2000000"})
    a = util.admin(cluster.bootstrap)
    assert a.alter_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT) is None
    configs = describe_topic_config(cluster.bootstrap, topic)
    assert configs["retention.ms"].value == "7200000"
    assert configs["max.message.bytes"].value == "2000000"

    # The new max.message.bytes is in force: a 1.5 MB record now fits.
    big = b"m" * 1_500_000
    util.produce(cluster.bootstrap, topic, [dict(value=big)], {"message.max.bytes": 3_000_000, "compression.type": "none"})
    assert util.consume(cluster.bootstrap, topic, count=1)[0].value() == big

    # AlterConfigs replaces the whole set: a key left out returns to its default.
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"retention.ms": "100000000"})
    assert a.alter_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT) is None
    configs = describe_topic_config(cluster.bootstrap, topic)
    assert configs["retention.ms"].value == "100000000"
    assert configs["max.message.bytes"].is_default


def test_alter_configs_rejects_unknown_key(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic, set_config={"no.such.config": "1"})
    a = util.admin(cluster.bootstrap)
    name = error_name(a.alter_configs([resource], request_timeout=TIMEOUT)[resource])
    assert name == "INVALID_CONFIG"


def test_describe_broker_config(cluster):
    resource = ConfigResource(ConfigResource.Type.BROKER, "0")
    a = util.admin(cluster.bootstrap)
    configs = a.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)
    assert configs["broker.id"].value == "0"
    assert configs["auto.create.topics.enable"].value == "true"
    assert configs["num.partitions"].value == "1"


def test_create_partitions(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=1)
    util.produce(cluster.bootstrap, topic, [dict(partition=0, value=b"p0")])
    a = util.admin(cluster.bootstrap)
    assert a.create_partitions([NewPartitions(topic, 3)], operation_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT) is None
    util.wait_for_leaders(cluster.bootstrap, topic, 3)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=f"p{p}".encode()) for p in (1, 2)])
    for p in (0, 1, 2):
        assert [m.value() for m in util.consume(cluster.bootstrap, topic, partition=p, count=1)] == [f"p{p}".encode()]
    # Kafka refuses to shrink.
    assert error_name(a.create_partitions([NewPartitions(topic, 2)], operation_timeout=TIMEOUT)[topic]) == "INVALID_PARTITIONS"


def test_delete_records(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    util.produce(cluster.bootstrap, topic, [dict(value=str(i).encode()) for i in range(20)],
                 {"linger.ms": 0, "batch.num.messages": 1, "max.in.flight": 1})
    a = util.admin(cluster.bootstrap)
    tp = TopicPartition(topic, 0, 12)
    result = a.delete_records([tp], request_timeout=TIMEOUT)[tp].result(timeout=TIMEOUT)
    assert result.low_watermark == 12
    assert util.watermarks(cluster.bootstrap, topic) == (12, 20)
    got = util.consume(cluster.bootstrap, topic, offset=12, count=8)
    assert [m.value() for m in got] == [str(i).encode() for i in range(12, 20)]
    # Reading below the log start offset is out of range; the consumer resets to the earliest record.
    got = util.consume(cluster.bootstrap, topic, offset=3, count=8)
    assert [m.offset() for m in got] == list(range(12, 20))


def test_create_errors(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    a = util.admin(cluster.bootstrap)
    assert error_name(a.create_topics([NewTopic(topic, 1, 1)], operation_timeout=TIMEOUT)[topic]) == "TOPIC_ALREADY_EXISTS"
    other = topic + "-rf"
    assert error_name(a.create_topics([NewTopic(other, 1, 3)], operation_timeout=TIMEOUT)[other]) == "INVALID_REPLICATION_FACTOR"
    bad = "bad/name"
    assert error_name(a.create_topics([NewTopic(bad, 1, 1)], operation_timeout=TIMEOUT)[bad]) == "TOPIC_EXCEPTION"
    missing = topic + "-missing"
    assert error_name(a.delete_topics([missing], operation_timeout=TIMEOUT)[missing]) == "UNKNOWN_TOPIC_OR_PART"
    assert other not in topic_names(cluster.bootstrap) and bad not in topic_names(cluster.bootstrap)


def test_validate_only(cluster, topic):
    a = util.admin(cluster.bootstrap)
    assert a.create_topics([NewTopic(topic, 2, 1)], validate_only=True, operation_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT) is None
    time.sleep(1)
    assert topic not in topic_names(cluster.bootstrap)
