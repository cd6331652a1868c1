"""Malformed input on raw sockets, built byte by byte: bad frame sizes, truncated headers, unknown APIs
and versions, negative lengths, corrupt record batches and a decompression bomb. Each gets Kafka's
answer (an error code, or a closed connection, as Kafka's SocketServer does for what it cannot parse);
afterwards the broker still answers, its memory has not jumped, and a consumer reading the partition
finds only the good records written around the bad input."""

import random
import struct
import time
import zlib

import crc32c
import pytest

import kafkawire as w
import util
from kafkawire import array, i16, i32, string

MAX_REQUEST = 4 * 1024 * 1024
BROKER_OVERRIDES = {"socket.request.max.bytes": str(MAX_REQUEST)}
RSS_GROWTH_LIMIT_KIB = 64 * 1024
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def warm(cluster):
    """Warms the broker up (connections, a topic, produce and fetch paths) before RSS baselines."""
    name = "warm-up"
    util.create_topic(cluster.bootstrap, name)
    util.produce(cluster.bootstrap, name, [dict(value=b"w" * 1000) for _ in range(2000)], {"compression.type": "gzip"})
    util.consume(cluster.bootstrap, name, count=2000)
    return cluster


class Scenario:
    """A topic with one good record before the bad input and one after; `check()` verifies the
    broker's health and that the partition holds exactly the good records."""

    def __init__(self, cluster, topic):
        self.cluster = cluster
        self.broker = cluster.brokers[0]
        self.topic = topic
        util.create_topic(cluster.bootstrap, topic)
        self.produce_good(b"good-before")
        self.rss_before = self.broker.rss_kib()

    def connect(self, timeout=10.0):
        return w.Connection(HOST, self.broker.port, timeout=timeout)

    def produce_good(self, value):
        with self.connect() as c:
            err, _ = w.produce(c, self.topic, 0, w.record_batch([(None, value, [])]))
        assert err == 0, f"good produce answered error {err}"

    def produce_bad(self, records, allowed, conn=None):
        """Sends one Produce v3 carrying `records`; asserts the partition error is in `allowed`."""
        own = conn is None
        conn = conn or self.connect(timeout=30)
        try:
            err, base = w.produce(conn, self.topic, 0, records)
        finally:
            if own:
                conn.close()
        assert err in allowed, f"Produce answered error {err} (offset {base}); expected one of {sorted(allowed)}"
        return err

    def expect_closed(self, data, what, half_close=False):
        with self.connect() as c:
            try:
                c.send(data)
                if half_close:
                    c.sock.shutdown(1)
            except w.Closed:
                return
            assert c.wait_closed(10), f"the broker kept the connection open after {what}"

    def check(self):
        assert self.broker.process.running(), "the broker died"
        assert w.answers(HOST, self.broker.port, timeout=10), "the broker no longer answers ApiVersions"
        self.produce_good(b"good-after")
        got = util.consume(self.cluster.bootstrap, self.topic)
        assert [(m.offset(), m.value()) for m in got] == [(0, b"good-before"), (1, b"good-after")], \
            "the partition holds other records than the good ones"
        growth = self.broker.rss_kib() - self.rss_before
        assert growth < RSS_GROWTH_LIMIT_KIB, f"RSS grew by {growth // 1024} MiB"


@pytest.fixture
def scenario(warm, topic):
    s = Scenario(warm, topic)
    yield s


def frame(payload):
    return i32(len(payload)) + payload


def header(api_key, version, correlation=7, client_id="bad-input"):
    return i16(api_key) + i16(version) + i32(correlation) + string(client_id)


# ---- framing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [-1, 0, 2**31 - 1, MAX_REQUEST + 1, -2**31],
                         ids=["minus-one", "zero", "int32-max", "just-over-max", "int32-min"])
def test_bad_frame_size(scenario, size):
    # Only the size is sent: a broker must refuse it without waiting for (or allocating) the body.
    data = struct.pack(">i", size)
    scenario.expect_closed(data, f"a frame size of {size}", half_close=(size == 0))
    scenario.check()


def test_frame_at_the_limit_is_read(scenario):
    # Just under socket.request.max.bytes the frame is read, and the batch is refused for its size.
    value = b"v" * (MAX_REQUEST - 4096)
    err = scenario.produce_bad(w.record_batch([(None, value, [])]), {w.MESSAGE_TOO_LARGE})
    assert err == w.MESSAGE_TOO_LARGE
    scenario.check()


@pytest.mark.parametrize("payload", [b"\x00", b"\x00\x12\x00", b"\x00\x12\x00\x00\x00\x00", header(3, 1)[:9],
                                     i16(3) + i16(1) + i32(1) + i16(40) + b"short"],
                         ids=["1-byte", "3-bytes", "6-bytes", "cut-in-client-id", "client-id-past-end"])
def test_truncated_header(scenario, payload):
    scenario.expect_closed(frame(payload), "a truncated request header")
    scenario.check()


def test_frame_cut_short_by_the_client(scenario):
    # Announces 1000 bytes, sends 10, and closes: the broker drops the connection, nothing else.
    with scenario.connect() as c:
        c.send(i32(1000) + header(18, 0)[:10])
    time.sleep(0.5)
    scenario.check()


# ---- API keys and versions ---------------------------------------------------------------------------

@pytest.mark.parametrize("api_key", [9999, -1, 67, 32767])
def test_unknown_api_key(scenario, api_key):
    scenario.expect_closed(frame(header(api_key, 0)), f"API key {api_key}")
    scenario.check()


def test_unsupported_api_versions_version(scenario):
    # KIP-511: answered in v0 format, UNSUPPORTED_VERSION, listing only ApiVersions' own range.
    with scenario.connect() as c:
        # Versions >= 3 are flexible: header v2 (client id, then an empty tagged-field section), and
        # a v3-shaped body (compact strings client_software_name/version, tags), which is not parsed.
        body = b"\x05odr1" + b"\x041.0" + b"\x00"
        c.send(frame(header(18, 99, correlation=42) + b"\x00" + body))
        r = w.Reader(c.recv_frame())
        assert r.i32() == 42
        error = r.i16()
        keys = [(r.i16(), r.i16(), r.i16()) for _ in range(r.i32())]
        assert error == w.UNSUPPORTED_VERSION
        assert len(keys) == 1 and keys[0][0] == 18 and keys[0][1] == 0 and keys[0][2] >= 2, keys
        assert r.remaining() == 0
        # The connection goes on: the client retries with a version the broker has.
        err, versions = w.api_versions(c, keys[0][2] if keys[0][2] <= 2 else 2)
        assert err == 0 and 18 in versions
    scenario.check()


@pytest.mark.parametrize("api_key,version", [(3, 99), (0, 2), (0, 99), (1, 3), (1, 99), (19, 99)],
                         ids=["metadata-99", "produce-2", "produce-99", "fetch-3", "fetch-99", "createtopics-99"])
def test_unsupported_version_closes(scenario, api_key, version):
    scenario.expect_closed(frame(header(api_key, version) + array([])), f"API {api_key} v{version}")
    scenario.check()


# ---- negative and oversized lengths -----------------------------------------------------------------

@pytest.mark.parametrize("body", [i32(-1), i32(-2), i32(-2**31), i32(2**31 - 1), i32(3) + string("a")],
                         ids=["array-minus-1", "array-minus-2", "array-int32-min", "array-int32-max", "array-count-past-end"])
def test_metadata_bad_array_count(scenario, body):
    # Metadata v0's topic array is not nullable (from v1 on, any negative count reads as null = all).
    scenario.expect_closed(frame(header(3, 0) + body), "a Metadata v0 request with a bad topic count")
    scenario.check()


@pytest.mark.parametrize("body", [i32(1) + i16(-3), i32(1) + i16(30000) + b"abc", i32(1) + i16(-32768)],
                         ids=["string-minus-3", "string-past-end", "string-int16-min"])
def test_metadata_bad_string_length(scenario, body):
    scenario.expect_closed(frame(header(3, 1) + body), "a Metadata request with a bad topic name length")
    scenario.check()


def test_negative_client_id_length(scenario):
    # client_id is a nullable string: Kafka reads any negative length as null and answers.
    payload = i16(18) + i16(0) + i32(5) + i16(-7)
    with scenario.connect() as c:
        c.send(frame(payload))
        try:
            r = w.Reader(c.recv_frame())
        except w.Closed:
            r = None
        if r is not None:
            assert r.i32() == 5 and r.i16() == 0, "not an ApiVersions v0 answer"
    scenario.check()


@pytest.mark.parametrize("case", ["topics-minus-5", "partitions-minus-7", "records-past-end", "topic-name-minus-2"])
def test_produce_bad_lengths(scenario, case):
    t = scenario.topic
    batch = w.record_batch([(None, b"bad-" + case.encode(), [])])
    body = {
        "topics-minus-5": string(None) + i16(-1) + i32(5000) + i32(-5),
        "partitions-minus-7": string(None) + i16(-1) + i32(5000) + i32(1) + string(t) + i32(-7),
        "records-past-end": string(None) + i16(-1) + i32(5000) + array([string(t) + array([i32(0) + i32(len(batch) + 500) + batch])]),
        "topic-name-minus-2": string(None) + i16(-1) + i32(5000) + i32(1) + i16(-2) + array([i32(0) + w.nbytes(batch)]),
    }[case]
    scenario.expect_closed(frame(header(0, 3) + body), f"a Produce request with {case}")
    scenario.check()


def test_produce_negative_records_length(scenario):
    # records is NULLABLE_BYTES: Kafka reads -9 as null. Either the connection closes or the
    # partition gets an error; nothing is written.
    body = string(None) + i16(-1) + i32(5000) + array([string(scenario.topic) + array([i32(0) + i32(-9)])])
    with scenario.connect() as c:
        c.send(frame(header(0, 3, correlation=9) + body))
        try:
            r = w.Reader(c.recv_frame())
        except w.Closed:
            r = None
        if r is not None:
            assert r.i32() == 9
            assert r.i32() == 1 and r.string() == scenario.topic and r.i32() == 1
            partition, error = r.i32(), r.i16()
            assert partition == 0 and error != 0, "null records were accepted"
    scenario.check()


# ---- record batches ------------------------------------------------------------------------------------

def records(tag, n=3):
    return [(f"k{i}".encode(), f"bad-{tag}-{i}".encode(), [(b"h", b"v")]) for i in range(n)]


def test_bad_crc(scenario):
    scenario.produce_bad(w.record_batch(records("crc"), bad_crc=True), {w.CORRUPT_MESSAGE})
    scenario.produce_bad(w.record_batch(records("crc-gzip"), compression=1, bad_crc=True), {w.CORRUPT_MESSAGE})
    scenario.check()


@pytest.mark.parametrize("magic", [0, 1, 3, -1])
def test_wrong_magic(scenario, magic):
    scenario.produce_bad(w.record_batch(records(f"magic{magic}"), magic=magic), {w.CORRUPT_MESSAGE, w.INVALID_RECORD})
    scenario.check()


@pytest.mark.parametrize("last_offset_delta,records_count", [(7, 3), (2, 5), (2, 2), (-1, 3), (2, 0), (2, -1)])
def test_record_count_disagrees(scenario, last_offset_delta, records_count):
    batch = w.record_batch(records(f"count{last_offset_delta}-{records_count}"),
                           last_offset_delta=last_offset_delta, records_count=records_count)
    scenario.produce_bad(batch, {w.CORRUPT_MESSAGE, w.INVALID_RECORD})
    scenario.check()


def test_count_disagrees_in_compressed_batch(scenario):
    batch = w.record_batch(records("gz-count"), compression=1, last_offset_delta=5, records_count=6)
    scenario.produce_bad(batch, {w.CORRUPT_MESSAGE, w.INVALID_RECORD})
    scenario.check()


def test_truncated_batch(scenario):
    batch = w.record_batch(records("truncated"))
    # The batch's length field says more than the records field holds.
    scenario.produce_bad(batch[:-5], {w.CORRUPT_MESSAGE, w.INVALID_RECORD})
    scenario.check()


def test_garbage_in_compressed_batch(scenario):
    blob = b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4
    batch = w.record_batch(records("garbage"), compression=1, records_blob=blob)
    scenario.produce_bad(batch, {w.CORRUPT_MESSAGE, w.INVALID_RECORD})
    scenario.check()


def test_unknown_codec(scenario):
    batch = w.record_batch(records("codec7"), compression=0)
    # Set attributes' codec bits to 7 (no such codec) and recompute the CRC.
    body = bytearray(batch)
    body[21:23] = i16(7)
    body[17:21] = struct.pack(">I", crc32c.crc32c(bytes(body[21:])))
    scenario.produce_bad(bytes(body), {w.CORRUPT_MESSAGE, w.INVALID_RECORD, w.UNSUPPORTED_COMPRESSION_TYPE})
    scenario.check()


def test_control_batch_from_a_client(scenario):
    batch = bytearray(w.record_batch([(i16(0) + i16(1), i16(0) + i32(0), [])]))
    batch[21:23] = i16(0x20)
    batch[17:21] = struct.pack(">I", crc32c.crc32c(bytes(batch[21:])))
    scenario.produce_bad(bytes(batch), {w.INVALID_RECORD})
    scenario.check()


def test_two_batches_in_one_partition(scenario):
    two = w.record_batch(records("two-a", 1)) + w.record_batch(records("two-b", 1))
    scenario.produce_bad(two, {w.INVALID_RECORD})
    scenario.check()


def test_decompression_bomb(scenario):
    # 320 records of 1 MiB of zeros each: 320 MiB inflated, about 330 KB as gzip, so the request
    # passes message.max.bytes and socket.request.max.bytes and only the inflated size is wrong.
    zeros = bytes(1 << 20)
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [c.compress(w.encode_record(i, None, zeros)) for i in range(320)]
    parts.append(c.flush())
    blob = b"".join(parts)
    assert len(blob) < 1_000_000
    batch = w.record_batch([(None, b"", [])] * 320, compression=1, records_blob=blob)
    scenario.produce_bad(batch, {w.CORRUPT_MESSAGE, w.MESSAGE_TOO_LARGE, w.INVALID_RECORD})
    # And a bomb that is one single record claiming 320 MiB.
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    one = w.varint(320 << 20) + b"\x00" + w.varint(0) + w.varint(0) + w.varint(-1) + w.varint((320 << 20) - 16)
    blob = c.compress(one) + b"".join(c.compress(zeros) for _ in range(320)) + c.flush()
    batch = w.record_batch([(None, b"", [])], compression=1, records_blob=blob)
    scenario.produce_bad(batch, {w.CORRUPT_MESSAGE, w.MESSAGE_TOO_LARGE, w.INVALID_RECORD})
    scenario.check()


def test_errors_keep_the_connection(scenario):
    # Refused batches are answered on the same connection, which keeps working.
    with scenario.connect() as c:
        scenario.produce_bad(w.record_batch(records("keep-1"), bad_crc=True), {w.CORRUPT_MESSAGE}, conn=c)
        scenario.produce_bad(w.record_batch(records("keep-2"), last_offset_delta=9), {w.CORRUPT_MESSAGE, w.INVALID_RECORD}, conn=c)
        err, versions = w.api_versions(c, 0)
        assert err == 0 and w.PRODUCE in versions
    scenario.check()


def test_garbage_stream(scenario):
    # Random bytes from a fixed seed, several times: the broker only closes connections.
    rng = random.Random(1234)
    for _ in range(20):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        with scenario.connect(timeout=3) as c:
            try:
                c.send(data)
                c.sock.shutdown(1)
                c.wait_closed(3)
            except w.Closed:
                pass
    scenario.check()


# ---- well-formed requests for things that do not exist ------------------------------------------

def test_error_codes_for_missing_things(scenario):
    t = scenario.topic
    good = w.record_batch([(None, b"bad-missing", [])])
    with scenario.connect() as c:
        assert w.fetch(c, t, 0, 1000)[0] == 1, "fetch past the end: OFFSET_OUT_OF_RANGE"
        assert w.fetch(c, t, 0, -5)[0] == 1, "fetch at a negative offset: OFFSET_OUT_OF_RANGE"
        assert w.fetch(c, t, 99, 0)[0] == w.UNKNOWN_TOPIC_OR_PARTITION
        assert w.fetch(c, t + "-nope", 0, 0)[0] == w.UNKNOWN_TOPIC_OR_PARTITION
        assert w.produce(c, t, 99, good)[0] == w.UNKNOWN_TOPIC_OR_PARTITION
        # acks must be -1, 0 or 1: INVALID_REQUIRED_ACKS.
        assert w.produce(c, t, 0, good, acks=2)[0] == 21
        err, versions = w.api_versions(c, 0)
        assert err == 0
    scenario.check()
