"""Kafka's wire protocol built by hand with struct, for readiness checks and malformed input.

Only what the suite needs: request framing, ApiVersions, Metadata v1, Produce v3, Fetch v4 and
record batch v2 (with CRC-32C). Everything is written from Kafka's protocol description, not
from any client library, so a test can send exactly the bytes it wants, broken ones included.
"""

import gzip
import socket
import struct
import time
import zlib

import crc32c as _crc32c

# API keys
PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS = 0, 1, 2, 3, 18

# Error codes (Kafka's Errors.java)
NONE = 0
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42
UNSUPPORTED_COMPRESSION_TYPE = 76
INVALID_RECORD = 87


class Closed(Exception):
    """The broker closed the connection (EOF or reset)."""


# ---- primitive encoders ---------------------------------------------------------------------

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    """STRING / NULLABLE_STRING: int16 length (-1 = null), UTF-8 bytes."""
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nbytes(b):
    """BYTES / NULLABLE_BYTES: int32 length (-1 = null)."""
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, count=None):
    """ARRAY: int32 count (-1 = null), then the encoded items."""
    if items is None:
        return i32(-1)
    return i32(len(items) if count is None else count) + b"".join(items)


def varint(v):
    """Zig-zag varint (record format)."""
    v = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"read past the end: {n} bytes at {self.pos} of {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i8(self):
        return struct.unpack(">b", self.take(1))[0]

    def i16(self):
        return struct.unpack(">h", self.take(2))[0]

    def i32(self):
        return struct.unpack(">i", self.take(4))[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def nbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, item):
        n = self.i32()
        return None if n < 0 else [item(self) for _ in range(n)]

    def uvarint(self):
        shift = result = 0
        while True:
            b = self.take(1)[0]
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def varint(self):
        u = self.uvarint()
        return (u >> 1) ^ -(u & 1)

    def remaining(self):
        return len(self.data) - self.pos


# ---- framing --------------------------------------------------------------------------------

def request(api_key, version, correlation_id, body, client_id="odradek-wire"):
    """A whole frame: int32 size, request header v1, body."""
    payload = i16(api_key) + i16(version) + i32(correlation_id) + string(client_id) + body
    return i32(len(payload)) + payload


class Connection:
    """One TCP connection to a broker, every operation bounded by `timeout` seconds."""

    def __init__(self, host, port, timeout=10.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.correlation = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as e:
            raise Closed(str(e))

    def _recv_exact(self, n):
        chunks = []
        deadline = time.monotonic() + self.timeout
        while n > 0:
            if time.monotonic() > deadline:
                raise TimeoutError("no complete answer within %.1f s" % self.timeout)
            try:
                chunk = self.sock.recv(min(n, 1 << 20))
            except ConnectionResetError as e:
                raise Closed(str(e))
            if not chunk:
                raise Closed("EOF")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv_frame(self):
        """The next response frame's payload (after the size), or Closed."""
        size = struct.unpack(">i", self._recv_exact(4))[0]
        if size < 4 or size > 256 << 20:
            raise ValueError(f"implausible response size {size}")
        return self._recv_exact(size)

    def call(self, api_key, version, body, client_id="odradek-wire"):
        """Sends one request and returns a Reader positioned after the response header v0."""
        self.correlation += 1
        corr = self.correlation
        self.send(request(api_key, version, corr, body, client_id))
        frame = self.recv_frame()
        r = Reader(frame)
        got = r.i32()
        if got != corr:
            raise ValueError(f"correlation id {got}, expected {corr}")
        return r

    def wait_closed(self, timeout=5.0):
        """True if the broker closes the connection (EOF or reset) within `timeout` seconds.
        Any bytes it sends first are read and ignored."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not data:
                return True
        return False


# ---- requests ---------------------------------------------------------------------------------

def api_versions(conn, version=0):
    """{api_key: (min, max)} and the error code. ApiVersions v0..v2 are non-flexible."""
    r = conn.call(API_VERSIONS, version, b"")
    error = r.i16()
    keys = {}
    for _ in range(r.i32()):
        k, lo, hi = r.i16(), r.i16(), r.i16()
        keys[k] = (lo, hi)
    return error, keys


def metadata(conn, topics=None, version=1):
    """Metadata v1 (topics None = all). Returns (brokers {id: (host, port)}, controller, topics)."""
    body = array(None if topics is None else [string(t) for t in topics])
    r = conn.call(METADATA, version, body)
    brokers = {}
    for _ in range(r.i32()):
        node, host, port, _rack = r.i32(), r.string(), r.i32(), r.string()
        brokers[node] = (host, port)
    controller = r.i32()
    result = {}
    for _ in range(r.i32()):
        err, name, _internal = r.i16(), r.string(), r.i8()
        parts = {}
        for _ in range(r.i32()):
            perr, pid, leader = r.i16(), r.i32(), r.i32()
            replicas = r.array(lambda x: x.i32())
            isr = r.array(lambda x: x.i32())
            parts[pid] = {"error": perr, "leader": leader, "replicas": replicas, "isr": isr}
        result[name] = {"error": err, "partitions": parts}
    return brokers, controller, result


def produce_body(topic, partition, records, acks=-1, timeout_ms=10000):
    """Produce v3 body with one partition's records (bytes, sent as they are)."""
    return (string(None) + i16(acks) + i32(timeout_ms)
            + array([string(topic) + array([i32(partition) + nbytes(records)])]))


def produce(conn, topic, partition, records, acks=-1, timeout_ms=10000):
    """Produce v3; returns (error_code, base_offset)."""
    r = conn.call(PRODUCE, 3, produce_body(topic, partition, records, acks, timeout_ms))
    results = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            _p, err, base, _lat = r.i32(), r.i16(), r.i64(), r.i64()
            results.append((err, base))
    assert len(results) == 1, results
    return results[0]


def fetch(conn, topic, partition, offset, max_bytes=1 << 20, version=4, current_leader_epoch=-1):
    """Fetch v4 or v11 (sessionless; v9+ carries `current_leader_epoch`, KIP-320); returns
    (error_code, high_watermark, records bytes)."""
    part = i32(partition) + (i32(current_leader_epoch) if version >= 9 else b"") + i64(offset) \
        + (i64(-1) if version >= 5 else b"") + i32(max_bytes)
    body = i32(-1) + i32(100) + i32(0) + i32(max_bytes) + i8(0)
    if version >= 7:
        body += i32(0) + i32(-1)
    body += array([string(topic) + array([part])])
    if version >= 7:
        body += array([])
    if version >= 11:
        body += string("")
    r = conn.call(FETCH, version, body)
    r.i32()  # throttle
    if version >= 7:
        top_error, _session = r.i16(), r.i32()
        if top_error:
            return top_error, -1, b""
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            _p, err, hw, _lso = r.i32(), r.i16(), r.i64(), r.i64()
            if version >= 5:
                r.i64()
            r.array(lambda x: (x.i64(), x.i64()))
            if version >= 11:
                r.i32()
            records = r.nbytes()
            return err, hw, records or b""
    raise ValueError("empty fetch response")


def init_producer_id(conn, transactional_id=None, timeout_ms=60000):
    """InitProducerId v0; returns (error_code, producer_id, producer_epoch)."""
    r = conn.call(22, 0, string(transactional_id) + i32(timeout_ms))
    r.i32()  # throttle
    return r.i16(), r.i64(), r.i16()


def batch_headers(data):
    """[(base_offset, attributes, records_count, last_offset_delta)] of every whole batch in `data`."""
    out = []
    r = Reader(data)
    while r.remaining() >= 12:
        base_offset, length = r.i64(), r.i32()
        if length > r.remaining():
            break
        b = Reader(r.take(length))
        b.i32(), b.i8(), b.u32()
        attrs, last_delta = b.i16(), b.i32()
        b.take(30)
        out.append((base_offset, attrs, b.i32(), last_delta))
    return out


# ---- record batch v2 ----------------------------------------------------------------------------

def encode_record(offset_delta, key, value, headers=(), timestamp_delta=0):
    body = (i8(0) + varint(timestamp_delta) + varint(offset_delta)
            + (varint(-1) if key is None else varint(len(key)) + key)
            + (varint(-1) if value is None else varint(len(value)) + value)
            + varint(len(headers))
            + b"".join(varint(len(k)) + k + (varint(-1) if v is None else varint(len(v)) + v)
                       for k, v in headers))
    return varint(len(body)) + body


def record_batch(records, compression=0, base_timestamp=None, producer_id=-1, producer_epoch=-1,
                 base_sequence=-1, magic=2, last_offset_delta=None, records_count=None,
                 records_blob=None, bad_crc=False):
    """A record batch v2. `records` is a list of (key, value, headers) tuples; the knobs let a
    test break one field at a time. `records_blob` replaces the (possibly compressed) records."""
    if base_timestamp is None:
        base_timestamp = int(time.time() * 1000)
    raw = b"".join(encode_record(i, k, v, h) for i, (k, v, h) in enumerate(records))
    if records_blob is None:
        records_blob = compress(compression, raw)
    n = len(records)
    after_crc = (i16(compression) + i32(n - 1 if last_offset_delta is None else last_offset_delta)
                 + i64(base_timestamp) + i64(base_timestamp) + i64(producer_id) + i16(producer_epoch)
                 + i32(base_sequence) + i32(n if records_count is None else records_count) + records_blob)
    crc = _crc32c.crc32c(after_crc)
    if bad_crc:
        crc ^= 0xDEADBEEF
    after_length = i32(0) + i8(magic) + struct.pack(">I", crc) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


def compress(codec, data):
    if codec == 0:
        return data
    if codec == 1:
        return gzip.compress(data)
    raise ValueError(f"codec {codec} not built by hand here")


def gzip_bomb(inflated_size, chunk=1 << 20):
    """A gzip stream of `inflated_size` zero bytes, compressed in pieces (about 1000:1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(chunk)
    parts = []
    left = inflated_size
    while left > 0:
        n = min(chunk, left)
        parts.append(c.compress(zeros[:n]))
        left -= n
    parts.append(c.flush())
    return b"".join(parts)


def decode_batches(data):
    """[(offset, key, value, headers, timestamp)] of every uncompressed or gzip batch in `data`
    (a fetch response's records); a partial batch at the end is ignored, as clients do."""
    out = []
    r = Reader(data)
    while r.remaining() >= 12:
        base_offset = r.i64()
        length = r.i32()
        if length > r.remaining():
            break
        b = Reader(r.take(length))
        b.i32()
        magic = b.i8()
        assert magic == 2, magic
        b.u32()
        attrs = b.i16()
        b.i32()
        base_ts = b.i64()
        b.i64(), b.i64(), b.i16(), b.i32()
        count = b.i32()
        blob = b.take(b.remaining())
        codec = attrs & 7
        if codec == 1:
            blob = gzip.decompress(blob)
        elif codec != 0:
            raise ValueError(f"codec {codec} not decoded here")
        rr = Reader(blob)
        for _ in range(count):
            rr.varint()
            rr.i8()
            ts = base_ts + rr.varint()
            od = rr.varint()
            kl = rr.varint()
            key = None if kl < 0 else rr.take(kl)
            vl = rr.varint()
            value = None if vl < 0 else rr.take(vl)
            headers = []
            for _ in range(rr.varint()):
                hk = rr.take(rr.varint())
                hl = rr.varint()
                headers.append((hk, None if hl < 0 else rr.take(hl)))
            out.append((base_offset + od, key, value, headers, ts))
    return out


def answers(host, port, timeout=2.0):
    """True if a Kafka ApiVersions v0 round trip succeeds on a fresh connection."""
    try:
        with Connection(host, port, timeout=timeout) as c:
            err, keys = api_versions(c, 0)
            return err == 0 and API_VERSIONS in keys
    except (OSError, Closed, ValueError, TimeoutError):
        return False
