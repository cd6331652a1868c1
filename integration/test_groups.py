"""Consumer groups with real clients: the group coordinator (FindCoordinator, JoinGroup, SyncGroup,
Heartbeat, LeaveGroup), committed offsets in __consumer_offsets (OffsetCommit, OffsetFetch), and the
admin side (ListGroups, DescribeGroups, DeleteGroups, OffsetDelete), with confluent-kafka,
kafka-python and aiokafka."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient

import kafkawire
import util

SESSION_MS = 6000  # the smallest session timeout the broker accepts by default (group.min.session.timeout.ms)


def consumer(bootstrap, group, **extra):
    config = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500}
    config.update(extra)
    return Consumer(config)


def fill(bootstrap, topic, partitions, per_partition):
    util.create_topic(bootstrap, topic, partitions=partitions)
    messages = [dict(partition=p, value=f"{p}-{i}".encode()) for p in range(partitions) for i in range(per_partition)]
    util.produce(bootstrap, topic, messages)
    return messages


def drain(c, count, timeout=60.0):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got.append(m)
    return got


def wait_assigned(consumers, total, timeout=60.0):
    """Polls every consumer until their assignments together cover `total` partitions; the assignments."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in consumers:
            c.poll(0.2)
        assigned = [sorted(tp.partition for tp in c.assignment()) for c in consumers]
        if sum(len(a) for a in assigned) == total and all(assigned):
            return assigned
    return [sorted(tp.partition for tp in c.assignment()) for c in consumers]


def test_group_consumes_commits_and_resumes(cluster, topic):
    fill(cluster.bootstrap, topic, 3, 20)
    group = f"g-{topic}"
    c = consumer(cluster.bootstrap, group)
    c.subscribe([topic])
    got = drain(c, 60)
    assert len(got) == 60
    c.commit(asynchronous=False)
    committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
    assert sorted((tp.partition, tp.offset) for tp in committed) == [(0, 20), (1, 20), (2, 20)]
    c.close()

    util.produce(cluster.bootstrap, topic, [dict(partition=1, value=b"after")])
    c = consumer(cluster.bootstrap, group)
    c.subscribe([topic])
    again = drain(c, 1)
    assert [(m.partition(), m.offset(), m.value()) for m in again] == [(1, 20, b"after")]
    assert drain(c, 1, timeout=3) == []  # nothing before the committed offsets comes again
    c.close()


def test_three_consumers_share_six_partitions(cluster, topic):
    fill(cluster.bootstrap, topic, 6, 5)
    group = f"g-{topic}"
    consumers = [consumer(cluster.bootstrap, group) for _ in range(3)]
    for c in consumers:
        c.subscribe([topic])
    assigned = wait_assigned(consumers, 6)
    flat = [p for a in assigned for p in a]
    assert sorted(flat) == list(range(6)), assigned  # each partition owned exactly once
    assert all(len(a) == 2 for a in assigned), assigned

    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    assert str(described.state).endswith("STABLE")
    assert len(described.members) == 3
    owned = sorted(tp.partition for m in described.members for tp in m.assignment.topic_partitions)
    assert owned == list(range(6))
    for c in consumers:
        c.close()


def test_closed_member_is_replaced_by_a_rebalance(cluster, topic):
    fill(cluster.bootstrap, topic, 4, 1)
    group = f"g-{topic}"
    a, b = consumer(cluster.bootstrap, group), consumer(cluster.bootstrap, group)
    a.subscribe([topic])
    b.subscribe([topic])
    assert sorted(p for x in wait_assigned([a, b], 4) for p in x) == [0, 1, 2, 3]
    a.close()  # LeaveGroup: the survivor gets everything at once
    started = time.monotonic()
    assert wait_assigned([b], 4, timeout=SESSION_MS / 1000 + 5) == [[0, 1, 2, 3]]
    assert time.monotonic() - started < SESSION_MS / 1000
    b.close()


def test_admin_lists_describes_and_deletes_groups(cluster, topic):
    fill(cluster.bootstrap, topic, 2, 3)
    group = f"g-{topic}"
    c = consumer(cluster.bootstrap, group)
    c.subscribe([topic])
    assert len(drain(c, 6)) == 6
    c.commit(asynchronous=False)
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
    listed = admin.list_consumer_groups().result(timeout=10)
    assert group in {g.group_id for g in listed.valid}

    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[group].result(timeout=10)
    assert sorted((tp.partition, tp.offset) for tp in offsets.topic_partitions) == [(0, 3), (1, 3)]

    # A group with members cannot be deleted.
    with pytest.raises(Exception) as refused:
        admin.delete_consumer_groups([group])[group].result(timeout=10)
    assert "NON_EMPTY_GROUP" in str(refused.value)
    c.close()
    # close() does not wait for the LeaveGroup answer: delete once the coordinator saw it.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if str(admin.describe_consumer_groups([group])[group].result(timeout=10).state).endswith("EMPTY"):
            break
        time.sleep(0.1)
    admin.delete_consumer_groups([group])[group].result(timeout=10)
    described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    assert str(described.state).endswith("DEAD")
    listed = admin.list_consumer_groups().result(timeout=10)
    assert group not in {g.group_id for g in listed.valid}


def test_kafka_python_group_commits_and_resumes(cluster, topic):
    from kafka import KafkaConsumer
    fill(cluster.bootstrap, topic, 2, 10)
    group = f"g-{topic}"

    def run():
        return KafkaConsumer(topic, bootstrap_servers=cluster.bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=5000, session_timeout_ms=SESSION_MS)

    k = run()
    got = [m for _, m in zip(range(20), k)]
    assert len(got) == 20
    k.commit()
    k.close()
    util.produce(cluster.bootstrap, topic, [dict(partition=0, value=b"later")])
    k = run()
    rest = list(k)
    k.close()
    assert [(m.partition, m.offset, m.value) for m in rest] == [(0, 10, b"later")]


def test_aiokafka_group_commits_and_resumes(cluster, topic):
    from aiokafka import AIOKafkaConsumer
    fill(cluster.bootstrap, topic, 2, 10)
    group = f"g-{topic}"

    async def consume(count, timeout):
        k = AIOKafkaConsumer(topic, bootstrap_servers=cluster.bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, session_timeout_ms=SESSION_MS)
        await k.start()
        got = []
        try:
            deadline = time.monotonic() + timeout
            while len(got) < count and time.monotonic() < deadline:
                batch = await k.getmany(timeout_ms=500)
                for msgs in batch.values():
                    got.extend(msgs)
            await k.commit()
        finally:
            await k.stop()
        return got

    assert len(asyncio.run(consume(20, 60))) == 20
    util.produce(cluster.bootstrap, topic, [dict(partition=1, value=b"later")])
    rest = asyncio.run(consume(1, 30))
    assert [(m.partition, m.offset, m.value) for m in rest] == [(1, 10, b"later")]
