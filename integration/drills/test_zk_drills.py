"""ZooKeeper drills Z13 and Z14 of reliability.md §7.3: the baseline cluster on a three-server
ZooKeeper ensemble (zkensemble.py), brokers in network namespaces of their own (netns.py). Every
drill also meets the universal safety criteria of §7.1 through the checker (Drill.check_safe).

Times are CLOCK_MONOTONIC, from the drill's event lines and the zkmon history (ZooKeeper sampled
every 0.1 s by a client that follows the ensemble)."""

import functools
import time

import pytest

import netns
import timeline
import zkensemble
from drill import HEAL_BOUND

DRILL_CLUSTER = functools.partial(netns.NetCluster, zookeeper=zkensemble.Ensemble)

MAX_ACK_GAP = 5.0  # Z13


def _registrations_and_controller(d, states):
    return (timeline.broker_registrations(states),
            timeline.distinct(states, "/controller"),
            timeline.distinct(states, "/controller_epoch", lambda line: line["data"]))


@pytest.mark.core  # fast (about 60 s) and stable, so core though §7.3 lists it as extended
@pytest.mark.timeout(400)
def test_z13_zookeeper_leader_killed(drill):
    """Z13: SIGKILL of the ZooKeeper leader, restarted after 10 s: the ensemble elects another leader
    and the brokers move their sessions to it: no broker registers again (czxid of /brokers/ids/N
    unchanged), the controller does not change, and no partition goes more than 5 s without an ack."""
    d = drill
    zk = d.cluster.zookeeper
    d.start_workload()
    before = d.registrations()
    pids = {b.broker_id: b.pid for b in d.cluster.brokers}
    time.sleep(5)
    victim = zk.leader()
    assert victim is not None, "no ZooKeeper leader before the fault"
    t_fault = d.fault("sigkill-zookeeper-leader", target=victim.name)
    victim.kill()
    elected = zk.wait_quorum(30)  # the other two elect a leader among themselves
    time.sleep(max(0.0, t_fault + 10 - time.monotonic()))
    victim.start()
    d.heal("restart-zookeeper", target=victim.name)
    rejoined = zk.wait_quorum(60, want_all=True)
    d.finish(settle=15)

    states = timeline.zk_states(d.history)
    registrations, controllers, epochs = _registrations_and_controller(d, states)
    gap = d.max_ack_gap()
    d.notes.update({
        "killed": victim.name, "new_zookeeper_leader_after_s": round(elected, 2),
        "restarted_server_following_after_s": round(rejoined, 2),
        "registrations": registrations, "controller_czxids": controllers, "controller_epochs": epochs,
        "max_ack_gap_s": gap})

    reregistered = {b: czxids for b, czxids in registrations.items() if len(czxids) > 1}
    d.expect(not reregistered,
             f"brokers registered again (czxids): {reregistered}")
    d.expect(d.registrations() == before,
             f"registrations changed: {before} -> {d.registrations()}")
    d.expect(len(controllers) == 1 and None not in controllers,
             f"the controller changed: {controllers}")
    d.expect(len(epochs) == 1,
             f"the controller epoch changed: {epochs}")
    d.expect(gap <= MAX_ACK_GAP,
             f"a partition went {gap} s without an ack (bound {MAX_ACK_GAP} s)")
    d.expect({b.broker_id: b.pid for b in d.cluster.brokers} == pids,
             "a broker was restarted")
    d.check_safe()
    d.conclude()


@pytest.mark.core
@pytest.mark.timeout(400)
def test_z14_zookeeper_quorum_lost(drill):
    """Z14: SIGKILL of two of the three ZooKeeper servers (the leader among them) for 20 s, then
    restarted: no acked write is lost, and within 30 s of the quorum's return all three brokers are
    registered, one controller is known to all, every partition has a leader and a full ISR, and no
    broker process was restarted."""
    d = drill
    zk = d.cluster.zookeeper
    d.start_workload()
    pids = {b.broker_id: b.pid for b in d.cluster.brokers}
    time.sleep(5)
    leader = zk.leader()
    assert leader is not None, "no ZooKeeper leader before the fault"
    victims = [leader] + [s for s in zk.servers if s is not leader][:1]
    t_fault = d.fault("sigkill-zookeeper-majority", target=[s.name for s in victims])
    for s in victims:
        s.kill()
    time.sleep(max(0.0, t_fault + 20 - time.monotonic()))
    for s in victims:
        s.start()
    t_restart = d.heal("restart-zookeeper-majority", target=[s.name for s in victims])
    zk.wait_quorum(60)
    t_quorum = time.monotonic()
    took = d.wait_for(lambda: d.healed()[0], HEAL_BOUND + 5)
    healed_after_quorum = None if took is None else time.monotonic() - t_quorum
    why = d.healed()[1]
    d.finish(settle=10)

    states = timeline.zk_states(d.history)
    registrations, controllers, epochs = _registrations_and_controller(d, states)
    d.notes.update({
        "killed": [s.name for s in victims], "quorum_back_after_restart_s": round(t_quorum - t_restart, 2),
        "healed_after_quorum_s": None if healed_after_quorum is None else round(healed_after_quorum, 2),
        "registrations": registrations, "controller_czxids": controllers, "controller_epochs": epochs})

    d.expect(healed_after_quorum is not None and healed_after_quorum <= HEAL_BOUND,
             f"not healed within {HEAL_BOUND} s of the quorum's return: {why}")
    d.expect(d.results["counts"]["lost"] == 0, f"{d.results['counts']['lost']} acked writes lost")
    d.expect({b.broker_id: b.pid for b in d.cluster.brokers} == pids,
             "a broker was restarted")
    d.check_safe()
    d.conclude()
