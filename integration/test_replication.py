"""Replication rules a client can see: acks=all needs min.insync.replicas in the ISR (nothing is
appended otherwise), and a leader epoch older or newer than the partition's is refused (KIP-320)."""

import signal
import time

import kafkawire
import util

HOST = "127.0.0.1"


def partition_view(cluster, topic, via):
    with kafkawire.Connection(HOST, cluster.broker(via).port, timeout=5) as c:
        _, _, topics = kafkawire.metadata(c, [topic])
    return topics[topic]["partitions"][0]


def wait_for(cluster, topic, via, condition, timeout, what):
    deadline = time.monotonic() + timeout
    view = None
    while time.monotonic() < deadline:
        view = partition_view(cluster, topic, via)
        if condition(view):
            return view
        time.sleep(0.1)
    raise AssertionError(f"{what} not within {timeout} s: {view}")


def produce_raw(cluster, broker_id, topic, acks, value):
    with kafkawire.Connection(HOST, cluster.broker(broker_id).port, timeout=15) as c:
        return kafkawire.produce(c, topic, 0, kafkawire.record_batch([(None, value, ())]), acks=acks, timeout_ms=5000)


def test_acks_all_is_refused_when_the_isr_is_below_min_insync_replicas(make_cluster, topic):
    cluster = make_cluster(3, {"zookeeper.session.timeout.ms": 6000, "auto.leader.rebalance.enable": "false"})
    util.create_topic(cluster.bootstrap, topic, partitions=1, replication_factor=2, config={"min.insync.replicas": "2"})
    view = wait_for(cluster, topic, 0, lambda v: len(v["isr"]) == 2, 30, "a full ISR")
    leader = view["leader"]
    follower = next(r for r in view["replicas"] if r != leader)
    assert produce_raw(cluster, leader, topic, -1, b"before")[0] == 0

    # The follower stops: the ISR is the leader alone, one fewer than min.insync.replicas.
    cluster.broker(follower).stop(signal.SIGTERM)
    wait_for(cluster, topic, leader, lambda v: v["isr"] == [leader], 15, "the ISR down to the leader")
    low, high = util.watermarks(cluster.bootstrap, topic)
    error, _ = produce_raw(cluster, leader, topic, -1, b"refused")
    assert error == 19, f"NOT_ENOUGH_REPLICAS expected, got {error}"
    assert util.watermarks(cluster.bootstrap, topic) == (low, high), "a refused batch was appended"
    # acks=1 does not need the ISR.
    assert produce_raw(cluster, leader, topic, 1, b"acks1")[0] == 0

    # Back in the ISR, acks=all is accepted again; nothing refused was ever stored.
    cluster.broker(follower).start(wait=True)
    wait_for(cluster, topic, leader, lambda v: len(v["isr"]) == 2, 30, "the follower back in the ISR")
    assert produce_raw(cluster, leader, topic, -1, b"after")[0] == 0
    values = [m.value() for m in util.consume(cluster.bootstrap, topic, count=3)]
    assert values == [b"before", b"acks1", b"after"]


def test_fetch_with_an_older_or_newer_leader_epoch_is_refused(make_cluster, topic):
    cluster = make_cluster(3, {"zookeeper.session.timeout.ms": 6000, "auto.leader.rebalance.enable": "false"})
    util.create_topic(cluster.bootstrap, topic, partitions=1, replication_factor=3)
    first = wait_for(cluster, topic, 0, lambda v: len(v["isr"]) == 3, 30, "a full ISR")
    # A controlled shutdown of the leader starts leader epoch 1 on another replica.
    cluster.broker(first["leader"]).stop(signal.SIGTERM)
    other = next(r for r in first["replicas"] if r != first["leader"])
    view = wait_for(cluster, topic, other, lambda v: v["leader"] not in (-1, first["leader"]), 15, "a new leader")
    with kafkawire.Connection(HOST, cluster.broker(view["leader"]).port) as c:
        assert kafkawire.fetch(c, topic, 0, 0, version=11, current_leader_epoch=0)[0] == 74  # FENCED_LEADER_EPOCH
        assert kafkawire.fetch(c, topic, 0, 0, version=11, current_leader_epoch=9)[0] == 75  # UNKNOWN_LEADER_EPOCH
        assert kafkawire.fetch(c, topic, 0, 0, version=11, current_leader_epoch=1)[0] == 0
        assert kafkawire.fetch(c, topic, 0, 0, version=11, current_leader_epoch=-1)[0] == 0  # no epoch: not checked
