"""tools/cluster, the README's local cluster: start (here with the binary under test, no build), status,
a first produce and consume with kcat, stop."""

import os
import subprocess

import harness

ROOT = harness.ROOT


def consecutive_free_ports(n):
    for _ in range(50):
        base = harness.free_port()
        if base + n < 65536 and not any(harness.port_open(base + i) for i in range(n)):
            return base
    raise RuntimeError("no run of free ports")


def tool(*args, timeout=180):
    env = dict(os.environ, ODRADEK_BIN=str(harness.odradek_binary()))
    return subprocess.run([str(ROOT / "tools/cluster"), *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_start_status_stop(tmp_path):
    directory = tmp_path / "cluster"
    zk, base = harness.free_port(), consecutive_free_ports(2)
    common = ["--dir", str(directory)]
    try:
        run = tool("start", "--brokers", "2", "--zookeeper-port", str(zk), "--port", str(base), "--no-build", *common)
        assert run.returncode == 0, run.stdout + run.stderr
        bootstrap = f"127.0.0.1:{base},127.0.0.1:{base + 1}"
        assert f"bootstrap servers: {bootstrap}" in run.stdout
        assert f"tools/kafka-topics.sh --bootstrap-server 127.0.0.1:{base} --create --topic demo --partitions 3" in run.stdout

        status = tool("status", *common)
        assert status.returncode == 0, status.stdout
        assert status.stdout.count("running answers") == 2 and "zookeeper" in status.stdout

        again = tool("start", "--brokers", "2", "--zookeeper-port", str(zk), "--port", str(base), "--no-build", *common)
        assert again.returncode != 0 and "already running" in again.stdout

        produced = subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "demo", "-p", "0"], input=b"hello\n",
                                  capture_output=True, timeout=60)
        assert produced.returncode == 0, produced.stderr
        consumed = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", "demo", "-p", "0", "-o", "beginning", "-e", "-q"],
                                  capture_output=True, timeout=60)
        assert consumed.stdout == b"hello\n", consumed.stderr
    finally:
        stopped = tool("stop", *common)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    status = tool("status", *common)
    assert status.returncode == 1 and "running" not in status.stdout
    assert (directory / "broker-0" / "broker.log").exists() and (directory / "zookeeper" / "data").is_dir()
