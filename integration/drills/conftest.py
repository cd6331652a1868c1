"""The `drill` fixture: a started Drill (drill.py) under the test's tmp dir, stopped afterwards; its
histories and results.json stay there. A module may set DRILL_CLUSTER to a callable
(root, brokers=3, overrides={...}) -> cluster (default harness.Cluster), e.g. netns.NetCluster. A failed drill's report carries the checker's summary and
the last lines of every broker's log (whole logs: <tmp>/cluster/broker-N/broker.log)."""

import pytest

import harness
from drill import Drill

_live = []


@pytest.fixture
def drill(odradek_bin, tmp_path, request):
    d = Drill(tmp_path, cluster=getattr(request.module, "DRILL_CLUSTER", harness.Cluster))
    _live.append(d)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        _live.remove(d)


def pytest_collection_modifyitems(items):
    """Every test using the `drill` fixture carries the `drill` marker (-m drill / -m "not drill")."""
    for item in items:
        if "drill" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.drill)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _live:
        for d in _live:
            if d.results is not None:
                report.sections.append((f"drill results ({d.history})", d.report()))
            report.sections.append((f"drill cluster ({d.root})", d.logs(80)))
            if d.problems:  # last, so the tail of a long report names the failed criteria
                report.sections.append(("drill criteria not met", "\n".join(d.problems)))
