"""Three brokers: partitions and their leaders spread over the cluster, clients follow the leaders,
replicated topics keep acknowledged data when a broker stops."""

import signal
import time

from confluent_kafka import Producer

import kafkawire
import util


def metadata(cluster, topic, via=0):
    """Raw Metadata v1 from broker `via` for `topic` (None: brokers only)."""
    with kafkawire.Connection("127.0.0.1", cluster.broker(via).port) as c:
        return kafkawire.metadata(c, [] if topic is None else [topic])


def test_every_broker_serves_the_same_metadata(cluster3):
    views = []
    for i in range(3):
        brokers, controller, _ = metadata(cluster3, None, via=i)
        views.append((brokers, controller))
    assert all(v == views[0] for v in views), views
    brokers, controller = views[0]
    assert brokers == {b.broker_id: ("127.0.0.1", b.port) for b in cluster3.brokers}
    assert controller in brokers


def test_leaders_spread_and_clients_follow(cluster3, topic):
    util.create_topic(cluster3.bootstrap, topic, partitions=6, replication_factor=1)
    _, _, topics = metadata(cluster3, topic)
    leaders = {p: info["leader"] for p, info in topics[topic]["partitions"].items()}
    assert sorted(set(leaders.values())) == [0, 1, 2], leaders

    sent = [dict(partition=i % 6, key=str(i).encode(), value=f"m{i}".encode()) for i in range(600)]
    util.produce(cluster3.bootstrap, topic, sent, {"acks": "all", "compression.type": "zstd"})
    for p in range(6):
        got = util.consume(cluster3.bootstrap, topic, partition=p, count=100)
        assert [m.value() for m in got] == [s["value"] for s in sent if s["partition"] == p]

    # A broker that is not the leader answers a Produce for the partition with NOT_LEADER_OR_FOLLOWER.
    other = next(b for b in cluster3.brokers if b.broker_id != leaders[0])
    with kafkawire.Connection("127.0.0.1", other.port) as c:
        err, _ = kafkawire.produce(c, topic, 0, kafkawire.record_batch([(None, b"wrong broker", [])]))
    assert err == 6


def wait_for_isr(cluster, topic, want, timeout=30.0, via=None):
    """Until every partition's ISR is `want` (sorted); returns the last partitions seen."""
    via = cluster.brokers[0].broker_id if via is None else via
    deadline = time.monotonic() + timeout
    while True:
        parts = metadata(cluster, topic, via=via)[2][topic]["partitions"]
        if all(sorted(p["isr"]) == want for p in parts.values()) or time.monotonic() > deadline:
            return parts
        time.sleep(0.2)


def stop_a_leader_and_produce(cluster, topic):
    """A replicated topic with 300 records; the leader of partition 0 stopped (SIGTERM); followers
    take over and 90 more records go in. Returns (victim, survivors' bootstrap, every record)."""
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=3)
    parts = wait_for_isr(cluster, topic, [0, 1, 2])
    assert all(sorted(p["replicas"]) == [0, 1, 2] and sorted(p["isr"]) == [0, 1, 2] for p in parts.values()), parts
    first = [dict(partition=i % 3, value=f"first-{i}".encode()) for i in range(300)]
    util.produce(cluster.bootstrap, topic, first, {"acks": "all"})

    victim = parts[0]["leader"]
    cluster.broker(victim).stop(signal.SIGTERM)
    other = next(b.broker_id for b in cluster.brokers if b.broker_id != victim)
    survivors = ",".join(b.address for b in cluster.brokers if b.broker_id != victim)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        topics = metadata(cluster, topic, via=other)[2]
        if all(p["leader"] not in (victim, -1) for p in topics[topic]["partitions"].values()):
            break
        time.sleep(0.2)
    assert all(p["leader"] not in (victim, -1) for p in topics[topic]["partitions"].values()), topics
    second = [dict(partition=i % 3, value=f"second-{i}".encode()) for i in range(90)]
    util.produce(survivors, topic, second, {"acks": "all"})
    return victim, survivors, first + second


def test_replicated_topic_survives_a_broker_stop(make_cluster, topic):
    cluster = make_cluster(brokers=3)
    victim, survivors, records = stop_a_leader_and_produce(cluster, topic)
    for p in range(3):
        got = util.consume(survivors, topic, partition=p, count=130)
        assert [m.value() for m in got] == [s["value"] for s in records if s["partition"] == p]


def test_restarted_follower_rejoins_the_isr(make_cluster, topic):
    cluster = make_cluster(brokers=3)
    victim, _, records = stop_a_leader_and_produce(cluster, topic)
    cluster.broker(victim).start()
    cluster.wait_all_registered()
    # The restarted broker catches up and its leaders add it back to the ISR.
    parts = wait_for_isr(cluster, topic, [0, 1, 2], timeout=30)
    assert all(sorted(p["isr"]) == [0, 1, 2] for p in parts.values()), parts
    # Nothing was lost on the way.
    for p in range(3):
        got = util.consume(cluster.bootstrap, topic, partition=p, count=130)
        assert [m.value() for m in got] == [s["value"] for s in records if s["partition"] == p]


def test_controller_killed(make_cluster, topic):
    # SIGKILL the controller: another broker takes over, the killed broker's partitions come back
    # when it restarts (replication factor 1: nothing can take them over meanwhile), and every
    # acknowledged record is still there.
    cluster = make_cluster(brokers=3)
    util.create_topic(cluster.bootstrap, topic, partitions=3, replication_factor=1)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=f"before-{p}".encode()) for p in range(3)])
    _, controller, _ = metadata(cluster, topic)
    cluster.restart(controller, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, new_controller, topics = metadata(cluster, topic)
        if new_controller >= 0 and all(p["leader"] >= 0 for p in topics[topic]["partitions"].values()):
            break
        time.sleep(0.2)
    assert new_controller >= 0, "no controller after the old one was killed"
    util.wait_for_leaders(cluster.bootstrap, topic, 3, timeout=60)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=f"after-{p}".encode()) for p in range(3)])
    for p in range(3):
        got = util.consume(cluster.bootstrap, topic, partition=p, count=2)
        assert [m.value() for m in got] == [f"before-{p}".encode(), f"after-{p}".encode()]


def test_idempotent_producer_across_leader_failover(make_cluster, topic):
    # Replication factor 3, min.insync.replicas 2, acks=all, idempotence on: the leader is killed
    # (SIGKILL) in the middle of production; a follower takes over and the producer's retries land
    # exactly once.
    cluster = make_cluster(brokers=3)
    util.create_topic(cluster.bootstrap, topic, partitions=1, replication_factor=3, config={"min.insync.replicas": "2"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        parts = metadata(cluster, topic)[2][topic]["partitions"]
        if sorted(parts[0]["isr"]) == [0, 1, 2]:
            break
        time.sleep(0.2)
    victim = parts[0]["leader"]

    errors, offsets = [], []
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "enable.idempotence": True, "linger.ms": 5,
                         "message.timeout.ms": 90000, "error_cb": lambda e: errors.append(e)})

    def report(err, msg):
        if err:
            errors.append(err)
        else:
            offsets.append(msg.offset())

    total, kill_at = 3000, 1000
    for i in range(total):
        while True:
            try:
                producer.produce(topic, value=str(i).encode(), partition=0, on_delivery=report)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
        if i % 20 == 0:
            time.sleep(0.01)
        if i == kill_at:
            cluster.broker(victim).stop(signal.SIGKILL)
    assert producer.flush(120) == 0
    # Transient errors (the killed broker's connections) are expected; a fatal one is not.
    assert not [e for e in errors if e.fatal()], [str(e) for e in errors]
    assert len(offsets) == total, f"{total - len(offsets)} messages failed: {[str(e) for e in errors[:5]]}"

    survivors = ",".join(b.address for b in cluster.brokers if b.broker_id != victim)
    got = util.consume(survivors, topic, count=total, timeout=60)
    values = [int(m.value()) for m in got]
    assert len(values) == len(set(values)), f"{len(values) - len(set(values))} duplicates"
    assert values == list(range(total))
    assert util.watermarks(survivors, topic)[1] == total
