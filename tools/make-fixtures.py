#!/usr/bin/env python3
"""Generates test fixtures from a real Kafka client (kafka-python) and the codec libraries it uses.

Outputs (run from anywhere; paths are relative to the repository root):
  Tests/KafkaRecordsTests/Fixtures/kafka-python-<codec>.bin / .json       ~5-record v2 batch per codec
  Tests/KafkaRecordsTests/Fixtures/kafka-python-<codec>-big.bin / .json   200-record batch per codec
  Tests/KafkaRecordsTests/Fixtures/raw-snappy.bin / .json (and -big)      the snappy batches with the payload
      re-compressed as ONE raw snappy block (what librdkafka writes), length and CRC fixed up
  Tests/KafkaCompressionTests/ClientPayloads.swift                        codec payloads embedded as base64

The .bin files are the raw batch bytes as a producer sends them (base offset 0). The .json files hold the
batch header fields and the records exactly as appended (key and value base64 or null; headers as
{"key": UTF-8 string, "value": base64 or null}); the script cross-checks them against kafka-python's reader.

Needs: kafka-python, python-snappy, lz4, zstandard (tools/setup installs them).
Regenerate: python3 tools/make-fixtures.py
"""

import base64
import importlib.metadata
import json
import os
import struct
import sys

import kafka
import kafka.codec as codec
import lz4.frame
import snappy
import zstandard
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder
from kafka.record.util import calc_crc32c

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDS_FIXTURES = os.path.join(ROOT, "Tests", "KafkaRecordsTests", "Fixtures")
PAYLOADS_SWIFT = os.path.join(ROOT, "Tests", "KafkaCompressionTests", "ClientPayloads.swift")

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
# baseOffset q, batchLength i, partitionLeaderEpoch i, magic b, crc I, attributes h, lastOffsetDelta i,
# firstTimestamp q, maxTimestamp q, producerId q, producerEpoch h, baseSequence i, recordsCount i
HEADER = struct.Struct(">qiibIhiqqqhii")
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21
BASE_TIMESTAMP = 1700000000000
GZIP_BOMB_ZEROS = 8 * 1024 * 1024


def versions():
    out = {}
    for name in ["kafka-python", "python-snappy", "lz4", "zstandard"]:
        out[name] = importlib.metadata.version(name)
    out["python"] = sys.version.split()[0]
    return out


def b64(data):
    return None if data is None else base64.b64encode(bytes(data)).decode("ascii")


def small_records():
    """5 records: null key, keys, a tombstone, headers incl. a null header value, non-monotonic timestamps."""
    text = b"the quick brown fox jumps over the lazy dog; "
    return [
        # (offset delta, timestamp, key, value, headers)
        (0, BASE_TIMESTAMP, None, text * 3, []),
        (1, BASE_TIMESTAMP + 5, b"key-1", text * 2 + b"value one", [("h1", b"v1"), ("h2", None)]),
        (2, BASE_TIMESTAMP + 1, b"key-2", None, []),
        (3, BASE_TIMESTAMP + 1000, b"k\x00\xff-binary", b"\x00\x01\xfe\xff" + text * 2, [("trace-id", b"\x00" * 8)]),
        (4, BASE_TIMESTAMP + 999, b"key-4", b"", [("empty", b"")]),
    ]


def big_records():
    """200 records with repetitive values so every codec really compresses."""
    records = []
    for i in range(200):
        key = None if i % 50 == 0 else ("key-%d" % (i % 10)).encode()
        value = None if i % 67 == 66 else (("payload-%d " % (i % 7)) * 2).encode()
        headers = [("seq", str(i).encode())] if i % 3 == 0 else []
        if i % 40 == 7:
            headers.append(("nullable", None))
        records.append((i, BASE_TIMESTAMP + 3 * i - (i % 4), key, value, headers))
    return records


def build(codec_name, records, producer_id=-1, producer_epoch=-1, base_sequence=-1):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=CODECS[codec_name], is_transactional=False,
        producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
        batch_size=1024 * 1024)
    for offset, timestamp, key, value, headers in records:
        if builder.append(offset, timestamp, key, value, headers) is None:
            raise SystemExit("builder refused a record")
    data = bytes(builder.build())
    attributes = HEADER.unpack_from(data)[5]
    if attributes & 0x07 != CODECS[codec_name]:
        # kafka-python silently falls back to no compression when it does not pay off.
        raise SystemExit("%s: batch was not compressed (attributes %d)" % (codec_name, attributes))
    return data


def uncompressed_records_section(records):
    """The records section as it is before compression (a 'none' batch of the same records)."""
    return build("none", records)[HEADER.size:]


def header_fields(data):
    (base_offset, batch_length, leader_epoch, magic, crc, attributes, last_offset_delta, first_ts, max_ts,
     producer_id, producer_epoch, base_sequence, count) = HEADER.unpack_from(data)
    return {
        "base_offset": base_offset, "batch_length": batch_length, "partition_leader_epoch": leader_epoch,
        "magic": magic, "crc": crc, "attributes": attributes, "last_offset_delta": last_offset_delta,
        "first_timestamp": first_ts, "max_timestamp": max_ts, "producer_id": producer_id,
        "producer_epoch": producer_epoch, "base_sequence": base_sequence, "records_count": count,
    }


def expected_records(records):
    return [{
        "offset_delta": offset, "timestamp": timestamp, "timestamp_delta": timestamp - records[0][1],
        "key": b64(key), "value": b64(value),
        "headers": [{"key": hk, "value": b64(hv)} for hk, hv in headers],
    } for offset, timestamp, key, value, headers in records]


def cross_check(data, records):
    """kafka-python's reader must see exactly what was appended (also checks the CRC)."""
    batch = DefaultRecordBatch(bytearray(data))
    if not batch.validate_crc():
        raise SystemExit("bad CRC")
    got = [(r.offset, r.timestamp, r.key, r.value, [(k, v) for k, v in r.headers]) for r in batch]
    want = [(o, t, k, v, h) for o, t, k, v, h in records]
    if [(o, t, None if k is None else bytes(k), None if v is None else bytes(v), h) for o, t, k, v, h in got] != want:
        raise SystemExit("kafka-python reads back different records")


def write_batch(name, data, records, codec_name, note, meta):
    with open(os.path.join(RECORDS_FIXTURES, name + ".bin"), "wb") as f:
        f.write(data)
    section = uncompressed_records_section(records)
    doc = {
        "generator": "tools/make-fixtures.py",
        "note": note,
        "versions": meta,
        "codec": codec_name,
        "size": len(data),
        "batch": header_fields(data),
        "payload_offset": HEADER.size,
        "payload_size": len(data) - HEADER.size,
        "uncompressed_records_size": len(section),
        "records": expected_records(records),
    }
    # One record per line keeps the files small and diffable.
    records_json = doc.pop("records")
    text = json.dumps(doc, indent=1)[:-2]
    text += ',\n "records": [\n' + ",\n".join("  " + json.dumps(r) for r in records_json) + "\n ]\n}\n"
    json.loads(text)
    with open(os.path.join(RECORDS_FIXTURES, name + ".json"), "w") as f:
        f.write(text)


def reframe_raw_snappy(data):
    """Replaces a xerial snappy payload by one raw snappy block, fixing batch length and CRC."""
    payload = codec.snappy_decode(data[HEADER.size:])
    out = bytearray(data[:HEADER.size]) + snappy.compress(payload)
    struct.pack_into(">i", out, 8, len(out) - 12)
    struct.pack_into(">I", out, CRC_OFFSET, calc_crc32c(bytes(out[ATTRIBUTES_OFFSET:])))
    return bytes(out)


def make_batches(meta):
    os.makedirs(RECORDS_FIXTURES, exist_ok=True)
    small, big = small_records(), big_records()
    for name in CODECS:
        data = build(name, small)
        cross_check(data, small)
        write_batch("kafka-python-" + name, data, small, name,
                    "DefaultRecordBatchBuilder(magic=2), %s, 5 records" % name, meta)
        data = build(name, big, producer_id=1000, producer_epoch=3, base_sequence=42)
        cross_check(data, big)
        write_batch("kafka-python-%s-big" % name, data, big, name,
                    "DefaultRecordBatchBuilder(magic=2), %s, 200 records, idempotent producer fields" % name, meta)
        if name == "snappy":
            for suffix, records, source in (("", small, build(name, small)),
                                            ("-big", big, build(name, big, 1000, 3, 42))):
                raw = reframe_raw_snappy(source)
                cross_check(raw, records)
                write_batch("raw-snappy" + suffix, raw, records, name,
                            "kafka-python-snappy%s with the payload re-compressed as one raw snappy block "
                            "(librdkafka's framing); length and CRC recomputed" % suffix, meta)


# MARK: - payloads for Tests/KafkaCompressionTests

def plaintext():
    """Mirrored in Swift (clientPlaintext() in Tests/KafkaCompressionTests/Support.swift): 1 KiB of
    LCG-generated printable bytes, repeated 80 times. Over 64 KiB so lz4 and xerial have several blocks,
    yet the embedded payloads stay small."""
    x, chunk = 1, bytearray()
    for _ in range(1024):
        x = (x * 1103515245 + 12345) % 2**31
        chunk.append(32 + (x >> 16) % 95)
    return bytes(chunk) * 80


def payloads():
    text = plaintext()
    half = len(text) // 2
    zstd_unsized = zstandard.ZstdCompressor(write_content_size=False).compress(text)
    assert zstandard.frame_content_size(zstd_unsized) == -1, "frame should not carry its content size"
    zstd_streamed = zstandard.ZstdCompressor(level=1, write_checksum=True).compressobj()
    zstd_streamed = zstd_streamed.compress(text) + zstd_streamed.flush()
    assert zstandard.frame_content_size(zstd_streamed) == -1
    return text, [
        ("gzip", "gzip", "kafka.codec.gzip_encode", codec.gzip_encode(text)),
        ("gzipTwoMembers", "gzip", "two gzip_encode members concatenated",
         codec.gzip_encode(text[:half]) + codec.gzip_encode(text[half:])),
        ("snappyXerial", "snappy", "kafka.codec.snappy_encode (xerial framing, 32 KiB blocks)", codec.snappy_encode(text)),
        ("snappyRaw", "snappy", "snappy.compress: one raw block, as librdkafka writes", snappy.compress(text)),
        ("lz4", "lz4", "kafka.codec.lz4_encode (independent blocks, content size stored)", codec.lz4_encode(text)),
        ("lz4LinkedWithChecksums", "lz4", "lz4.frame.compress: linked blocks, block and content checksums",
         lz4.frame.compress(text, block_linked=True, block_checksum=True, content_checksum=True, store_size=False)),
        ("zstd", "zstd", "kafka.codec.zstd_encode (content size stored)", codec.zstd_encode(text)),
        ("zstdNoContentSize", "zstd", "ZstdCompressor(write_content_size=False).compress", zstd_unsized),
        ("zstdStreamed", "zstd", "ZstdCompressor.compressobj: streamed, no content size, checksum", zstd_streamed),
        ("zstdTwoFrames", "zstd", "two zstd_encode frames concatenated",
         codec.zstd_encode(text[:half]) + codec.zstd_encode(text[half:])),
    ]


def swift_string(data, width=120, indent="        "):
    encoded = base64.b64encode(data).decode("ascii")
    lines = [encoded[i:i + width] for i in range(0, len(encoded), width)] or [""]
    return '"""\n' + "\n".join(indent + line for line in lines) + "\n" + indent + '"""'


def make_swift(meta):
    text, items = payloads()
    for name, codec_name, _, data in items:
        decode = {"gzip": codec.gzip_decode, "snappy": codec.snappy_decode, "lz4": codec.lz4_decode,
                  "zstd": codec.zstd_decode}[codec_name]
        if decode(data) != text and not name.startswith("gzipTwo"):
            raise SystemExit(name + ": does not round-trip in Python")
    out = [
        "// GENERATED by tools/make-fixtures.py -- do not edit. Regenerate: python3 tools/make-fixtures.py",
        "// Codec payloads written by the libraries kafka-python uses (%s)."
        % ", ".join("%s %s" % kv for kv in meta.items()),
        "// Each decodes to clientPlaintext() in Support.swift (%d bytes)." % len(text),
        "",
        "import KafkaCompression",
        "",
        "struct ClientPayload: Sendable, CustomStringConvertible {",
        "    let name: String",
        "    let codec: CompressionCodec",
        "    let origin: String",
        "    let base64: String",
        "    var description: String { name }",
        "}",
        "",
        "enum ClientPayloads {",
        "    static let plaintextCount = %d" % len(text),
        "",
    ]
    for name, codec_name, origin, data in items:
        out.append("    static let %s = ClientPayload(" % name)
        out.append('        name: "%s", codec: .%s, origin: "%s",' % (name, codec_name, origin))
        out.append("        base64: " + swift_string(data) + ")")
        out.append("")
    out.append("    static let all: [ClientPayload] = [%s]" % ", ".join(name for name, _, _, _ in items))
    out.append("")
    # A single-member gzip bomb (the other codecs' bombs are built in the tests without the plaintext).
    bomb = codec.gzip_encode(bytes(GZIP_BOMB_ZEROS))
    out.append("    /// gzip_encode of %d zero bytes: one member whose ISIZE trailer announces the full size." % GZIP_BOMB_ZEROS)
    out.append("    static let gzipBombZeros = %d" % GZIP_BOMB_ZEROS)
    out.append("    static let gzipBomb = " + swift_string(bomb, indent="    "))
    out.append("}")
    with open(PAYLOADS_SWIFT, "w") as f:
        f.write("\n".join(out) + "\n")


class _FixedTime:
    """gzip writes the current time into its header; pin it so regenerating gives identical files."""

    @staticmethod
    def time():
        return BASE_TIMESTAMP / 1000


def main():
    import gzip
    gzip.time = _FixedTime
    meta = versions()
    make_batches(meta)
    make_swift(meta)
    print("fixtures written (kafka-python %s)" % kafka.__version__)


if __name__ == "__main__":
    main()
