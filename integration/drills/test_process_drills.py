"""Process-level failure drills D01-D09 of reliability.md §7.3: baseline, SIGTERM / SIGKILL of a
leader, clean / hard / fast bounces chasing the leader of partition 0, controller kills, and a
paused (zombie) controller and leader. Each runs a workload of two producers and one consumer
against three brokers, injects its fault, heals, drains and checks the history (checker.py).

Every drill asserts the universal criteria (Drill.check_safe: no anomaly of any class, complete
drain, healed within 30 s of the last heal with all brokers alive) plus its own from the table.
Core drills run in tools/test; those marked `extended` run with `-m extended` (README.md).
"""

import threading
import time

import pytest

import util
from drill import FAILOVER_BOUND, HEAL_BOUND, PRODUCERS, RATE, Drill

T_S = 6.0
CLEAN_FAILOVER_BOUND = 3.0   # D02 / D04: controlled shutdown moves leaders first


def zk_lines(d, path):
    """The monitor's changes of one znode, in order."""
    return [x for x in d.zk_history() if x.get("path") == path]


def first_new_epoch(d, partition, epoch):
    """Monotonic time the monitor first saw partition's leader epoch above `epoch`."""
    for x in zk_lines(d, f"/brokers/topics/{d.topic}/partitions/{partition}/state"):
        if x["type"] == "zk" and x["data"]["leader_epoch"] > epoch:
            return x["mono"], x["data"]
    return None, None


STARTUP_S = 2.0  # a client's first seconds: connections, metadata, producer id (librdkafka retries every 0.5 s)


def steady_latency(lines, startup):
    """Ack latency (ms: count, p50, p99, max) of the writes invoked after the producer's first
    `startup` seconds."""
    invoked = {x["value"]: x["mono"] for x in lines if x["type"] == "invoke"}
    first = min(invoked.values())
    xs = sorted(x["mono"] - invoked[x["value"]] for x in lines
                if x["type"] == "ok" and invoked.get(x["value"], first) >= first + startup)
    pick = lambda q: round(1000 * xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))], 1)  # noqa: E731
    return {"count": len(xs), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": round(1000 * xs[-1], 1)}


# ---- D01 ------------------------------------------------------------------------------------------

@pytest.mark.core
def test_d01_baseline(drill: Drill):
    """No fault, 60 s. Kafka's bar is 20,000 acks in 60 s at ~333 msg/s; here two producers offer
    170 msg/s each, so: every producer's acks >= 98 % of its rate x its producing time, and the
    acks scaled to 60 s >= 20,000; no error of any kind. Ack latency per producer once it has
    started (after its first 2 s: librdkafka alone takes 0.5-1 s to get its producer id) is
    measured and reported; §7.3's 100 ms p99 is a speed figure, which on this shared 2-core machine
    the load decides (steady p99 17-33 ms at load average 2-4, 124-204 ms at 5.5 with a build
    running), so the test asserts only a bound no healthy broker misses (p99 <= 500 ms) and the
    figure goes to BENCHMARKS.md."""
    drill.start_workload()
    r = drill.finish(settle=0, until=60)
    drill.check_safe()
    t = r["totals"]
    per_minute = 0.0
    for name in PRODUCERS:
        lines = drill.history_lines(name)
        invokes = [x["mono"] for x in lines if x["type"] == "invoke"]
        acks = sum(1 for x in lines if x["type"] == "ok")
        span = invokes[-1] - invokes[0] if len(invokes) > 1 else 0.0
        per_minute += acks / span * 60 if span else 0.0
        drill.notes[f"{name}_acks"] = {"acks": acks, "producing_s": round(span, 1), "per_s": round(acks / span, 1)
                                        if span else None}
        drill.expect(acks >= 0.98 * RATE * span, f"{name}: {acks} acks in {span:.1f} s, below 98 % of {RATE} msg/s")
    drill.notes["acks_per_60s"] = round(per_minute)
    drill.expect(per_minute >= 20000, f"{per_minute:.0f} acks per 60 s (< 20,000)")
    drill.expect(t["fail"] == 0 and t["info"] == 0, f"errors in a run without faults: fail {t['fail']}, "
                 f"info {t['info']}, {r['availability']['errors']}")
    for producer in PRODUCERS:
        drill.notes[f"{producer}_ack_ms_all"] = r["availability"]["ack_latency"][producer]
        lat = steady_latency(drill.history_lines(producer), STARTUP_S)
        drill.notes[f"{producer}_ack_ms_steady"] = lat
        drill.expect(lat["p99_ms"] <= 500.0, f"{producer}: ack p99 {lat['p99_ms']} ms > 500 ms after its first "
                     f"{STARTUP_S} s ({lat})")
    drill.conclude()


# ---- D02 / D03 -------------------------------------------------------------------------------------

@pytest.mark.extended
def test_d02_sigterm_leader(drill: Drill):
    """SIGTERM the leader of p0, restart it after 10 s: with controlled shutdown the leaders move
    first, so no partition goes more than 3 s without an ack; back in every ISR within 30 s."""
    drill.start_workload()
    victim = drill.leader(0)
    t, exit_s = drill.sigterm(victim)
    drill.notes["exit_after_sigterm_s"] = round(exit_s, 2)
    time.sleep(max(0.0, 10.0 - (time.monotonic() - t)))
    drill.restart(victim)
    rejoin = drill.wait_in_all_isrs(victim, HEAL_BOUND)
    drill.notes["rejoined_all_isrs_s"] = None if rejoin is None else round(rejoin, 2)
    drill.finish_checked(["sigterm"], CLEAN_FAILOVER_BOUND, until=90)
    gap = drill.max_ack_gap()
    drill.notes["max_ack_gap_s"] = gap
    drill.expect(gap <= CLEAN_FAILOVER_BOUND, f"max ack gap {gap} s > {CLEAN_FAILOVER_BOUND} s "
                 "(controlled shutdown should move the leaders before the broker exits)")
    drill.expect(rejoin is not None, f"broker {victim} not back in every ISR within {HEAL_BOUND} s")
    drill.conclude()


@pytest.mark.core
def test_d03_sigkill_leader(drill: Drill):
    """SIGKILL the leader of p0; /brokers/ids/N gone within T_s + 5 s, failover within T_s + 5 s;
    restart after deregistration; back in every ISR within 30 s."""
    drill.start_workload()
    victim = drill.leader(0)
    drill.sigkill(victim)
    dereg = drill.wait_deregistered(victim)
    drill.notes["deregistered_s"] = None if dereg is None else round(dereg, 2)
    new = drill.wait_new_leader(0, victim)
    drill.notes["new_leader_s"] = None if new is None else round(new, 2)
    drill.restart(victim)
    rejoin = drill.wait_in_all_isrs(victim, HEAL_BOUND)
    drill.notes["rejoined_all_isrs_s"] = None if rejoin is None else round(rejoin, 2)
    drill.finish_checked(["sigkill"], FAILOVER_BOUND, until=90)
    drill.expect(dereg is not None and dereg <= FAILOVER_BOUND, f"deregistration took {dereg} s (> {FAILOVER_BOUND})")
    drill.expect(rejoin is not None, f"broker {victim} not back in every ISR within {HEAL_BOUND} s")
    drill.conclude()


# ---- D04 / D05 / D06: bounces chasing the leader of p0 ------------------------------------------------

def bounce_leader_of_p0(drill, count, name, stop, between=None):
    """`count` times: stop(victim) the leader of p0 (Drill.sigterm or Drill.sigkill, event `name`),
    between(i, victim) if given, restart it, wait until it is back in every ISR (<= 30 s) and
    until every partition acks writes again, so that each failover is measured on its own."""
    rejoins = []
    for i in range(count):
        victim = drill.leader(0)
        stop(victim, name=name)
        if between is not None:
            between(i, victim)
        drill.restart(victim)
        rejoin = drill.wait_in_all_isrs(victim, HEAL_BOUND)
        rejoins.append(None if rejoin is None else round(rejoin, 2))
        drill.expect(rejoin is not None, f"bounce {i}: broker {victim} not back in every ISR within {HEAL_BOUND} s")
        drill.expect(drill.wait_writable() is not None, f"bounce {i}: some partition acked nothing after the bounce")
    drill.notes["rejoined_all_isrs_s"] = rejoins


@pytest.mark.extended
@pytest.mark.timeout(400)
def test_d04_clean_bounce_x5(drill: Drill):
    """Five times: SIGTERM the leader of p0, start it again at once, wait until it is back in every
    ISR. Each failover within 3 s (controlled shutdown)."""
    drill.start_workload()
    bounce_leader_of_p0(drill, 5, "clean-bounce", drill.sigterm)
    drill.finish_checked(["clean-bounce"], CLEAN_FAILOVER_BOUND, settle=10)
    drill.conclude()


@pytest.mark.timeout(400)
@pytest.mark.core
def test_d05_hard_bounce_x5(drill: Drill):
    """Five times: SIGKILL the leader of p0, wait for its ZooKeeper deregistration, restart it, wait
    until it is back in every ISR. Each failover within T_s + 5 s; no inconsistent offsets
    (KIP-101 / KIP-279 / KAFKA-7128 territory)."""
    drill.start_workload()
    deregs = []

    def deregistered(i, victim):
        dereg = drill.wait_deregistered(victim)
        deregs.append(None if dereg is None else round(dereg, 2))
        drill.expect(dereg is not None and dereg <= FAILOVER_BOUND, f"bounce {i}: deregistration took {dereg} s")

    bounce_leader_of_p0(drill, 5, "hard-bounce", drill.sigkill, deregistered)
    drill.notes["deregistered_s"] = deregs
    drill.finish_checked(["hard-bounce"], FAILOVER_BOUND, settle=10)
    drill.conclude()


@pytest.mark.timeout(400)
@pytest.mark.core
def test_d06_fast_hard_bounce_x5(drill: Drill):
    """Five times: SIGKILL the leader of p0 and start it again within 1 s, while its old ZooKeeper
    session is still alive. It must re-register within T_s + 5 s each time with a broker epoch
    (czxid of /brokers/ids/N) above every earlier one (KIP-380, KAFKA-7165), and rejoin every ISR
    without another restart."""
    drill.start_workload()
    epochs, regs, rejoins, gaps = [], [], [], []
    for i in range(5):
        victim = drill.leader(0)
        old = drill.registrations().get(victim)
        epochs.append((victim, old))
        t = drill.sigkill(victim, name="fast-bounce")
        drill.restart(victim)
        gaps.append(round(drill.last_heal - t, 2))
        reg = drill.wait_registered(victim, other_than=old)
        took = None if reg is None else round(time.monotonic() - t, 2)
        regs.append(took)
        drill.expect(took is not None and took <= FAILOVER_BOUND,
                     f"bounce {i}: broker {victim} re-registered after {took} s (> {FAILOVER_BOUND})")
        new = drill.registrations().get(victim)
        drill.expect(new is not None and old is not None and new > old,
                     f"bounce {i}: broker {victim} epoch {old} -> {new}, not increasing")
        rejoin = drill.wait_in_all_isrs(victim, HEAL_BOUND)
        rejoins.append(None if rejoin is None else round(rejoin, 2))
        drill.expect(rejoin is not None, f"bounce {i}: broker {victim} not back in every ISR within {HEAL_BOUND} s")
        drill.expect(drill.wait_writable() is not None, f"bounce {i}: some partition acked nothing after the bounce")
    drill.notes.update(kill_to_start_s=gaps, reregistered_s=regs, rejoined_all_isrs_s=rejoins, epochs_before=epochs)
    drill.expect(all(g <= 1.0 for g in gaps), f"a restart took more than 1 s after its SIGKILL: {gaps}")
    # Reported, not judged: the logs show refusals, not a stale request that was applied.
    drill.notes["stale_broker_epoch_refusals"] = drill.log_count("(stale broker epoch)")
    drill.notes["controller_requests_dropped_for_reregistered_brokers"] = drill.log_count("dropping a controller request")
    drill.finish_checked(["fast-bounce"], FAILOVER_BOUND, settle=10)
    # Every registration the monitor saw, per broker: czxids strictly increasing.
    for b in drill.cluster.brokers:
        czxids = [x["czxid"] for x in zk_lines(drill, f"/brokers/ids/{b.broker_id}") if x["type"] == "zk"]
        drill.notes[f"broker_{b.broker_id}_epochs"] = czxids
        drill.expect(all(a < c for a, c in zip(czxids, czxids[1:])), f"broker {b.broker_id} epochs {czxids}")
    drill.conclude()


# ---- D07 / D08: the controller ------------------------------------------------------------------------------

def create_topic_within(drill, bootstrap, topic, bound):
    """Creates `topic` (3 partitions, replication factor 2: one of the three brokers is down, and
    Kafka refuses a factor above the live brokers) through `bootstrap`, retrying with a fresh admin
    client every 0.5 s while no controller answers, until every partition has a leader. Notes the
    seconds taken ('topic_created_s', None past `bound`), the last error and the attempts."""
    start, attempts = time.monotonic(), 0
    while time.monotonic() - start < bound:
        attempts += 1
        try:
            util.create_topic(bootstrap, topic, partitions=3, replication_factor=2,
                              config={"min.insync.replicas": "1"}, timeout=3.0)
            drill.notes["topic_created_s"] = round(time.monotonic() - start, 2)
            break
        except Exception as e:  # noqa: BLE001 - no controller yet, or created by an earlier attempt
            drill.notes["topic_error"] = repr(e)[:200]
            if "already exists" in str(e).lower():
                util.wait_for_leaders(bootstrap, topic, 3, timeout=max(1.0, bound - (time.monotonic() - start)))
                drill.notes["topic_created_s"] = round(time.monotonic() - start, 2)
                break
            time.sleep(0.5)
    drill.notes["topic_attempts"] = attempts
    drill.notes.setdefault("topic_created_s", None)


@pytest.mark.extended
@pytest.mark.timeout(400)
def test_d07_controller_sigkill_x3(drill: Drill):
    """Three times: SIGKILL the controller, restart it after deregistration. A new controller within
    T_s + 5 s each time; /controller_epoch goes up by exactly 1 per election, never reused; a topic
    created right after the second kill (its request meets the dead controller) has leaders within
    15 s."""
    drill.start_workload()
    elections = []
    for i in range(3):
        ctl, e0 = drill.controller(), drill.controller_epoch()
        drill.sigkill(ctl, name="controller-kill")
        creation = None
        if i == 1:
            survivors = ",".join(b.address for b in drill.cluster.brokers if b.broker_id != ctl)
            creation = threading.Thread(target=create_topic_within, args=(drill, survivors, "drill-mid", 15.0))
            creation.start()
        took = drill.wait_for(lambda: drill.controller() not in (None, ctl), FAILOVER_BOUND + 10)
        e1 = drill.controller_epoch()
        elections.append({"killed": ctl, "new": drill.controller(), "s": None if took is None else round(took, 2),
                          "epoch": [e0, e1]})
        drill.expect(took is not None and took <= FAILOVER_BOUND, f"kill {i}: new controller after {took} s")
        drill.expect(e1 is not None and e0 is not None and e1 > e0, f"kill {i}: controller epoch {e0} -> {e1}")
        if creation is not None:
            creation.join(timeout=20)
        drill.wait_deregistered(ctl)
        drill.restart(ctl)
        drill.expect(drill.wait_in_all_isrs(ctl, HEAL_BOUND) is not None, f"kill {i}: broker {ctl} not back in every ISR")
        drill.expect(drill.wait_writable() is not None, f"kill {i}: some partition acked nothing after the restart")
    drill.notes["elections"] = elections
    created = drill.notes.get("topic_created_s")
    drill.expect(created is not None and created <= 15.0,
                 f"topic created during a controller failover not ready within 15 s: {drill.notes.get('topic_error')}")
    drill.finish_checked(["controller-kill"], FAILOVER_BOUND, settle=10)
    epochs = [x["data"] for x in zk_lines(drill, "/controller_epoch") if x["type"] == "zk"]
    controllers = [(x["data"]["brokerid"], x["czxid"]) for x in zk_lines(drill, "/controller") if x["type"] == "zk"]
    drill.notes.update(controller_epochs=epochs, controllers=controllers)
    drill.expect(all(b == a + 1 for a, b in zip(epochs, epochs[1:])), f"controller epochs not +1 per election: {epochs}")
    drill.expect(len(epochs) == len(controllers), f"{len(controllers)} elections seen but epochs {epochs}")
    drill.conclude()


@pytest.mark.core
def test_d08_zombie_controller(drill: Drill):
    """SIGSTOP the controller for 12 s (2 x T_s), then SIGCONT. Within 3 s of resuming there is
    exactly one active controller (the resumed one has resigned: brokers' own logs) and every
    broker's Metadata names it; no leader election written with the old controller epoch after the
    new controller took over (zkVersion-guarded writes, KAFKA-6082)."""
    drill.start_workload()
    ctl, e0 = drill.controller(), drill.controller_epoch()
    t = drill.pause(ctl)
    took = drill.wait_for(lambda: drill.controller() not in (None, ctl), 12.0)
    drill.notes["new_controller_s"] = None if took is None else round(took, 2)
    time.sleep(max(0.0, 12.0 - (time.monotonic() - t)))
    drill.resume(ctl)
    new = drill.controller()

    def one_controller():
        return (drill.controller_claims() == {new} and drill.controller() == new
                and drill.metadata_controllers() == {new})

    one = drill.wait_for(one_controller, 10.0)
    drill.notes["one_controller_after_resume_s"] = None if one is None else round(one, 2)
    drill.notes["claims_at_end_of_wait"] = sorted(drill.controller_claims())
    drill.finish_checked(["sigstop"], FAILOVER_BOUND, settle=10, until=90)
    drill.expect(took is not None and took <= FAILOVER_BOUND, f"new controller after {took} s")
    drill.expect(new not in (None, ctl), f"controller after the pause: {new} (paused: {ctl})")
    drill.expect(one is not None and one <= 3.0, f"one active controller {one} s after resume (> 3 s); "
                 f"claims {drill.controller_claims()}, /controller {drill.controller()}")
    drill.expect(drill.controller_claims() == {drill.controller()},
                 f"at the end: brokers claiming the controller role {drill.controller_claims()}, /controller {drill.controller()}")
    # Leader elections (leader or leader epoch changed) after the new controller's election must
    # carry its epoch: an older one means the zombie wrote.
    e_new = drill.controller_epoch()
    elected = next((x["mono"] for x in zk_lines(drill, "/controller_epoch")
                    if x["type"] == "zk" and x["data"] > e0), None)
    zombie = []
    for p in range(drill.partitions):
        prev = None
        for x in zk_lines(drill, f"/brokers/topics/{drill.topic}/partitions/{p}/state"):
            if x["type"] != "zk":
                continue
            s = x["data"]
            changed = prev is not None and (s["leader"], s["leader_epoch"]) != (prev["leader"], prev["leader_epoch"])
            if changed and elected is not None and x["mono"] > elected and s["controller_epoch"] <= e0:
                zombie.append((p, s))
            prev = s
    drill.notes["controller_epochs"] = [e0, e_new]
    drill.expect(not zombie, f"leader elections written with the old controller epoch {e0}: {zombie}")
    drill.conclude()


# ---- D09: zombie leader ---------------------------------------------------------------------------------------

@pytest.mark.core
def test_d09_zombie_leader(drill: Drill):
    """SIGSTOP the leader of p0 for 12 s, then SIGCONT. A raw producer keeps one Produce request in
    flight to that broker all along, so its answers are known to come from it: 0 of them may be
    acks after the new leader epoch began (KIP-320 / KAFKA-6880). The resumed broker truncates and
    follows: back in p0's ISR within 10 s of resuming."""
    drill.start_workload()
    victim = drill.leader(0)
    epoch0 = drill.state(0)["leader_epoch"]
    drill.start_probe(victim, partition=0)
    time.sleep(2)
    t = drill.pause(victim)
    new = drill.wait_new_leader(0, victim, 12.0)
    drill.notes["new_leader_s"] = None if new is None else round(new, 2)
    time.sleep(max(0.0, 12.0 - (time.monotonic() - t)))
    drill.resume(victim)
    follow = drill.wait_for(lambda: victim in drill.isr(0), 30.0)
    drill.notes["back_in_p0_isr_s"] = None if follow is None else round(follow, 2)
    drill.finish_checked(["sigstop"], FAILOVER_BOUND, settle=10, until=90)
    t_new, state = first_new_epoch(drill, 0, epoch0)
    drill.expect(t_new is not None, f"p0 never got a leader epoch above {epoch0}")
    probe_acks = [x for x in drill.history_lines(f"probe{victim}") if x["type"] == "ok"]
    late = [x for x in probe_acks if t_new is not None and x["mono"] >= t_new]
    drill.notes.update(probe_acks=len(probe_acks), probe_acks_after_new_epoch=len(late), new_epoch=state)
    drill.expect(not late, f"{len(late)} acks by the old leader {victim} after p0's new epoch: {late[:3]}")
    drill.expect(follow is not None and follow <= 10.0, f"old leader back in p0's ISR after {follow} s (> 10 s)")
    drill.conclude()
