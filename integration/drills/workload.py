#!/usr/bin/env python3
"""Workload processes of the failure drills, each run as its own OS process so that a stuck client
cannot stall a drill. Each writes one history file (JSON lines, the format checker.py reads) and
stops on SIGTERM: producers stop invoking, wait for outstanding deliveries (bounded), then exit.

  workload.py confluent-producer  --bootstrap B --topic T --partitions N --name NAME --rate R --out F
  workload.py kafka-python-producer  (same options; kafka-python 3.x)
  workload.py consumer   --bootstrap B --topic T --partitions N --name NAME --out F
  workload.py drain      --bootstrap B --topic T --partitions N --out F [--timeout S]
  workload.py probe      --broker HOST:PORT --broker-id ID --topic T --partition P --name NAME --out F
  workload.py leader-probe --bootstrap B --topic T --partitions N --name NAME --out F [--interval S]
  workload.py zkmon      --zookeeper HOST:PORT --out F

Every line carries "mono" (CLOCK_MONOTONIC, comparable between the processes of one machine) and
"wall" (Unix time). Producer outcomes follow reliability.md §8.1: "fail" only for errors certain to
be raised before append on a single attempt, "info" for everything else (timeouts, disconnects,
NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS_AFTER_APPEND, retried attempts).
"""

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # integration/, for kafkawire

# Errors raised before append, definite when the attempt was the only one (§8.1).
DEFINITE = {2: "CORRUPT_MESSAGE", 10: "MESSAGE_TOO_LARGE", 19: "NOT_ENOUGH_REPLICAS", 87: "INVALID_RECORD",
            29: "TOPIC_AUTHORIZATION_FAILED", 31: "CLUSTER_AUTHORIZATION_FAILED"}
# Of those, the ones a retrying client never retries: when a retrying client reports one, the
# batch had no earlier attempt that could have landed.
NON_RETRIED = {2, 10, 87, 29, 31}


class History:
    """One JSON-lines history file, safe to write from client callback threads."""

    def __init__(self, path, process, role, **start):
        self.f = open(path, "w", buffering=1)
        self.process = process
        self.lock = threading.Lock()
        self.write("start", role=role, pid=os.getpid(), **start)

    def write(self, kind, **fields):
        line = {"type": kind, "process": self.process, "mono": time.monotonic(), "wall": time.time(), **fields}
        with self.lock:
            self.f.write(json.dumps(line) + "\n")

    def close(self):
        with self.lock:
            self.f.flush()
            os.fsync(self.f.fileno())
            self.f.close()


class Stop:
    """Set by SIGTERM / SIGINT."""

    def __init__(self):
        self.event = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: self.event.set())
        signal.signal(signal.SIGINT, lambda *_: self.event.set())

    def __bool__(self):
        return self.event.is_set()


def paced(rate, stop, tick):
    """Yields sequence numbers at `rate` per second until `stop`; calls tick(seconds) while waiting.
    After a stall of more than 1 s it resumes from now instead of bursting to catch up."""
    start, seq = time.monotonic(), 0
    while not stop:
        due = start + seq / rate
        now = time.monotonic()
        if now < due:
            tick(min(due - now, 0.05))
            continue
        if now - due > 1.0:
            start = now - seq / rate
        yield seq
        seq += 1


# ---- producers -----------------------------------------------------------------------------------

def confluent_producer(a):
    from confluent_kafka import KafkaException, Producer, libversion, version
    h = History(a.out, a.name, "producer", client=f"confluent-kafka {version()[0]} (librdkafka {libversion()[0]})",
                idempotent=True, topic=a.topic)
    p = Producer({"bootstrap.servers": a.bootstrap, "acks": "all", "enable.idempotence": True,
                  "max.in.flight.requests.per.connection": 5, "delivery.timeout.ms": a.delivery_timeout_ms, "linger.ms": 5,
                  "error_cb": lambda e: h.write("client_error", error_code=e.code(), error=e.name(),
                                                fatal=e.fatal(), text=e.str())})

    def delivered(err, msg):
        v = msg.value().decode()
        if err is None:
            h.write("ok", value=v, partition=msg.partition(), offset=msg.offset())
            return
        definite = err.code() in NON_RETRIED and not err.retriable()
        h.write("fail" if definite else "info", value=v, partition=msg.partition(), error_code=err.code(),
                error=err.name(), text=err.str())

    stop = Stop()
    for seq in paced(a.rate, stop, p.poll):
        v, part = f"{a.name}-{seq}", seq % a.partitions
        h.write("invoke", value=v, partition=part)
        try:
            p.produce(a.topic, value=v.encode(), partition=part, on_delivery=delivered)
        except BufferError as e:  # local queue full: never sent
            h.write("fail", value=v, partition=part, error_code=-184, error="_QUEUE_FULL", text=str(e))
        except KafkaException as e:
            err = e.args[0]
            h.write("fail", value=v, partition=part, error_code=err.code(), error=err.name(), text=err.str())
        p.poll(0)
    h.write("stopping")
    left = p.flush(a.flush_timeout)
    h.write("stopped", undelivered=left)
    h.close()


def kafka_python_producer(a):
    import logging
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # to the workload log
    import kafka
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    retries = a.retries if a.retries is not None else float("inf")
    idempotent = retries > 0
    h = History(a.out, a.name, "producer", client=f"kafka-python {kafka.__version__}", idempotent=idempotent,
                retries=str(retries), topic=a.topic)
    p = KafkaProducer(bootstrap_servers=a.bootstrap.split(","), acks="all", enable_idempotence=idempotent,
                      retries=retries, max_in_flight_requests_per_connection=5 if idempotent else 1,
                      delivery_timeout_ms=a.delivery_timeout_ms, request_timeout_ms=20000, linger_ms=5, max_block_ms=10000)

    def ok(v, md):
        h.write("ok", value=v, partition=md.partition, offset=md.offset)

    def failed(v, part, exc):
        code = getattr(exc, "errno", None)
        single_attempt = retries == 0
        definite = code in DEFINITE and (single_attempt or code in NON_RETRIED)
        h.write("fail" if definite else "info", value=v, partition=part, error_code=code,
                error=type(exc).__name__, text=str(exc)[:200])

    stop = Stop()
    for seq in paced(a.rate, stop, time.sleep):
        v, part = f"{a.name}-{seq}", seq % a.partitions
        h.write("invoke", value=v, partition=part)
        try:
            f = p.send(a.topic, value=v.encode(), partition=part)
        except KafkaError as e:  # raised by send() itself: never handed to the network
            h.write("fail", value=v, partition=part, error_code=getattr(e, "errno", None),
                    error=type(e).__name__, text=str(e)[:200])
            continue
        f.add_callback(lambda md, v=v: ok(v, md))
        f.add_errback(lambda exc, v=v, part=part: failed(v, part, exc))
    h.write("stopping")
    try:
        p.flush(timeout=a.flush_timeout)
    except KafkaError as e:
        h.write("client_error", error=type(e).__name__, text=str(e)[:200])
    p.close(timeout=5)
    h.write("stopped")
    h.close()


# ---- consumers -------------------------------------------------------------------------------------

def _consumer(bootstrap, name):
    from confluent_kafka import Consumer
    return Consumer({"bootstrap.servers": bootstrap, "group.id": f"drill-{name}-{os.getpid()}",
                     "enable.auto.commit": False, "enable.auto.offset.store": False,
                     "auto.offset.reset": "earliest", "enable.partition.eof": False,
                     "fetch.wait.max.ms": 100, "topic.metadata.refresh.interval.ms": 2000})


def consumer(a):
    """assign() over every partition from the beginning; polls until SIGTERM. The generation goes up
    on every (re)assign or seek, including the client's own offset resets and truncation resets."""
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
    h = History(a.out, a.name, "consumer", topic=a.topic)
    stop = Stop()
    c, gen = _consumer(a.bootstrap, a.name), 1
    positions = {p: OFFSET_BEGINNING for p in range(a.partitions)}
    c.assign([TopicPartition(a.topic, p, o) for p, o in positions.items()])
    h.write("assign", gen=gen, positions=positions)
    resets = {KafkaError._AUTO_OFFSET_RESET, getattr(KafkaError, "_LOG_TRUNCATION", -139)}
    while not stop:
        for m in c.consume(num_messages=500, timeout=0.2):
            err = m.error()
            if err is not None:
                h.write("consumer_error", error_code=err.code(), error=err.name(), text=err.str(),
                        partition=m.partition())
                if err.code() in resets or err.fatal():
                    # The client moved its position by itself: a new generation, resumed from the
                    # last record seen (a fresh client after a fatal error).
                    gen += 1
                    if err.fatal():
                        c.close()
                        c = _consumer(a.bootstrap, a.name)
                    c.assign([TopicPartition(a.topic, p, o) for p, o in positions.items()])
                    h.write("assign", gen=gen, positions=positions, reason=err.name())
                continue
            v = m.value().decode() if m.value() is not None else None
            h.write("poll", gen=gen, partition=m.partition(), offset=m.offset(), value=v,
                    leader_epoch=m.leader_epoch())
            positions[m.partition()] = m.offset() + 1
    c.close()
    h.write("stopped")
    h.close()


def drain(a):
    """The final read: a fresh client assigns every partition from the beginning and reads until
    each partition reaches its ListOffsets end offset, the ends being stable across two checks."""
    from confluent_kafka import OFFSET_BEGINNING, TopicPartition
    h = History(a.out, "final-drain", "drain", topic=a.topic)
    c = _consumer(a.bootstrap, "drain")
    tps = [TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in range(a.partitions)]
    c.assign(tps)
    deadline = time.monotonic() + a.timeout
    reached = {p: 0 for p in range(a.partitions)}
    ends, previous, complete = {}, None, False

    def end_offsets():
        out = {}
        for p in range(a.partitions):
            try:
                out[p] = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=5, cached=False)[1]
            except Exception as e:  # noqa: BLE001 - a broker may still be failing over
                h.write("drain_error", partition=p, text=str(e)[:200])
                return None
        return out

    while time.monotonic() < deadline:
        ends = end_offsets()
        if ends is None:
            time.sleep(0.5)
            continue
        while time.monotonic() < deadline and any(reached[p] < ends[p] for p in ends):
            for m in c.consume(num_messages=1000, timeout=0.5):
                if m.error() is not None:
                    h.write("drain_error", partition=m.partition(), error_code=m.error().code(),
                            text=m.error().str())
                    continue
                v = m.value().decode() if m.value() is not None else None
                h.write("read", partition=m.partition(), offset=m.offset(), value=v, leader_epoch=m.leader_epoch())
                reached[m.partition()] = max(reached[m.partition()], m.offset() + 1)
            for tp in c.position(tps):
                if tp.offset >= 0:
                    reached[tp.partition] = max(reached[tp.partition], tp.offset)
        if all(reached[p] >= ends[p] for p in ends):
            if previous == ends:
                complete = True
                break
            previous = ends
            time.sleep(0.5)
    for p, e in sorted(ends.items()):
        h.write("end", partition=p, offset=e)
    h.write("drain_done", complete=complete, reached={str(p): o for p, o in reached.items()},
            ends={str(p): o for p, o in ends.items()})
    c.close()
    h.close()
    sys.exit(0 if complete else 3)


# ---- probes ----------------------------------------------------------------------------------------

def probe(a):
    """Raw Produce (acks=-1, one record, one request in flight, no retries) to one broker for one
    partition, so every answer is known to come from that broker: the zombie-leader check."""
    import kafkawire
    host, port = a.broker.rsplit(":", 1)
    h = History(a.out, a.name, "producer", client="raw Produce v3", idempotent=False, broker=a.broker_id,
                topic=a.topic)
    stop = Stop()
    conn, seq = None, 0
    while not stop:
        v = f"{a.name}-{seq}"
        seq += 1
        try:
            if conn is None:
                conn = kafkawire.Connection(host, int(port), timeout=30)
            h.write("invoke", value=v, partition=a.partition)
            err, base = kafkawire.produce(conn, a.topic, a.partition, kafkawire.record_batch([(None, v.encode(), [])]),
                                          acks=-1, timeout_ms=10000)
            if err == 0:
                h.write("ok", value=v, partition=a.partition, offset=base, broker=a.broker_id)
            else:
                h.write("fail" if err in DEFINITE else "info", value=v, partition=a.partition, error_code=err,
                        error=DEFINITE.get(err, str(err)), broker=a.broker_id)
        except (OSError, kafkawire.Closed, ValueError, TimeoutError) as e:
            if conn is not None:
                h.write("info", value=v, partition=a.partition, error_code=None, error=type(e).__name__,
                        text=str(e)[:200], broker=a.broker_id)
                conn.close()
                conn = None
            # else: not connected, nothing was sent for v (no invoke line was written)
        stop.event.wait(a.interval)
    h.write("stopped")
    h.close()


def leader_probe(a):
    """Raw Produce (acks=-1, one record, single attempt) to whichever broker Metadata names as the
    partition's leader, one thread per partition, 5 per second each. It follows a leader change at
    once and holds nothing in flight to a dead or paused broker for longer than 2 s, so its first
    ack after a fault measures when the cluster took writes again, apart from how long a client
    library keeps its requests pinned to the old leader."""
    import kafkawire
    h = History(a.out, a.name, "producer", client="raw Produce v3 to the current leader", idempotent=False,
                topic=a.topic)
    stop = Stop()
    addresses = a.bootstrap.split(",")

    def leader_of(p):
        for address in addresses:
            host, port = address.rsplit(":", 1)
            try:
                with kafkawire.Connection(host, int(port), timeout=1.0) as c:
                    brokers, _, topics = kafkawire.metadata(c, [a.topic])
                leader = topics[a.topic]["partitions"][p]["leader"]
                if leader in brokers:
                    return brokers[leader]
            except (OSError, kafkawire.Closed, ValueError, TimeoutError, KeyError):
                continue
        return None

    def run(p):
        seq, conn, target = 0, None, None
        while not stop:
            stop.event.wait(a.interval)
            if target is None:
                target = leader_of(p)
                if target is None:
                    continue
            v = f"{a.name}-{p}-{seq}"
            seq += 1
            try:
                if conn is None:
                    conn = kafkawire.Connection(target[0], target[1], timeout=2.0)
                h.write("invoke", value=v, partition=p)
                err, base = kafkawire.produce(conn, a.topic, p, kafkawire.record_batch([(None, v.encode(), [])]),
                                              acks=-1, timeout_ms=2000)
                if err == 0:
                    h.write("ok", value=v, partition=p, offset=base, broker=f"{target[0]}:{target[1]}")
                    continue
                h.write("fail" if err in DEFINITE else "info", value=v, partition=p, error_code=err,
                        error=DEFINITE.get(err, str(err)))
            except (OSError, kafkawire.Closed, ValueError, TimeoutError) as e:
                if conn is not None:
                    h.write("info", value=v, partition=p, error_code=None, error=type(e).__name__, text=str(e)[:200])
            if conn is not None:
                conn.close()
            conn, target = None, None

    threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in range(a.partitions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    h.write("stopped")
    h.close()


def zkmon(a):
    """Samples ZooKeeper every --interval s and writes a line whenever something changed: /controller,
    /controller_epoch, each /brokers/ids/N (with czxid = broker epoch, and the session owning it),
    and the state znode of every partition of every topic."""
    from kazoo.client import KazooClient
    from kazoo.exceptions import KazooException, NoNodeError
    h = History(a.out, "zkmon", "zkmon")
    stop = Stop()
    zk = KazooClient(hosts=a.zookeeper, timeout=10.0)
    zk.start(timeout=20)
    last = {}

    def note(path, value):
        if last.get(path, "absent") != value:
            last[path] = value
            if value is None:
                h.write("zk_gone", path=path)
            else:
                h.write("zk", path=path, **value)

    def get(path):
        try:
            data, st = zk.get(path)
        except NoNodeError:
            return None
        try:
            parsed = json.loads(data.decode()) if data else None
        except ValueError:
            parsed = data.decode(errors="replace")
        return {"data": parsed, "czxid": st.czxid, "mzxid": st.mzxid, "version": st.version,
                "owner": st.ephemeralOwner}

    while not stop:
        try:
            note("/controller", get("/controller"))
            note("/controller_epoch", get("/controller_epoch"))
            ids = set(zk.get_children("/brokers/ids")) if zk.exists("/brokers/ids") else set()
            for gone in [p for p in last if p.startswith("/brokers/ids/") and p.rsplit("/", 1)[1] not in ids]:
                note(gone, None)
            for i in sorted(ids):
                note(f"/brokers/ids/{i}", get(f"/brokers/ids/{i}"))
            topics = zk.get_children("/brokers/topics") if zk.exists("/brokers/topics") else []
            for t in sorted(topics):
                try:
                    parts = zk.get_children(f"/brokers/topics/{t}/partitions")
                except NoNodeError:
                    continue
                for p in sorted(parts, key=int):
                    path = f"/brokers/topics/{t}/partitions/{p}/state"
                    note(path, get(path))
        except KazooException as e:
            h.write("zk_error", text=f"{type(e).__name__}: {e}"[:200])
        stop.event.wait(a.interval)
    zk.stop()
    zk.close()
    h.write("stopped")
    h.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["confluent-producer", "kafka-python-producer", "consumer", "drain",
                                        "probe", "leader-probe", "zkmon"])
    ap.add_argument("--bootstrap")
    ap.add_argument("--topic", default="drill")
    ap.add_argument("--partitions", type=int, default=3)
    ap.add_argument("--name")
    ap.add_argument("--rate", type=float, default=170.0)
    ap.add_argument("--retries", type=int, default=None, help="kafka-python: 0 turns idempotence off")
    ap.add_argument("--flush-timeout", type=float, default=40.0)
    ap.add_argument("--delivery-timeout-ms", type=int, default=30000, help="producers: delivery.timeout.ms")
    ap.add_argument("--timeout", type=float, default=60.0, help="drain: overall bound in seconds")
    ap.add_argument("--broker")
    ap.add_argument("--broker-id", type=int)
    ap.add_argument("--partition", type=int, default=0)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--zookeeper")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    {"confluent-producer": confluent_producer, "kafka-python-producer": kafka_python_producer,
     "consumer": consumer, "drain": drain, "probe": probe, "leader-probe": leader_probe,
     "zkmon": zkmon}[a.command](a)


if __name__ == "__main__":
    main()
