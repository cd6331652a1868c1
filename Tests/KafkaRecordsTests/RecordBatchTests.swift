import KafkaCompression
import NIOCore
import Testing

@testable import KafkaRecords

@Suite struct RecordBatchTests {
    static func sampleBuilder(codec: CompressionCodec = .none) -> RecordBatchBuilder {
        var builder = RecordBatchBuilder(codec: codec)
        builder.append(key: nil, value: Array("first".utf8), timestamp: 1_700_000_000_000)
        builder.append(key: Array("k".utf8), value: nil, timestamp: 1_700_000_000_005)
        builder.append(
            key: Array("key".utf8), value: Array("third".utf8),
            headers: [RecordHeader(key: "h1", value: Array("v".utf8)), RecordHeader(key: "h2", value: nil)],
            timestamp: 1_699_999_999_990)
        return builder
    }

    static func decodeVarLong(_ bytes: [UInt8]) throws(RecordError) -> Int64 {
        try withBytes(of: bytes) { raw throws(RecordError) in
            var reader = ByteReader(raw)
            return try reader.readVarLong()
        }
    }

    @Test func varintsMatchKafkasZigZagEncoding() throws {
        // Values and encodings from Kafka's ByteUtilsTest.
        let cases: [(Int64, [UInt8])] = [
            (0, [0x00]), (-1, [0x01]), (1, [0x02]), (-64, [0x7F]), (64, [0x80, 0x01]),
            (Int64(Int32.max), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]), (Int64(Int32.min), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, encoded) in cases {
            var out: [UInt8] = []
            Varint.append(value, to: &out)
            #expect(out == encoded, "encoding \(value)")
            #expect(Varint.size(of: value) == encoded.count)
            #expect(try Self.decodeVarLong(encoded) == value)
        }
        for value: Int64 in [Int64.max, Int64.min, 1 << 40, -(1 << 40)] {
            var out: [UInt8] = []
            Varint.append(value, to: &out)
            #expect(try Self.decodeVarLong(out) == value)
        }
    }

    @Test func headerLayoutIsKafkas() throws {
        var builder = Self.sampleBuilder()
        builder.producerId = 42
        builder.producerEpoch = 3
        builder.baseSequence = 17
        builder.isTransactional = true
        let batch = try builder.build()
        let h = batch.header
        #expect(h.magic == 2)
        #expect(h.recordCount == 3)
        #expect(h.lastOffsetDelta == 2)
        #expect(h.baseTimestamp == 1_700_000_000_000)
        #expect(h.maxTimestamp == 1_700_000_000_005)
        #expect(h.totalSize == batch.buffer.readableBytes)
        #expect(h.isTransactional && !h.isControl)
        #expect(h.lastSequence == 19)
        // Byte positions of a few fields, read straight from the buffer.
        #expect(batch.buffer.getInteger(at: 8, as: Int32.self) == Int32(h.totalSize - 12))
        #expect(batch.buffer.getInteger(at: 16, as: Int8.self) == 2)
        #expect(batch.buffer.getInteger(at: 21, as: Int16.self) == 0x10)
        #expect(batch.buffer.getInteger(at: 43, as: Int64.self) == 42)
        #expect(batch.buffer.getInteger(at: 57, as: Int32.self) == 3)
        try batch.verifyChecksum()
        // Parsing the bytes again gives the same header.
        let parsed = try RecordBatch(buffer: batch.buffer)
        #expect(parsed.header == h)
    }

    @Test(arguments: CompressionCodec.allCases)
    func recordsRoundTrip(codec: CompressionCodec) throws {
        let batch = try Self.sampleBuilder(codec: codec).build()
        #expect(batch.header.compressionCodec == codec)
        let records = try batch.records()
        #expect(records.count == 3)
        #expect(records[0].key == nil && records[0].value == Array("first".utf8))
        #expect(records[1].value == nil && records[1].key == Array("k".utf8))
        #expect(records[2].headers == [RecordHeader(key: "h1", value: Array("v".utf8)), RecordHeader(key: "h2", value: nil)])
        #expect(records.map(\.offset) == [0, 1, 2])
        #expect(records.map(\.timestamp) == [1_700_000_000_000, 1_700_000_000_005, 1_699_999_999_990])
    }

    @Test func assigningOffsetsKeepsTheChecksum() throws {
        var batch = try Self.sampleBuilder(codec: .lz4).build()
        let crcBefore = batch.header.crc
        batch.assignOffsets(baseOffset: 1_000, partitionLeaderEpoch: 7)
        #expect(batch.header.crc == crcBefore)
        try batch.verifyChecksum()
        let reparsed = try RecordBatch(buffer: batch.buffer)
        #expect(reparsed.header.baseOffset == 1_000)
        #expect(reparsed.header.partitionLeaderEpoch == 7)
        #expect(reparsed.header.lastOffset == 1_002)
        #expect(try reparsed.records().map(\.offset) == [1_000, 1_001, 1_002])
    }

    @Test func logAppendTimeRestampsAndRecomputesTheChecksum() throws {
        var batch = try Self.sampleBuilder().build()
        batch.setLogAppendTime(1_800_000_000_000)
        try batch.verifyChecksum()
        #expect(batch.header.timestampType == .logAppendTime)
        #expect(try batch.records().allSatisfy { $0.timestamp == 1_800_000_000_000 })
    }

    @Test func splitFindsEveryBatchAndAPartialTail() throws {
        let a = try Self.sampleBuilder().build()
        let b = try Self.sampleBuilder(codec: .gzip).build()
        var joined = a.buffer
        var second = b.buffer
        joined.writeBuffer(&second)
        var partial = a.buffer
        joined.writeBytes(partial.readBytes(length: 30)!)
        let (batches, trailing) = try RecordBatch.split(joined)
        #expect(batches.count == 2)
        #expect(batches[1].header.compressionCodec == .gzip)
        #expect(trailing == 30)
    }

    @Test func controlRecordKeys() {
        #expect(ControlRecordType(key: ControlRecordType.commit.key) == .commit)
        #expect(ControlRecordType(key: ControlRecordType.abort.key) == .abort)
        #expect(ControlRecordType.markerValue(coordinatorEpoch: 5) == [0, 0, 0, 0, 0, 5])
    }

    @Test func truncatedBytesAreRefusedNotCrashed() throws {
        let batch = try Self.sampleBuilder().build()
        let bytes = Array(batch.buffer.readableBytesView)
        for cut in [0, 11, 12, 60, 61, bytes.count - 1] {
            #expect(throws: RecordError.self) { try RecordBatch(bytes: Array(bytes[..<cut])) }
        }
    }
}
