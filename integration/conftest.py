"""Fixtures that run Odradek as real processes: a ZooKeeper (Debian's package) and 1 or 3 brokers on
free loopback ports, each with its own data under pytest's tmp dir. Everything started is stopped at
the end (SIGTERM, then SIGKILL after a bounded wait), and the brokers' logs are attached to every
failure report."""

import os
import uuid
from pathlib import Path

import pytest

import harness

_live = []  # clusters running now, for the failure reports


def _start(root, brokers, overrides):
    cluster = harness.Cluster(root, brokers=brokers, overrides=overrides)
    _live.append(cluster)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        _live.remove(cluster)
        raise
    return cluster


def _stop(cluster):
    try:
        cluster.stop()
    finally:
        if cluster in _live:
            _live.remove(cluster)


@pytest.fixture(scope="session")
def odradek_bin():
    return harness.odradek_binary()


@pytest.fixture(scope="module")
def cluster(odradek_bin, tmp_path_factory, request):
    """One broker (auto.create.topics.enable=true), shared by a module's tests; a module may set
    BROKER_OVERRIDES = {key: value} for its brokers' server.properties."""
    c = _start(tmp_path_factory.mktemp("cluster1"), 1, getattr(request.module, "BROKER_OVERRIDES", {}))
    yield c
    _stop(c)


@pytest.fixture(scope="module")
def cluster3(odradek_bin, tmp_path_factory):
    """Three brokers (default.replication.factor=3), shared by a module's tests."""
    c = _start(tmp_path_factory.mktemp("cluster3"), 3, {})
    yield c
    _stop(c)


@pytest.fixture
def make_cluster(odradek_bin, tmp_path):
    """make_cluster(brokers=1, **overrides) starts a cluster of its own for one test."""
    started = []

    def make(brokers=1, overrides=None):
        c = _start(tmp_path / f"cluster-{len(started)}", brokers, overrides or {})
        started.append(c)
        return c

    yield make
    for c in started:
        _stop(c)


@pytest.fixture
def topic(request):
    """A topic name no other test uses."""
    return f"{request.node.name[:40].replace('[', '-').replace(']', '').replace('/', '-')}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def kafka_python2():
    """The Python interpreter of the venv holding kafka-python 2.0.x (tools/setup installs it)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "odradek/kafka-python-2.0"
    python = Path(os.environ.get("ODRADEK_KAFKA_PYTHON2_VENV", default)) / "bin/python"
    assert python.exists(), f"no kafka-python 2.0 venv at {python.parent.parent}: run tools/setup"
    return python


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _live:
        for i, c in enumerate(_live):
            report.sections.append((f"odradek cluster {i} ({c.root})", c.logs(80)))
