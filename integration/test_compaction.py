"""Log compaction end to end: a topic with cleanup.policy=compact keeps the latest value of each key
at its original offset, and refuses records without a key."""

import time

import pytest

import util

BROKER_OVERRIDES = {"log.cleaner.backoff.ms": "200"}


def test_compacted_topic_keeps_the_latest_value_of_each_key(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, config={
        "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01"})
    sent = [dict(key=f"k{i % 10}".encode(), value=f"v{i}".encode() * 20) for i in range(400)]
    util.produce(cluster.bootstrap, topic, sent, {"linger.ms": 0, "batch.num.messages": 1})
    latest = {}
    for offset, s in enumerate(sent):
        latest[s["key"]] = (offset, s["value"])

    deadline = time.monotonic() + 60
    got = []
    while time.monotonic() < deadline:
        got = util.consume(cluster.bootstrap, topic, count=None, timeout=10)
        if len(got) < 100:
            break
        time.sleep(0.5)
    assert len(got) < 100, f"nothing was compacted away: {len(got)} of {len(sent)} records remain"
    offsets = [m.offset() for m in got]
    assert offsets == sorted(offsets)
    for m in got:  # every survivor is the record produced at its offset
        assert sent[m.offset()]["key"] == m.key() and sent[m.offset()]["value"] == m.value()
    # the latest value of every key survived
    survivors = {(m.offset(), m.value()) for m in got}
    assert all(v in survivors for v in latest.values())
    assert util.watermarks(cluster.bootstrap, topic)[1] == len(sent)


def test_compacted_topic_refuses_records_without_a_key(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, config={"cleanup.policy": "compact"})
    with pytest.raises(AssertionError) as refused:
        util.produce(cluster.bootstrap, topic, [dict(value=b"no key")], {"retries": 0})
    assert "INVALID_RECORD" in str(refused.value) or "invalid record" in str(refused.value).lower(), refused.value
    assert util.watermarks(cluster.bootstrap, topic) == (0, 0)
