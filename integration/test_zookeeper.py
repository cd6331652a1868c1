"""ZooKeeper trouble under a running broker: the data path (produce, fetch, metadata from the broker's
cache) does not need ZooKeeper, and once ZooKeeper answers again the broker still is registered and
the controller works (topic creation)."""

import signal
import time

import kafkawire
import util


def test_zookeeper_paused_shorter_than_the_session(make_cluster, topic):
    cluster = make_cluster()
    util.create_topic(cluster.bootstrap, topic)
    util.produce(cluster.bootstrap, topic, [dict(value=b"before")])
    cluster.zookeeper.pause()
    try:
        # 3 s without ZooKeeper, under the 6 s session timeout: clients notice nothing.
        start = time.monotonic()
        util.produce(cluster.bootstrap, topic, [dict(value=b"during")], {"acks": "all"})
        got = util.consume(cluster.bootstrap, topic, count=2, timeout=10)
        assert [m.value() for m in got] == [b"before", b"during"]
        time.sleep(max(0, 3 - (time.monotonic() - start)))
    finally:
        cluster.zookeeper.resume()
    other = topic + "-after"
    util.create_topic(cluster.bootstrap, other)
    util.produce(cluster.bootstrap, other, [dict(value=b"after")])
    assert [m.value() for m in util.consume(cluster.bootstrap, other, count=1)] == [b"after"]
    assert "/brokers/ids/0" in cluster.zookeeper.ephemeral_paths()


def test_zookeeper_restarted(make_cluster, topic):
    cluster = make_cluster()
    util.create_topic(cluster.bootstrap, topic)
    util.produce(cluster.bootstrap, topic, [dict(value=b"before")])
    cluster.zookeeper.process.stop(signal.SIGKILL)
    try:
        util.produce(cluster.bootstrap, topic, [dict(value=b"without zookeeper")])
    finally:
        cluster.zookeeper.start()
    # The session survives a quick ZooKeeper restart (ZooKeeper persists sessions); if the broker lost
    # it, it must register again. Either way it is registered and serves after a while.
    deadline = time.monotonic() + 30
    while "/brokers/ids/0" not in cluster.zookeeper.ephemeral_paths() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert "/brokers/ids/0" in cluster.zookeeper.ephemeral_paths()
    with kafkawire.Connection("127.0.0.1", cluster.brokers[0].port) as c:
        brokers, controller, _ = kafkawire.metadata(c, [])
    assert list(brokers) == [0]
    other = topic + "-after"
    util.create_topic(cluster.bootstrap, other, timeout=45)
    util.produce(cluster.bootstrap, other, [dict(value=b"after")])
    got = util.consume(cluster.bootstrap, topic, count=2)
    assert [m.value() for m in got] == [b"before", b"without zookeeper"]
