"""`odradek consumer-groups` (kafka-consumer-groups.sh) against one broker, with a real confluent-kafka
consumer group: the exact text Kafka's tool prints for --list, --describe (offsets, --members
[--verbose], --state), --reset-offsets (dry run and --execute, checked through the consumer's committed
offsets) and --delete, its messages for empty, missing and active groups, and non-zero exit codes on
every error."""

import json
import subprocess
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

import harness
import util

SESSION_MS = 6000


def tool(cluster, *args, bootstrap=True):
    argv = [str(harness.odradek_binary()), "consumer-groups"]
    if bootstrap:
        argv += ["--bootstrap-server", cluster.bootstrap]
    return subprocess.run(argv + list(args), capture_output=True, text=True, timeout=60)


def consumer(cluster, group):
    return Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                     "enable.auto.commit": False, "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 500,
                     "client.id": "cg-test-client"})


def committed(cluster, group, topic, partitions=2):
    c = consumer(cluster, group)
    try:
        return [tp.offset for tp in c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)]
    finally:
        c.close()


def row(widths, cells):
    """Java's "%-w1s %-w2s ... %s": each cell padded to its width (0: as it is), joined by spaces."""
    return " ".join(cell.ljust(width) for cell, width in zip(cells, widths))


def offsets_table(group, rows):
    """Kafka's --describe offsets view: widths max(15, longest value) for group, topic, consumer id
    and host; a newline before every line and one at the end."""
    header = ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
              "CLIENT-ID"]
    widths = [max(15, len(group)), max([15] + [len(r[1]) for r in rows]), 10, 15, 15, 15,
              max([15] + [len(r[6]) for r in rows]), max([15] + [len(r[7]) for r in rows]), 0]
    return "".join("\n" + row(widths, cells) for cells in [header] + rows) + "\n"


def reset_table(rows):
    return "".join("\n" + row([30, 30, 10, 15], cells) for cells in
                   [["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]] + rows) + "\n"


def wait_empty(cluster, group, timeout=30.0):
    """Waits until the group has finished the rebalance its last member's leaving starts."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        described = tool(cluster, "--describe", "--group", group, "--state", "--format", "json")
        state = json.loads(described.stdout)[0]["state"] if described.returncode == 0 else described.stdout
        if state == "Empty":
            return
        time.sleep(0.1)
    raise AssertionError(f"group {group} is {state}, not empty")


@pytest.fixture
def group_with_offsets(cluster, topic):
    """A group that consumed 5 records from each of 2 partitions and committed, then left; partition 0
    has 2 more records since (lag 2)."""
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    util.produce(cluster.bootstrap, topic, [dict(partition=p, value=b"v") for p in range(2) for _ in range(5)])
    group = f"g-{topic}"
    c = consumer(cluster, group)
    c.subscribe([topic])
    got = 0
    deadline = time.monotonic() + 60
    while got < 10 and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is not None and m.error() is None:
            got += 1
    assert got == 10
    c.commit(asynchronous=False)
    c.close()
    wait_empty(cluster, group)
    util.produce(cluster.bootstrap, topic, [dict(partition=0, value=b"late") for _ in range(2)])
    return group, topic


def test_list_and_json(cluster, group_with_offsets):
    group, _ = group_with_offsets
    listed = tool(cluster, "--list")
    assert listed.returncode == 0, listed.stderr
    assert group in listed.stdout.splitlines()
    as_json = tool(cluster, "--list", "--format", "json")
    assert as_json.returncode == 0
    assert {"group": group} in json.loads(as_json.stdout)
    with_state = tool(cluster, "--list", "--state")
    assert with_state.returncode == 0
    lines = with_state.stdout.splitlines()
    ids = [line.split()[0] for line in lines[1:]]
    width = max(15, max(len(i) for i in ids)) + 10
    assert lines[0] == "GROUP".ljust(width) + " " + "STATE".ljust(20)
    assert "".ljust(0) + group.ljust(width) + " " + "Empty".ljust(20) in lines
    only_stable = tool(cluster, "--list", "--state", "stable")
    assert group not in only_stable.stdout


def test_describe_empty_group(cluster, group_with_offsets):
    group, topic = group_with_offsets
    result = tool(cluster, "--describe", "--group", group)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == f"\nConsumer group '{group}' has no active members.\n"
    assert result.stdout == offsets_table(group, [
        [group, topic, "0", "5", "7", "2", "-", "-", "-"],
        [group, topic, "1", "5", "5", "0", "-", "-", "-"],
    ])
    as_json = json.loads(tool(cluster, "--describe", "--group", group, "--format", "json").stdout)
    assert as_json[0] == {"group": group, "topic": topic, "partition": 0, "current-offset": 5, "log-end-offset": 7,
                          "lag": 2, "consumer-id": None, "host": None, "client-id": None}
    members = tool(cluster, "--describe", "--group", group, "--members")
    assert members.returncode == 0
    assert members.stdout == ""
    assert "has no active members." in members.stderr
    state = tool(cluster, "--describe", "--group", group, "--state")
    lines = state.stdout.split("\n")
    assert lines[0] == ""
    assert lines[1].split() == ["GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"]
    assert lines[2].split()[0] == group and lines[2].split()[-2:] == ["Empty", "0"]


def test_describe_active_member(cluster, group_with_offsets):
    group, topic = group_with_offsets
    c = consumer(cluster, group)
    c.subscribe([topic])
    deadline = time.monotonic() + 60
    while len(c.assignment()) < 2 and time.monotonic() < deadline:
        c.poll(0.2)
    assert len(c.assignment()) == 2
    try:
        described = None
        for _ in range(50):
            c.poll(0.1)
            described = tool(cluster, "--describe", "--group", group)
            if "cg-test-client" in described.stdout:
                break
        assert described.returncode == 0 and described.stderr == ""
        lines = described.stdout.split("\n")
        member_id = lines[2].split()[6]
        assert member_id.startswith("cg-test-client-")
        assert described.stdout == offsets_table(group, [
            [group, topic, "0", "5", "7", "2", member_id, "/127.0.0.1", "cg-test-client"],
            [group, topic, "1", "5", "5", "0", member_id, "/127.0.0.1", "cg-test-client"],
        ])

        members = tool(cluster, "--describe", "--group", group, "--members")
        widths = [max(15, len(group)), max(15, len(member_id)), 15, 15, 15]
        assert members.stdout == (
            "\n" + row(widths, ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]) + " "
            + "\n" + row(widths, [group, member_id, "/127.0.0.1", "cg-test-client", "2"]) + " \n")
        verbose = tool(cluster, "--describe", "--group", group, "--members", "--verbose")
        assert verbose.stdout == (
            "\n" + row(widths, ["GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"]) + " ASSIGNMENT"
            + "\n" + row(widths, [group, member_id, "/127.0.0.1", "cg-test-client", "2"]) + f" {topic}(0,1)\n")

        state = tool(cluster, "--describe", "--group", group, "--state")
        coordinator = state.stdout.split("\n")[2].split()[1]
        assert coordinator == cluster.bootstrap.split(",")[0] or coordinator.endswith(cluster.bootstrap.split(":")[-1])
        line = state.stdout.split("\n")[2]
        assert line.split()[3:] == ["range", "Stable", "1"]
        assert line.startswith(group.ljust(max(25, len(group))) + " ")

        refused = tool(cluster, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", "--execute")
        assert refused.returncode == 1
        assert (f"\nError: Assignments can only be reset if the group '{group}' is inactive, but the current state "
                "is Stable.\n") in refused.stdout
    finally:
        c.close()
    wait_empty(cluster, group)
    assert committed(cluster, group, topic) == [5, 5]


def test_describe_rebalancing_group(cluster, topic):
    """A member that stops polling holds a rebalance open when a second member joins."""
    util.create_topic(cluster.bootstrap, topic, partitions=2)
    group = f"g-{topic}"
    first = consumer(cluster, group)
    second = consumer(cluster, group)
    try:
        first.subscribe([topic])
        deadline = time.monotonic() + 60
        while len(first.assignment()) < 2 and time.monotonic() < deadline:
            first.poll(0.2)
        assert len(first.assignment()) == 2
        second.subscribe([topic])
        described = None
        for _ in range(50):
            second.poll(0.2)
            described = tool(cluster, "--describe", "--group", group)
            if described.stderr:
                break
        assert described.returncode == 0
        assert described.stderr == f"\nWarning: Consumer group '{group}' is rebalancing.\n"
        state = tool(cluster, "--describe", "--group", group, "--state")
        assert state.stdout.split("\n")[2].split()[-2] == "PreparingRebalance"
    finally:
        second.close()
        first.close()


def test_reset_offsets(cluster, group_with_offsets):
    group, topic = group_with_offsets
    dry = tool(cluster, "--reset-offsets", "--group", group, "--topic", topic, "--to-earliest")
    assert dry.returncode == 0
    assert dry.stderr.startswith("WARN: No action will be performed as the --execute option is missing.In a future")
    assert dry.stdout == reset_table([[group, topic, "0", "0"], [group, topic, "1", "0"]])
    assert committed(cluster, group, topic) == [5, 5]

    explicit = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--to-latest", "--dry-run")
    assert explicit.stderr == ""
    assert explicit.stdout == reset_table([[group, topic, "0", "7"], [group, topic, "1", "5"]])

    done = tool(cluster, "--reset-offsets", "--group", group, "--topic", f"{topic}:0", "--to-offset", "3", "--execute")
    assert done.returncode == 0, done.stdout
    assert done.stdout == reset_table([[group, topic, "0", "3"]])
    assert committed(cluster, group, topic) == [3, 5]

    shifted = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--shift-by", "-4", "--execute")
    assert shifted.stdout == reset_table([[group, topic, "0", "0"], [group, topic, "1", "1"]])
    assert committed(cluster, group, topic) == [0, 1]

    clamped = tool(cluster, "--reset-offsets", "--group", group, "--topic", topic, "--to-offset", "100", "--execute")
    assert clamped.stdout == reset_table([[group, topic, "0", "7"], [group, topic, "1", "5"]])
    assert committed(cluster, group, topic) == [7, 5]

    current = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--to-current", "--dry-run")
    assert current.stdout == reset_table([[group, topic, "0", "7"], [group, topic, "1", "5"]])
    a_day = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--by-duration", "P1D", "--dry-run")
    assert a_day.stdout == reset_table([[group, topic, "0", "0"], [group, topic, "1", "0"]])
    future = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--to-datetime",
                  "2999-01-01T00:00:00.000+02:00", "--dry-run")
    assert future.stdout == reset_table([[group, topic, "0", "7"], [group, topic, "1", "5"]])
    no_millis = tool(cluster, "--reset-offsets", "--group", group, "--all-topics", "--to-datetime",
                     "2020-01-01T00:00:00", "--dry-run")
    assert no_millis.returncode == 1
    assert "It does not conform to the expected format yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]" in no_millis.stdout
    assert committed(cluster, group, topic) == [7, 5]

    past = tool(cluster, "--reset-offsets", "--group", group, "--topic", topic, "--to-datetime",
                "2000-01-01T00:00:00.000", "--execute")
    assert past.stdout == reset_table([[group, topic, "0", "0"], [group, topic, "1", "0"]])
    assert committed(cluster, group, topic) == [0, 0]

    csv = tool(cluster, "--reset-offsets", "--group", group, "--topic", topic, "--to-latest", "--export", "--dry-run")
    assert csv.stdout == f"{topic},0,7\n{topic},1,5\n"

    no_scope = tool(cluster, "--reset-offsets", "--group", group, "--to-earliest", "--dry-run")
    assert no_scope.returncode == 1
    assert "One of the reset scopes should be defined: --all-topics, --topic." in no_scope.stdout


def test_delete(cluster, group_with_offsets):
    group, _ = group_with_offsets
    deleted = tool(cluster, "--delete", "--group", group)
    assert deleted.returncode == 0, deleted.stdout
    assert deleted.stdout == f"Deletion of requested consumer groups ('{group}') was successful.\n"
    assert group not in tool(cluster, "--list").stdout.splitlines()

    again = tool(cluster, "--delete", "--group", group)
    assert again.returncode == 1
    assert again.stdout == (
        "\nError: Deletion of some consumer groups failed:\n"
        f"* Group '{group}' could not be deleted due to: "
        "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n")


def test_delete_offsets(cluster, group_with_offsets):
    group, topic = group_with_offsets
    result = tool(cluster, "--delete-offsets", "--group", group, "--topic", f"{topic}:1")
    assert result.returncode == 0, result.stdout
    assert result.stdout == (
        f"Request succeed for deleting offsets with topic {topic}:1 group {group}\n"
        + "\n" + row([30, 15, 15], ["TOPIC", "PARTITION", "STATUS"])
        + "\n" + row([30, 15, 15], [topic, "1", "Successful"]) + "\n")
    assert committed(cluster, group, topic) == [5, -1001]

    missing = tool(cluster, "--delete-offsets", "--group", group, "--topic", "no-such-topic")
    assert missing.returncode == 1
    assert missing.stdout.startswith("\nError: Encounter some partition level error, see the follow-up details:\n")
    assert row([30, 15, 15], ["no-such-topic", "Not Provided", "Error: This server does not host this topic-partition."]) \
        in missing.stdout

    several = tool(cluster, "--delete-offsets", "--group", group, "--group", "other", "--topic", topic)
    assert several.returncode == 1
    assert several.stderr.startswith(f"Option [delete-offsets] supports only one [group] at a time, but found: [{group}, other]")


def test_missing_group_and_bad_arguments(cluster):
    missing = tool(cluster, "--describe", "--group", "no-such-group")
    assert missing.returncode == 1
    assert missing.stdout == "\nError: Consumer group 'no-such-group' does not exist.\n"

    cases = [
        ((), "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, "
             "--delete-offsets"),
        (("--list", "--describe"), "Command must include exactly one action"),
        (("--describe",), "Option [describe] takes one of these options: [all-groups], [group]"),
        (("--describe", "--group", "g", "--members", "--state"),
         "Option [describe] takes at most one of these options: [members], [offsets], [state]"),
        (("--reset-offsets", "--group", "g", "--topic", "t"), "Option [reset-offsets] takes one of these options:"),
        (("--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--execute", "--dry-run"),
         "Option [reset-offsets] only accepts one of [execute] and [dry-run]"),
        (("--reset-offsets", "--group", "g", "--topic", "t", "--to-earliest", "--to-latest"),
         "Option \"[to-latest]\" can't be used with option \"[to-earliest]\""),
        (("--list", "--group", "g"), "Option \"[group]\" can't be used with option \"[list]\""),
        (("--list", "--members"), "Option \"[members]\" can't be used with option \"[list]\""),
        (("--list", "--bogus"), "bogus is not a recognized option"),
    ]
    for args, message in cases:
        result = tool(cluster, *args)
        assert result.returncode == 1, args
        assert result.stderr.startswith(message), (args, result.stderr[:200])
    no_server = tool(cluster, "--list", bootstrap=False)
    assert no_server.returncode == 1
    assert no_server.stderr.startswith("Missing required argument \"[bootstrap-server]\"")

    unreachable = subprocess.run([str(harness.odradek_binary()), "consumer-groups", "--bootstrap-server",
                                  "127.0.0.1:1", "--list"], capture_output=True, text=True, timeout=60)
    assert unreachable.returncode == 1
    assert unreachable.stdout.startswith("\nError: Executing consumer group command failed due to ")


def test_shim_runs_the_command(cluster, group_with_offsets):
    group, _ = group_with_offsets
    env = dict(__import__("os").environ, ODRADEK_BIN=str(harness.odradek_binary()))
    result = subprocess.run([str(harness.ROOT / "tools/kafka-consumer-groups.sh"), "--bootstrap-server",
                             cluster.bootstrap, "--list"], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0
    assert group in result.stdout.splitlines()
