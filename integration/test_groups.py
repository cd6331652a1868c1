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


MEMBER_SCRIPT = textwrap.dedent("""
    import sys
    from confluent_kafka import Consumer
    c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "session.timeout.ms": int(sys.argv[4]), "heartbeat.interval.ms": 500})
    c.subscribe([sys.argv[3]])
    for _ in range(1200):  # bounded: at most about 10 minutes
        c.poll(0.5)
""")


def describe(bootstrap, group, admin=None):
    admin = admin or AdminClient({"bootstrap.servers": bootstrap})
    return admin.describe_consumer_groups([group])[group].result(timeout=10)


def test_killed_member_is_replaced_within_its_session_timeout(cluster, topic):
    """A member killed with SIGKILL sends no LeaveGroup: the coordinator removes it when its session
    runs out, and the survivor gets its partitions within the session timeout + 5 s."""
    fill(cluster.bootstrap, topic, 4, 1)
    group = f"g-{topic}"
    member = subprocess.Popen([sys.executable, "-c", MEMBER_SCRIPT, cluster.bootstrap, group, topic, str(SESSION_MS)])
    try:
        survivor = consumer(cluster.bootstrap, group)
        survivor.subscribe([topic])
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            survivor.poll(0.5)
            if len(survivor.assignment()) != 2:
                continue
            d = describe(cluster.bootstrap, group, admin)
            if str(d.state).endswith("STABLE") and len(d.members) == 2:
                break
        assert len(survivor.assignment()) == 2, "the two members never shared the partitions"
        member.send_signal(signal.SIGKILL)
        member.wait(10)
        killed = time.monotonic()
        assert wait_assigned([survivor], 4, timeout=SESSION_MS / 1000 + 5) == [[0, 1, 2, 3]]
        took = time.monotonic() - killed
        assert took <= SESSION_MS / 1000 + 5, took
        print(f"partitions of the killed member reassigned after {took:.2f} s (session {SESSION_MS} ms)")
        survivor.close()
    finally:
        if member.poll() is None:
            member.kill()
            member.wait(10)


def test_static_member_rejoins_without_a_rebalance(cluster, topic):
    """KIP-345: a member with group.instance.id that restarts within its session timeout gets its
    old assignment back, and the other members see no rebalance."""
    fill(cluster.bootstrap, topic, 4, 1)
    group = f"g-{topic}"
    events = []
    other = consumer(cluster.bootstrap, group)
    other.subscribe([topic], on_assign=lambda c, ps: events.append(("assign", sorted(p.partition for p in ps))),
                    on_revoke=lambda c, ps: events.append(("revoke", sorted(p.partition for p in ps))))
    static = consumer(cluster.bootstrap, group, **{"group.instance.id": "static-1", "session.timeout.ms": 10000})
    static.subscribe([topic])
    assigned = wait_assigned([other, static], 4)
    assert sorted(p for a in assigned for p in a) == [0, 1, 2, 3]
    before = list(events)
    static_partitions = assigned[1]
    static.close()  # a static member does not leave the group on close
    static = consumer(cluster.bootstrap, group, **{"group.instance.id": "static-1", "session.timeout.ms": 10000})
    static.subscribe([topic])
    again = wait_assigned([static], len(static_partitions), timeout=20)
    for _ in range(20):  # 4 s more for a rebalance to show up at the other member, if there were one
        other.poll(0.2)
        static.poll(0)
    assert again == [static_partitions]
    assert events == before, f"the other member saw a rebalance: {events[len(before):]}"
    assert len(describe(cluster.bootstrap, group).members) == 2
    other.close()
    static.close()


def test_offsets_survive_a_broker_restart(make_cluster, topic):
    """The coordinator reloads groups and offsets from __consumer_offsets after a restart."""
    c1 = make_cluster(1)
    fill(c1.bootstrap, topic, 2, 5)
    group = f"g-{topic}"
    c = consumer(c1.bootstrap, group)
    c.subscribe([topic])
    assert len(drain(c, 10)) == 10
    c.commit(asynchronous=False)
    c.close()
    c1.restart(0, signal.SIGKILL)
    c = consumer(c1.bootstrap, group)
    committed = c.committed([TopicPartition(topic, 0), TopicPartition(topic, 1)], timeout=30)
    assert sorted((tp.partition, tp.offset) for tp in committed) == [(0, 5), (1, 5)]
    c.close()


def test_group_survives_the_loss_of_its_coordinator(make_cluster, topic):
    """Drills D16/D17: the coordinator's broker is SIGKILLed; the group finds the new coordinator
    (the new leader of its __consumer_offsets partition) and goes on, with no committed offset lost."""
    cluster = make_cluster(3, {"offsets.topic.replication.factor": "3", "offsets.topic.num.partitions": "6"})
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=3)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=f"{p}-{i}".encode()) for p in range(3) for i in range(10)])
    group = f"g-{topic}"
    c = consumer(cluster.bootstrap, group)
    c.subscribe([topic])
    assert len(drain(c, 30)) == 30
    c.commit(asynchronous=False)
    coordinator = describe(cluster.bootstrap, group).coordinator.id
    cluster.broker(coordinator).stop(signal.SIGKILL)
    killed = time.monotonic()

    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=b"after") for p in range(3)])
    got = drain(c, 3, timeout=60)
    assert sorted((m.partition(), m.offset()) for m in got) == [(0, 10), (1, 10), (2, 10)]
    deadline = time.monotonic() + 60
    committed_after = None
    while time.monotonic() < deadline:
        try:
            c.commit(asynchronous=False)
            committed_after = time.monotonic() - killed
            break
        except Exception:
            time.sleep(0.2)
    assert committed_after is not None, "no commit succeeded after the coordinator was killed"
    print(f"first commit after the coordinator's SIGKILL: {committed_after:.2f} s")
    assert committed_after <= SESSION_MS / 1000 + 5 + 5  # session expiry, election, load, client retry
    new = describe(cluster.bootstrap, group)
    assert new.coordinator.id != coordinator
    c.close()
    c = consumer(cluster.bootstrap, group)
    committed = c.committed([TopicPartition(topic, p) for p in range(3)], timeout=30)
    assert sorted((tp.partition, tp.offset) for tp in committed) == [(0, 11), (1, 11), (2, 11)]
    c.close()
