"""Network-partition drills D10, D11 and D12 of reliability.md §7.3, on the baseline cluster with
each broker in a network namespace of its own (netns.py): ZooKeeper and the clients stay reachable
unless a drill cuts them. Every drill also meets the universal safety criteria of §7.1 through the
checker (Drill.check_safe).

Times are CLOCK_MONOTONIC, from the drill's event lines and the zkmon history (ZooKeeper sampled
every 0.1 s, so a figure may be late by that much, never early)."""

import time

import pytest

import netns
import timeline
from drill import FAILOVER_BOUND, HEAL_BOUND, SESSION_TIMEOUT

DRILL_CLUSTER = netns.NetCluster

LAG_TIME = 10.0  # replica.lag.time.max.ms of the baseline, seconds
D10_DELIVERY_TIMEOUT_MS = 90000  # see test_d10's docstring
NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT = 19, 20, 7
# Client-side timeouts: librdkafka's _MSG_TIMED_OUT / _TIMED_OUT, kafka-python's KafkaTimeoutError,
# the raw probe's socket timeout.
TIMEOUT_CODES = {REQUEST_TIMED_OUT, -192, -185}
TIMEOUT_NAMES = ("KafkaTimeoutError", "TimeoutError", "MSG_TIMED_OUT", "_TIMED_OUT", "REQUEST_TIMED_OUT")


def _is_refusal_or_timeout(line):
    code, name = line.get("error_code"), str(line.get("error", ""))
    return (code in (NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND) or code in TIMEOUT_CODES
            or any(n in name for n in TIMEOUT_NAMES))


def _leader_with_probe(d, **workload):
    """Starts the workload and a raw probe to the leader of p0 (its own answers on record); the leader."""
    d.start_workload(**workload)
    leader = d.leader(0)
    d.start_probe(leader, 0)
    time.sleep(5)
    return leader


def _cut_for(d, name, target, inject, seconds, during=None):
    """Marks the fault, runs inject(), waits `seconds` (calling during(fault time) every 0.1 s), heals
    every cut and marks the heal. Returns (fault time, heal time)."""
    t_fault = d.fault(name, target=target)
    inject()
    while time.monotonic() < t_fault + seconds:
        if during is not None:
            during(t_fault)
        time.sleep(0.1)
    d.cluster.topology.heal()
    return t_fault, d.heal("heal", target=target)


def _state(d, view, p=0):
    return timeline.partition_state(view, d.topic, p) or {}


def _full_isr(d, view):
    return all(len(_state(d, view, p).get("isr", [])) == 3 for p in range(d.partitions))


@pytest.mark.core
@pytest.mark.timeout(400)
def test_d10_leader_cut_from_the_other_brokers(drill):
    """D10: the leader of p0 loses the other brokers for 30 s (ZooKeeper and clients still reach it):
    its ISR shrinks to itself within replica.lag.time.max.ms + 2 s; from then until the heal no p0
    write is acked and each p0 produce ends in NOT_ENOUGH_REPLICAS(_AFTER_APPEND) or a timeout;
    nothing refused is ever read; the ISR is full again within 30 s of the heal.

    The producers' delivery.timeout.ms is 90 s here, not the baseline's 30 s: p0 takes no write for
    the whole 30 s cut, and when librdkafka times out a message it bumps the producer epoch on its own
    and re-sends the batches waiting for a retry under the new epoch with new sequence numbers
    (librdkafka INTRODUCTION.md, "Message timeout considerations"); a batch that had been appended
    before the shrink (and answered NOT_ENOUGH_REPLICAS_AFTER_APPEND) is then written twice, as with
    Kafka. Without timeouts the retries keep their epoch and sequence, so duplicates = 0 checks the
    broker's own deduplication of those retries."""
    d = drill
    leader = _leader_with_probe(d, producer_args=("--delivery-timeout-ms", str(D10_DELIVERY_TIMEOUT_MS)))
    t_fault, t_heal = _cut_for(d, "cut-from-brokers", leader, lambda: d.cluster.topology.isolate_broker(leader), 30)
    full = d.wait_for(lambda: all(len(d.isr(p)) == 3 for p in range(d.partitions)), HEAL_BOUND + 5)
    d.finish(settle=10)

    states = timeline.zk_states(d.history)
    t_shrink = timeline.first(states, lambda v: _state(d, v).get("isr") == [leader], after=t_fault)
    t_full = timeline.first(states, lambda v: _full_isr(d, v), after=t_heal)
    window = timeline.producer_completions(d.history, 0, t_shrink or t_heal, t_heal)
    acked = [(p, x["value"], x["offset"], round(x["mono"] - t_fault, 2)) for p, x in window if x["type"] == "ok"]
    other = [(p, x["value"], x.get("error_code"), x.get("error")) for p, x in window
             if x["type"] != "ok" and not _is_refusal_or_timeout(x)]
    d.notes.update({
        "leader": leader,
        "isr_shrunk_after_s": None if t_shrink is None else round(t_shrink - t_fault, 2),
        "p0_completions_while_shrunk": len(window), "p0_acks_while_shrunk": len(acked),
        "isr_full_after_heal_s": None if t_full is None else round(t_full - t_heal, 2),
        "p0_leaders": timeline.distinct(states, f"/brokers/topics/{d.topic}/partitions/0/state",
                                        lambda line: line["data"]["leader"])})

    d.expect(t_shrink is not None and t_shrink - t_fault <= LAG_TIME + 2,
             f"p0's ISR did not shrink to [{leader}] within {LAG_TIME + 2} s of the cut")
    d.expect(not acked,
             f"p0 writes acked while its ISR was [{leader}] (first 10): {acked[:10]}")
    d.expect(not other,
             f"p0 produce outcomes other than NOT_ENOUGH_REPLICAS / timeout while shrunk: {other[:10]}")
    d.expect(t_shrink is None or window, "no p0 produce completed while the ISR was shrunk: the check saw nothing")
    d.expect(full is not None and t_full is not None and t_full - t_heal <= HEAL_BOUND,
             f"ISRs not full within {HEAL_BOUND} s of the heal")
    d.check_safe()
    d.conclude()


@pytest.mark.core
@pytest.mark.timeout(400)
def test_d11_leader_cut_from_zookeeper(drill):
    """D11: the leader of p0 loses ZooKeeper only, for 20 s: a new leader within T_s + 5 s; the old
    leader acks no acks=all write once its session has expired; after the heal it registers again
    within 11 s and is back in every ISR within 30 s, without a restart."""
    d = drill
    leader = _leader_with_probe(d)
    pid = d.broker(leader).pid
    before = d.registrations()[leader]
    t_fault, t_heal = _cut_for(d, "cut-from-zookeeper", leader, lambda: d.cluster.topology.cut_zookeeper(leader), 20)
    d.wait_registered(leader, other_than=before, timeout=FAILOVER_BOUND + 5)
    d.wait_in_all_isrs(leader, timeout=HEAL_BOUND + 5)
    d.finish(settle=10)

    states = timeline.zk_states(d.history)
    registered = f"/brokers/ids/{leader}"
    t_expired = timeline.first(states, lambda v: registered not in v, after=t_fault)
    t_new_leader = timeline.first(states, lambda v: _state(d, v).get("leader") not in (None, -1, leader),
                                  after=t_fault)
    t_back = timeline.first(states, lambda v: v.get(registered, {}).get("czxid") not in (None, before), after=t_heal)
    t_rejoined = timeline.first(states, lambda v: all(leader in _state(d, v, p).get("isr", [])
                                                      for p in range(d.partitions)), after=t_back or t_heal)
    # From the expiry until the broker has a session again, it leads nothing: any ack is a zombie's.
    zombie = [(x["value"], x["offset"], round(x["mono"] - t_expired, 3))
              for p, x in timeline.producer_completions(d.history, 0, t_expired or t_heal, t_back or t_heal)
              if p == f"probe{leader}" and x["type"] == "ok"]
    d.notes.update({
        "leader": leader,
        "session_expired_after_s": None if t_expired is None else round(t_expired - t_fault, 2),
        "new_leader_after_s": None if t_new_leader is None else round(t_new_leader - t_fault, 2),
        "old_leader_acks_after_expiry": len(zombie),
        "reregistered_after_heal_s": None if t_back is None else round(t_back - t_heal, 2),
        "in_all_isrs_after_heal_s": None if t_rejoined is None else round(t_rejoined - t_heal, 2)})

    d.expect(t_new_leader is not None and t_new_leader - t_fault <= FAILOVER_BOUND,
             f"no new leader for p0 within {FAILOVER_BOUND} s")
    d.expect(t_expired is not None,
             f"broker {leader}'s session never expired during a 20 s cut")
    d.expect(not zombie,
             f"acks=all acks from broker {leader} after its session expired (value, offset, s): {zombie[:10]}")
    d.expect(t_back is not None and t_back - t_heal <= FAILOVER_BOUND,
             f"broker {leader} not registered again within {FAILOVER_BOUND} s of the heal")
    d.expect(t_rejoined is not None and t_rejoined - t_heal <= HEAL_BOUND,
             f"broker {leader} not back in every ISR within {HEAL_BOUND} s of the heal")
    d.expect(d.broker(leader).pid == pid,
             f"broker {leader} was restarted (pid {pid} -> {d.broker(leader).pid})")
    d.check_safe()
    d.conclude()


RESIGNED = "resigning as controller"


@pytest.mark.core  # fast (about 60 s) and stable, so core though §7.3 lists it as extended
@pytest.mark.timeout(400)
def test_d12_controller_cut_from_zookeeper(drill):
    """D12: the controller loses ZooKeeper for 20 s: another broker is controller within T_s + 5 s,
    and the old one resigns by itself within T_s + 2 s (its log says so), without waiting for ZooKeeper
    to come back; afterwards every broker agrees on one controller."""
    d = drill
    d.start_workload()
    controller = d.controller()
    epoch = d.controller_epoch()
    log = d.broker(controller).process.log_path
    offset = log.stat().st_size
    named = []  # (s since the fault, broker, controller id its Metadata names)
    seen = {"resigned": None, "claims": []}

    def during(t_fault):
        if seen["resigned"] is None:
            with open(log, "rb") as f:
                f.seek(offset)
                if RESIGNED in f.read().decode(errors="replace"):
                    seen["resigned"] = time.monotonic()
        for b in d.cluster.brokers:
            answer = netns.metadata(b.address, [], timeout=1.0)
            if answer is not None:
                named.append((round(time.monotonic() - t_fault, 1), b.broker_id, answer[1]))
        if time.monotonic() > t_fault + 19:  # by the brokers' own logs, at the end of the cut
            seen["claims"] = d.controller_claims()

    t_fault, _ = _cut_for(d, "cut-from-zookeeper", controller, lambda: d.cluster.topology.cut_zookeeper(controller),
                          20, during)
    t_resigned, claims = seen["resigned"], seen["claims"]
    d.finish(settle=10)

    states = timeline.zk_states(d.history)
    t_new = timeline.first(states, lambda v: (v.get("/controller") or {}).get("data", {}).get("brokerid")
                           not in (None, controller), after=t_fault)
    controllers = timeline.distinct(states, "/controller", lambda line: line["data"]["brokerid"])
    late = [c for c in named if c[0] > SESSION_TIMEOUT + 2 and c[1] == controller and c[2] == controller]
    d.notes.update({
        "controller": controller, "controller_epoch_before": epoch, "controller_epoch_after": d.controller_epoch(),
        "new_controller_after_s": None if t_new is None else round(t_new - t_fault, 2),
        "old_controller_resigned_after_s": None if t_resigned is None else round(t_resigned - t_fault, 2),
        "old_controller_metadata_names_itself_after_T_s_plus_2": len(late),
        "controller_claims_at_end_of_cut": sorted(claims),
        "controllers_over_time": controllers})

    d.expect(t_new is not None and t_new - t_fault <= FAILOVER_BOUND,
             f"no other controller within {FAILOVER_BOUND} s")
    d.expect(t_resigned is not None and t_resigned - t_fault <= SESSION_TIMEOUT + 2,
             f"broker {controller} did not log {RESIGNED!r} within {SESSION_TIMEOUT + 2} s of losing ZooKeeper")
    d.expect(len(claims) == 1 and controller not in claims,
             f"brokers acting as controller by their own logs at the end of the cut: {sorted(claims)} "
             f"(old controller {controller})")
    d.check_safe()  # includes: every broker's Metadata names the same controller after the heal
    d.conclude()
