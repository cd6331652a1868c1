import KafkaModel
import KafkaCompression
import NIOCore
import Testing

@testable import KafkaRecords

@Suite struct RecordBatchValidatorTests {
    let now: Int64 = 1_700_000_000_100

    private func expectError(_ code: KafkaErrorCode, _ batch: RecordBatch, _ validator: RecordBatchValidator = RecordBatchValidator()) {
        var copy = batch
        do {
            _ = try validator.validate(&copy, now: now)
            Issue.record("expected \(code.name)")
        } catch {
            #expect(error.code == code, "\(error)")
        }
    }

    /// Changes bytes covered by the CRC and then fixes the CRC, to build batches a buggy client might send.
    private func patched(_ batch: RecordBatch, _ edit: (inout ByteBuffer) -> Void) throws -> RecordBatch {
        var buffer = batch.buffer
        edit(&buffer)
        let crc = buffer.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        buffer.setInteger(crc, at: 17)
        return try RecordBatch(buffer: buffer)
    }

    @Test(arguments: CompressionCodec.allCases)
    func aGoodBatchPasses(codec: CompressionCodec) throws {
        var batch = try RecordBatchTests.sampleBuilder(codec: codec).build()
        let summary = try RecordBatchValidator().validate(&batch, now: now)
        #expect(summary == .init(recordCount: 3, maxTimestamp: 1_700_000_000_005, offsetDeltaOfMaxTimestamp: 1))
    }

    @Test func aFlippedByteIsACorruptMessage() throws {
        let batch = try RecordBatchTests.sampleBuilder().build()
        var buffer = batch.buffer
        buffer.setInteger(buffer.getInteger(at: 70, as: UInt8.self)! ^ 0x01, at: 70)
        expectError(.corruptMessage, try RecordBatch(buffer: buffer))
    }

    @Test func offsetDeltasMustMatchTheRecordCount() throws {
        let batch = try RecordBatchTests.sampleBuilder().build()
        expectError(.invalidRecord, try patched(batch) { $0.setInteger(Int32(5), at: 23) })
        expectError(.invalidRecord, try patched(batch) { $0.setInteger(Int32(2), at: 57); $0.setInteger(Int32(1), at: 23) })
    }

    @Test func emptyAndControlBatchesFromClientsAreInvalid() throws {
        expectError(.invalidRecord, try RecordBatchBuilder().build())
        var control = RecordBatchBuilder()
        control.isControl = true
        control.append(key: ControlRecordType.commit.key, value: ControlRecordType.markerValue(coordinatorEpoch: 0), timestamp: now)
        expectError(.invalidRecord, try control.build())
    }

    @Test func aProducerIdNeedsASequence() throws {
        var builder = RecordBatchTests.sampleBuilder()
        builder.producerId = 9
        expectError(.invalidRecord, try builder.build())
    }

    @Test func compactedTopicsNeedKeys() throws {
        var validator = RecordBatchValidator()
        validator.requiresKeys = true
        expectError(.invalidRecord, try RecordBatchTests.sampleBuilder().build(), validator)
    }

    @Test func timestampsTooFarFromTheBrokerClockAreInvalid() throws {
        var validator = RecordBatchValidator()
        validator.maxTimestampDifferenceMs = 50
        expectError(.invalidTimestamp, try RecordBatchTests.sampleBuilder().build(), validator)
        validator.maxTimestampDifferenceMs = 200
        var batch = try RecordBatchTests.sampleBuilder().build()
        _ = try validator.validate(&batch, now: now)
    }

    @Test func oversizeBatchesAreTooLarge() throws {
        var validator = RecordBatchValidator()
        validator.maxMessageBytes = 64
        expectError(.messageTooLarge, try RecordBatchTests.sampleBuilder().build(), validator)
    }

    @Test func aBrokenRecordInsideIsCorrupt() throws {
        let batch = try RecordBatchTests.sampleBuilder().build()
        // The first record's length varint (byte 61) claims more than is there.
        expectError(.corruptMessage, try patched(batch) { $0.setInteger(UInt8(0x7E), at: 61) })
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func aDecompressionBombIsRefused(codec: CompressionCodec) throws {
        var builder = RecordBatchBuilder(codec: codec)
        builder.append(key: nil, value: [UInt8](repeating: 0, count: 8 << 20), timestamp: now)
        var validator = RecordBatchValidator()
        validator.decompressionLimit = 1 << 20
        validator.maxMessageBytes = Int.max
        expectError(.corruptMessage, try builder.build(), validator)
    }

    @Test func logAppendTimeTopicsStampTheBatch() throws {
        var validator = RecordBatchValidator()
        validator.timestampType = .logAppendTime
        var batch = try RecordBatchTests.sampleBuilder().build()
        _ = try validator.validate(&batch, now: now)
        #expect(batch.header.timestampType == .logAppendTime)
        #expect(batch.header.maxTimestamp == now)
        try batch.verifyChecksum()
    }
}
