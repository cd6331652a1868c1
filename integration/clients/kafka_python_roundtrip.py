"""Produces and consumes with whichever kafka-python the running interpreter has (2.0.x or 3.x), and
prints what it read as JSON, for test_kafka_python.py to check. Usage:
    kafka_python_roundtrip.py BOOTSTRAP TOPIC CODEC COUNT BASE_TIMESTAMP_MS
The topic exists already (one partition). Consumes with assign(), no consumer group."""

import json
import sys

import kafka
from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    bootstrap, topic, codec, count, base_ts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=None if codec == "none" else codec,
                             linger_ms=20, acks="all", request_timeout_ms=20000, max_block_ms=30000)
    futures = [producer.send(topic, partition=0, key=f"key-{i}".encode(), value=(f"value-{i}-" * (1 + i % 5)).encode(),
                             headers=[("index", str(i).encode()), ("kind", b"kp")], timestamp_ms=base_ts + i * 10)
               for i in range(count)]
    producer.flush(timeout=30)
    offsets = [f.get(timeout=30).offset for f in futures]
    producer.close(timeout=10)

    tp = TopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             request_timeout_ms=30000, consumer_timeout_ms=1000)
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    records = []
    for _ in range(60):
        for batch in consumer.poll(timeout_ms=500).values():
            records += batch
        if len(records) >= count:
            break
    by_time = consumer.offsets_for_times({tp: base_ts + 10 * (count // 2) - 5})[tp]
    beyond = consumer.offsets_for_times({tp: base_ts + 10 * count + 1000})[tp]
    end = consumer.end_offsets([tp])[tp]
    begin = consumer.beginning_offsets([tp])[tp]
    consumer.close()
    print(json.dumps({
        "version": kafka.__version__,
        "produced_offsets": offsets,
        "records": [{"offset": r.offset, "key": r.key.decode(), "value": r.value.decode(),
                     "headers": [[k, v.decode()] for k, v in r.headers], "timestamp": r.timestamp,
                     "timestamp_type": r.timestamp_type} for r in records],
        "offset_for_middle": by_time.offset if by_time else None,
        "offset_beyond": beyond.offset if beyond else None,
        "beginning": begin, "end": end,
    }))


if __name__ == "__main__":
    main()
