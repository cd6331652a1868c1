import KafkaCompression
import KafkaModel
import NIOCore
/// The checks a leader makes on a batch a producer sent, before it is appended (Kafka's
/// `LogValidator` for magic v2), answering with Kafka's error codes:
///
/// - MESSAGE_TOO_LARGE: the batch is bigger than the topic's `max.message.bytes`;
/// - CORRUPT_MESSAGE: bad length, magic, CRC, compression framing, or records that do not parse;
/// - INVALID_RECORD: empty batch, offset deltas that are not 0, 1, 2, ... matching the record count,
///   a control batch from a client, a producer id without a sequence, a null key on a compacted topic;
/// - INVALID_TIMESTAMP: a CreateTime timestamp further from the broker's clock than
///   `message.timestamp.difference.max.ms` allows.
public struct RecordBatchValidator: Sendable {
    /// `max.message.bytes` (topic) / `message.max.bytes` (broker): 1048588 by default.
    public var maxMessageBytes = 1_048_588
    /// `cleanup.policy` includes `compact`: every record needs a key.
    public var requiresKeys = false
    /// `message.timestamp.type`: LogAppendTime makes the broker stamp the batch.
    public var timestampType: TimestampType = .createTime
    /// `message.timestamp.difference.max.ms`: unlimited by default, as in Kafka.
    public var maxTimestampDifferenceMs = Int64.max
    /// Bound on the decompressed size of one batch.
    public var decompressionLimit = RecordBatch.defaultDecompressionLimit

    public init() {}

    public struct Summary: Sendable, Equatable {
        public var recordCount: Int
        public var maxTimestamp: Int64
        public var offsetDeltaOfMaxTimestamp: Int32
    }

    /// Validates `batch`; for a LogAppendTime topic stamps it with `now`. Throws `RecordError`
    /// carrying the Kafka error code; a batch that throws must not be appended.
    public func validate(_ batch: inout RecordBatch, now: Int64) throws(RecordError) -> Summary {
        let header = batch.header
        guard header.totalSize <= maxMessageBytes else {
            throw RecordError(
                .messageTooLarge,
                "record batch of \(header.totalSize) bytes exceeds max.message.bytes \(maxMessageBytes)")
        }
        try batch.verifyChecksum()
        guard header.recordCount > 0 else {
            throw RecordError(.invalidRecord, "record batch holds no records")
        }
        guard Int64(header.lastOffsetDelta) + 1 == Int64(header.recordCount) else {
            throw RecordError(
                .invalidRecord,
                "record batch last offset delta \(header.lastOffsetDelta) does not match its \(header.recordCount) records")
        }
        guard !header.isControl else {
            throw RecordError(.invalidRecord, "clients may not produce control batches")
        }
        guard !header.hasProducerId || header.baseSequence >= 0 else {
            throw RecordError(.invalidRecord, "record batch has producer id \(header.producerId) but no base sequence")
        }
        guard header.compressionCodec != nil else {
            throw RecordError(.unsupportedCompressionType, "unknown compression type \(header.attributes & 7)")
        }
        if header.timestampType == .logAppendTime && timestampType == .createTime {
            throw RecordError(.invalidTimestamp, "producers may not set LogAppendTime on a CreateTime topic")
        }

        let summary: Summary
        if header.compressionCodec == CompressionCodec.none {
            // Uncompressed records are scanned where they are, without copying the batch.
            summary = try batch.buffer.withUnsafeReadableBytes { bytes in
                Result { () throws(RecordError) in
                    try scanRecords(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.size...]), header: header, now: now)
                }
            }.get()
        } else {
            let payload = try batch.recordsPayload(decompressionLimit: decompressionLimit)
            summary = try withBytes(of: payload) { bytes throws(RecordError) in
                try scanRecords(bytes, header: header, now: now)
            }
        }

        if timestampType == .logAppendTime {
            batch.setLogAppendTime(now)
        }
        return summary
    }

    private func scanRecords(_ bytes: UnsafeRawBufferPointer, header: RecordBatchHeader, now: Int64) throws(RecordError) -> Summary {
        var reader = ByteReader(bytes)
        var maxTimestamp = Int64.min
        var deltaOfMax: Int32 = 0
        let checkTimestamps = timestampType == .createTime && maxTimestampDifferenceMs != Int64.max
        for index in 0..<Int(header.recordCount) {
            let length = try reader.readVarInt()
            guard length >= 0, Int(length) <= reader.remaining else {
                throw RecordError(.corruptMessage, "record \(index) has length \(length) past the end of the batch", recordIndex: index)
            }
            let start = reader.position
            _ = try reader.readUInt8()
            let timestampDelta = try reader.readVarLong()
            let offsetDelta = try reader.readVarInt()
            guard offsetDelta == Int32(index) else {
                throw RecordError(.invalidRecord, "record \(index) has offset delta \(offsetDelta); expected \(index)", recordIndex: index)
            }
            let keyIsNull = try reader.skipNullableBytes()
            if requiresKeys && keyIsNull {
                throw RecordError(.invalidRecord, "compacted topics accept only records with a key", recordIndex: index)
            }
            try reader.skipNullableBytes()
            let headerCount = try reader.readVarInt()
            guard headerCount >= 0 else {
                throw RecordError(.corruptMessage, "record \(index) has negative header count", recordIndex: index)
            }
            for _ in 0..<headerCount {
                if try reader.skipNullableBytes() {
                    throw RecordError(.corruptMessage, "record \(index) has a header with a null key", recordIndex: index)
                }
                try reader.skipNullableBytes()
            }
            guard reader.position - start == Int(length) else {
                throw RecordError(.corruptMessage, "record \(index) length field disagrees with its contents", recordIndex: index)
            }
            let timestamp = header.baseTimestamp &+ timestampDelta
            if checkTimestamps {
                let (difference, overflow) = timestamp.subtractingReportingOverflow(now)
                if overflow || difference.magnitude > UInt64(maxTimestampDifferenceMs) {
                    throw RecordError(
                        .invalidTimestamp,
                        "record \(index) timestamp \(timestamp) is more than message.timestamp.difference.max.ms (\(maxTimestampDifferenceMs)) from the broker's time \(now)",
                        recordIndex: index)
                }
            }
            if timestamp > maxTimestamp {
                maxTimestamp = timestamp
                deltaOfMax = offsetDelta
            }
        }
        guard reader.isAtEnd else {
            // Kafka: "Incorrect declared batch size, records still remaining" (InvalidRecordException).
            throw RecordError(.invalidRecord, "record batch has \(reader.remaining) bytes after the \(header.recordCount) records it declares")
        }
        return Summary(recordCount: Int(header.recordCount), maxTimestamp: maxTimestamp, offsetDeltaOfMaxTimestamp: deltaOfMax)
    }
}
