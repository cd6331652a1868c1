"""kafka-python 2.0's admin client (its API differs from 3.x: NewTopic objects in, response objects out).
Usage: kafka_python2_admin.py BOOTSTRAP TOPIC. Prints what it saw as JSON."""

import json
import sys
import time

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic


def configs(admin, topic):
    [response] = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    # resources: [(error_code, error_message, resource_type, resource_name, [config entries])]
    error_code, _, _, name, entries = response.resources[0]
    return error_code, name, {e[0]: e[1] for e in entries}


def wait(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.2)
    return predicate()


def main():
    bootstrap, topic = sys.argv[1], sys.argv[2]
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    out = {}
    created = admin.create_topics([NewTopic(topic, 2, 1, topic_configs={"retention.ms": "86400000"})], timeout_ms=30000)
    out["create_errors"] = [e[1] for e in created.topic_errors]
    out["listed"] = wait(lambda: topic in admin.list_topics())
    out["describe"] = configs(admin, topic)
    altered = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "1000000"})])
    out["alter_errors"] = [r[0] for r in altered.resources]
    out["after_alter"] = configs(admin, topic)[2].get("retention.ms")
    grown = admin.create_partitions({topic: NewPartitions(total_count=4)}, timeout_ms=30000)
    out["partition_errors"] = [e[1] for e in grown.topic_errors]
    out["partitions"] = wait(lambda: len(admin.describe_topics([topic])[0]["partitions"]) == 4) and 4
    deleted = admin.delete_topics([topic], timeout_ms=30000)
    out["delete_errors"] = [e[1] for e in deleted.topic_error_codes]
    out["gone"] = wait(lambda: topic not in admin.list_topics())
    admin.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
