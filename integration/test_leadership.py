"""Leadership moves on purpose: controlled shutdown on SIGTERM (leaders leave before the broker
exits), preferred-replica election on demand (the Admin API's ElectLeaders, as
kafka-leader-election.sh sends it) and the automatic rebalance back to preferred leaders."""

import signal
import threading
import time

from confluent_kafka import ElectionType, KafkaError, Producer, TopicPartition

import kafkawire
import util

SESSION_MS = 6000


def leaders(cluster, topic, via):
    with kafkawire.Connection("127.0.0.1", cluster.broker(via).port, timeout=5) as c:
        _, _, topics = kafkawire.metadata(c, [topic])
    return {p: (info["leader"], info["replicas"], info["isr"]) for p, info in topics[topic]["partitions"].items()}


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"{what} not within {timeout} s (last: {last})")


def test_sigterm_moves_leaders_away_before_the_broker_exits(make_cluster, topic):
    cluster = make_cluster(3, {"zookeeper.session.timeout.ms": SESSION_MS, "auto.leader.rebalance.enable": "false"})
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=3, config={"min.insync.replicas": "2"})
    stopping = leaders(cluster, topic, via=0)[0][0]
    other = next(b.broker_id for b in cluster.brokers if b.broker_id != stopping)
    led_before = [p for p, (leader, _, _) in leaders(cluster, topic, via=other).items() if leader == stopping]
    assert led_before, "the stopping broker leads partition 0"

    # acks=all traffic to every partition throughout; every acknowledged value must survive.
    acked, errors, done = [], [], threading.Event()

    def produce():
        p = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "enable.idempotence": True,
                      "linger.ms": 2, "message.timeout.ms": 30000})

        def report(err, msg):
            (errors if err else acked).append((err, msg.partition(), msg.value()))

        i = 0
        while not done.is_set():
            p.produce(topic, value=f"v{i}".encode(), partition=i % 3, on_delivery=report)
            p.poll(0)
            i += 1
            time.sleep(0.005)
        p.flush(30)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        time.sleep(1.0)
        b = cluster.broker(stopping)
        started = time.monotonic()
        b.process.popen.send_signal(signal.SIGTERM)
        # Leadership moves while the broker still runs, long before its session could time out.
        wait_until(lambda: all(leader != stopping for leader, _, _ in leaders(cluster, topic, via=other).values()),
                   3.0, "leaders moved off the stopping broker")
        moved_after = time.monotonic() - started
        b.process.popen.wait(timeout=30)
        assert b.process.popen.returncode == 0, b.process.log_tail()
        assert "controlled shutdown succeeded" in b.process.log_path.read_text()
        # Its registration went with its session, at once.
        assert f"/brokers/ids/{stopping}" not in cluster.zookeeper.ephemeral_paths()
        after = leaders(cluster, topic, via=other)
        for p, (leader, replicas, isr) in after.items():
            assert leader != stopping and stopping not in isr, (p, after)
        time.sleep(1.0)
    finally:
        done.set()
        producer.join(60)
    assert moved_after < 3.0
    assert not errors, errors[:5]
    stored = set()
    for p in range(3):
        stored |= {m.value() for m in util.consume(cluster.bootstrap, topic, partition=p,
                                                   count=sum(1 for _, q, _ in acked if q == p))}
    assert {v for _, _, v in acked} <= stored


def test_preferred_leader_election_on_demand(make_cluster, topic):
    cluster = make_cluster(3, {"zookeeper.session.timeout.ms": SESSION_MS, "auto.leader.rebalance.enable": "false"})
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=3)
    before = leaders(cluster, topic, via=0)
    assert all(leader == replicas[0] for leader, replicas, _ in before.values()), before

    # A clean restart of the preferred leader of partition 0 moves its leaderships away for good.
    preferred = before[0][1][0]
    cluster.restart(preferred, signal.SIGTERM)
    wait_until(lambda: all(preferred in isr for _, _, isr in leaders(cluster, topic, via=preferred).values()),
               30, "the restarted broker back in every ISR")
    moved = [p for p, (leader, replicas, _) in leaders(cluster, topic, via=0).items() if leader != replicas[0]]
    assert 0 in moved

    admin = util.admin(cluster.bootstrap)
    partitions = [TopicPartition(topic, p) for p in range(3)]
    result = admin.elect_leaders(ElectionType.PREFERRED, partitions).result(timeout=30)
    for tp, error in result.items():
        if tp.partition in moved:
            assert error is None, (tp, error)
        else:
            assert error is not None and error.name() == "ELECTION_NOT_NEEDED", (tp, error)
    for via in range(3):
        now = wait_until(lambda: (lambda m: m if all(l == r[0] for l, r, _ in m.values()) else None)(leaders(cluster, topic, via)),
                         10, f"broker {via} sees the preferred leaders")
        assert all(leader == replicas[0] for leader, replicas, _ in now.values())

    # Again: nothing to do, said per partition.
    again = admin.elect_leaders(ElectionType.PREFERRED, partitions).result(timeout=30)
    assert {error.name() for error in again.values()} == {"ELECTION_NOT_NEEDED"}
    # A partition that does not exist is named as such.
    unknown = admin.elect_leaders(ElectionType.PREFERRED, [TopicPartition(topic, 7)]).result(timeout=30)
    assert unknown[TopicPartition(topic, 7)].code() == KafkaError.UNKNOWN_TOPIC_OR_PART, unknown


def test_leaders_return_to_their_preferred_replicas_by_themselves(make_cluster, topic):
    cluster = make_cluster(3, {"zookeeper.session.timeout.ms": SESSION_MS,
                               "leader.imbalance.check.interval.seconds": "1"})
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=3)
    preferred = leaders(cluster, topic, via=0)[0][1][0]
    cluster.restart(preferred, signal.SIGTERM)
    # Back in the ISR, the broker gets its preferred leaderships back without anyone asking.
    wait_until(lambda: all(leader == replicas[0] for leader, replicas, _ in leaders(cluster, topic, via=0).values()),
               30, "every partition led by its preferred replica")
