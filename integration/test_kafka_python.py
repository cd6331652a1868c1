"""kafka-python against one Odradek broker: 3.x (installed system-wide) and 2.0.x (in its own venv,
run as a subprocess), every codec, keys, headers, timestamps, offsets by time; 3.x's admin client and
idempotent producer."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

import kafkawire
import util

SCRIPT = Path(__file__).parent / "clients/kafka_python_roundtrip.py"
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("major", ["3", "2.0"])
def test_round_trip(cluster, topic, kafka_python2, major, codec):
    util.create_topic(cluster.bootstrap, topic)
    python = sys.executable if major == "3" else str(kafka_python2)
    count, base_ts = 120, int(time.time() * 1000) - 120_000
    run = subprocess.run([python, str(SCRIPT), cluster.bootstrap, topic, codec, str(count), str(base_ts)],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"kafka-python {major} failed:\n{run.stderr[-4000:]}"
    result = json.loads(run.stdout)
    assert result["version"].startswith(major + ".")
    assert result["produced_offsets"] == list(range(count))
    records = result["records"]
    assert [r["offset"] for r in records] == list(range(count))
    for i, r in enumerate(records):
        assert r["key"] == f"key-{i}"
        assert r["value"] == f"value-{i}-" * (1 + i % 5)
        assert r["headers"] == [["index", str(i)], ["kind", "kp"]]
        assert (r["timestamp"], r["timestamp_type"]) == (base_ts + i * 10, 0)
    assert result["offset_for_middle"] == count // 2
    assert result["offset_beyond"] is None
    assert (result["beginning"], result["end"]) == (0, count)
    batches = util.raw_batches(cluster.brokers[0].address, topic)
    assert {attrs & 7 for _, attrs, _, _ in batches} == {CODEC_IDS[codec]}


def test_admin_client(cluster, topic):
    # kafka-python 3.x's admin API: dicts in, dicts out.
    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap, request_timeout_ms=30000)
    try:
        created = admin.create_topics({topic: {"num_partitions": 2, "replication_factor": 1,
                                               "configs": {"retention.ms": "86400000"}}}, timeout_ms=30000)
        assert created["topics"] == [{"name": topic, "error_code": 0, "error_message": created["topics"][0]["error_message"]}]
        util.wait_for_leaders(cluster.bootstrap, topic, 2)
        assert topic in admin.list_topics()

        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
        assert configs["retention.ms"]["value"] == "86400000"
        assert configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG"

        altered = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "1000000"})])
        assert altered == {"topic": {topic: "OK"}}
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])["topic"][topic]
        assert configs["retention.ms"]["value"] == "1000000"

        response = admin.create_partitions({topic: 4})
        assert [r.error_code for r in response.results] == [0]
        util.wait_for_leaders(cluster.bootstrap, topic, 4)

        deleted = admin.delete_topics([topic], timeout_ms=30000)
        assert [t["error_code"] for t in deleted["topics"]] == [0]
        deadline = time.monotonic() + 30
        while topic in admin.list_topics() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert topic not in admin.list_topics()
    finally:
        admin.close()


def test_admin_client_2_0(cluster, topic, kafka_python2):
    run = subprocess.run([str(kafka_python2), str(Path(__file__).parent / "clients/kafka_python2_admin.py"),
                          cluster.bootstrap, topic], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, f"kafka-python 2.0 admin failed:\n{run.stderr[-4000:]}"
    out = json.loads(run.stdout)
    assert out["create_errors"] == [0] and out["listed"]
    error_code, name, entries = out["describe"]
    assert (error_code, name) == (0, topic) and entries["retention.ms"] == "86400000"
    assert out["alter_errors"] == [0] and out["after_alter"] == "1000000"
    assert out["partition_errors"] == [0] and out["partitions"] == 4
    assert out["delete_errors"] == [0] and out["gone"]


def test_idempotent_producer(cluster, topic):
    util.create_topic(cluster.bootstrap, topic)
    p = KafkaProducer(bootstrap_servers=cluster.bootstrap, enable_idempotence=True, acks="all",
                      compression_type="gzip", linger_ms=10, request_timeout_ms=20000)
    try:
        futures = [p.send(topic, value=str(i).encode()) for i in range(500)]
        p.flush(timeout=30)
        assert [f.get(timeout=30).offset for f in futures] == list(range(500))
    finally:
        p.close(timeout=10)
    got = util.consume(cluster.bootstrap, topic, count=500)
    assert [m.value() for m in got] == [str(i).encode() for i in range(500)]
    # The batches carry a producer id and sequence numbers.
    host, port = cluster.brokers[0].address.split(":")

    with kafkawire.Connection(host, int(port)) as c:
        err, hw, records = kafkawire.fetch(c, topic, 0, 0)
    assert err == 0 and hw == 500
    r = kafkawire.Reader(records)
    r.take(8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8)
    producer_id, epoch, sequence = r.i64(), r.i16(), r.i32()
    assert producer_id >= 0 and epoch >= 0 and sequence == 0


def test_consumer_seek_and_end(cluster, topic):
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    util.produce(cluster.bootstrap, topic, [dict(partition=i % 2, value=str(i).encode()) for i in range(40)])
    c = KafkaConsumer(bootstrap_servers=cluster.bootstrap, group_id=None, enable_auto_commit=False)
    try:
        tps = [TopicPartition(topic, 0), TopicPartition(topic, 1)]
        c.assign(tps)
        assert c.end_offsets(tps) == {tps[0]: 20, tps[1]: 20}
        c.seek(tps[1], 15)
        c.seek(tps[0], 18)
        got = []
        for _ in range(40):
            for recs in c.poll(timeout_ms=500).values():
                got += [(r.partition, r.offset, r.value) for r in recs]
            if len(got) >= 7:
                break
        assert sorted(got) == sorted([(0, 18, b"36"), (0, 19, b"38")] + [(1, o, str(2 * o + 1).encode()) for o in range(15, 20)])
    finally:
        c.close()
