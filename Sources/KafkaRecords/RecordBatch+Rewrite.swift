import KafkaModel
import KafkaCompression
import NIOCore

/// Rewriting a stored batch with fewer records, as log compaction does (Kafka's
/// `MemoryRecords.filterTo` and `DefaultRecordBatch.writeEmptyHeader`).
extension RecordBatch {
    /// A batch that replaces the batch `original` and holds only `records`, which were decoded from
    /// it (in order). The base offset, last offset delta (so the batch still ends where it did),
    /// partition leader epoch, producer id, epoch and base sequence, codec, timestamp type and the
    /// transactional and control flags are kept; each record keeps its offset delta. The base
    /// timestamp is the first record's timestamp, or `deleteHorizonMs` when given (which also sets
    /// the delete-horizon attribute, KIP-534); record timestamp deltas are taken from it. The max
    /// timestamp is the largest record timestamp (the original one for LogAppendTime). The records
    /// are compressed again with the original codec.
    public static func rewritten(
        from original: RecordBatchHeader, keeping records: [Record], deleteHorizonMs: Int64?
    ) throws(RecordError) -> RecordBatch {
        guard !records.isEmpty else { return emptyBatch(replacing: original) }
        guard let codec = original.compressionCodec else {
            throw RecordError(.unsupportedCompressionType, "record batch uses unknown compression type \(original.attributes & 7)")
        }
        let baseTimestamp = deleteHorizonMs ?? records[0].timestamp
        let body = try encodedPayload(records, baseTimestamp: baseTimestamp, codec: codec)
        var header = original
        header.length = Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead + body.count)
        header.recordCount = Int32(records.count)
        header.baseTimestamp = baseTimestamp
        if original.timestampType == .createTime {
            header.maxTimestamp = records.map(\.timestamp).max() ?? -1
        }
        header.attributes &= ~RecordBatchAttributes.deleteHorizon
        if deleteHorizonMs != nil { header.attributes |= RecordBatchAttributes.deleteHorizon }
        return sealed(header, body: body)
    }

    /// A batch with no records that keeps `original`'s offsets, producer id, epoch and base sequence
    /// (so producer state survives compaction): uncompressed, both timestamps the original's max
    /// timestamp, no delete horizon.
    public static func emptyBatch(replacing original: RecordBatchHeader) -> RecordBatch {
        var header = original
        header.length = RecordBatchHeader.minimumLength
        header.recordCount = 0
        header.attributes &= ~(RecordBatchAttributes.codecMask | RecordBatchAttributes.deleteHorizon)
        header.baseTimestamp = original.maxTimestamp
        return sealed(header, body: [])
    }

    /// The records, timestamp deltas taken from `baseTimestamp`, encoded and compressed with `codec`.
    static func encodedPayload(_ records: [Record], baseTimestamp: Int64, codec: CompressionCodec) throws(RecordError) -> [UInt8] {
        var payload: [UInt8] = []
        for var record in records {
            record.timestampDelta = record.timestamp &- baseTimestamp
            record.encode(to: &payload)
        }
        do {
            return codec == .none ? payload : try codec.compress(payload)
        } catch {
            throw RecordError(.corruptMessage, "cannot compress the batch with \(codec.name): \(error)")
        }
    }

    /// The batch of `header` (its length already set) followed by `body`, with the CRC computed.
    static func sealed(_ header: RecordBatchHeader, body: [UInt8]) -> RecordBatch {
        var buffer = ByteBufferAllocator().buffer(capacity: header.totalSize)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: header.totalSize) { out in
            header.write(to: out)
            body.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[RecordBatchHeader.size...]).copyMemory(from: $0) }
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: out[RecordBatchHeader.Offset.attributes..<header.totalSize]))
            out.writeBE(crc, at: RecordBatchHeader.Offset.crc)
            return header.totalSize
        }
        // The length was computed from the body just written, so the bytes always form one batch.
        return try! RecordBatch(buffer: buffer)
    }
}
