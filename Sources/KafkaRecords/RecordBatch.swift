import KafkaModel
import KafkaCompression
import NIOCore

/// One whole record batch (magic v2), its bytes exactly as on the wire and on disk.
///
/// The leader assigns offsets by rewriting `baseOffset` and `partitionLeaderEpoch` in place; the CRC
/// covers neither, so the batch is never re-encoded (Kafka's in-place assignment).
public struct RecordBatch: Sendable {
    /// The batch's bytes: exactly `header.totalSize` readable bytes.
    public private(set) var buffer: ByteBuffer
    public private(set) var header: RecordBatchHeader

    /// Wraps the bytes of one batch. Checks the header can be read and that `length` matches the
    /// bytes given; the CRC and records are checked by `verifyChecksum()` and `RecordBatchValidator`.
    public init(buffer: ByteBuffer) throws(RecordError) {
        let header = try buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(RecordError) in try RecordBatchHeader(parsing: bytes) }
        }.get()
        guard header.length >= RecordBatchHeader.minimumLength else {
            throw RecordError(.corruptMessage, "record batch length \(header.length) is below the v2 minimum \(RecordBatchHeader.minimumLength)")
        }
        guard header.totalSize == buffer.readableBytes else {
            throw RecordError(
                .corruptMessage,
                "record batch length field says \(header.totalSize) bytes but \(buffer.readableBytes) were given")
        }
        self.buffer = buffer
        self.header = header
    }

    public init(bytes: [UInt8]) throws(RecordError) {
        try self.init(buffer: ByteBuffer(bytes: bytes))
    }

    /// Splits a run of concatenated batches (a produce or fetch payload). A partial batch at the end
    /// is returned separately, as a fetch response may end in one.
    public static func split(_ buffer: ByteBuffer) throws(RecordError) -> (batches: [RecordBatch], trailingPartialBytes: Int) {
        var rest = buffer
        var batches: [RecordBatch] = []
        while rest.readableBytes >= RecordBatchHeader.logOverhead {
            guard let length = rest.getInteger(at: rest.readerIndex + RecordBatchHeader.Offset.length, as: Int32.self)
            else { break }
            let total = Int(length) + RecordBatchHeader.logOverhead
            guard length >= RecordBatchHeader.minimumLength else {
                throw RecordError(.corruptMessage, "record batch length \(length) is below the v2 minimum")
            }
            guard rest.readableBytes >= total, let slice = rest.readSlice(length: total) else { break }
            batches.append(try RecordBatch(buffer: slice))
        }
        return (batches, rest.readableBytes)
    }

    // MARK: Checksum

    /// The CRC-32C of bytes [21, end): attributes through the last record.
    public func computeChecksum() -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.Offset.attributes...]))
        }
    }

    public var isChecksumValid: Bool { computeChecksum() == header.crc }

    public func verifyChecksum() throws(RecordError) {
        let actual = computeChecksum()
        guard actual == header.crc else {
            throw RecordError(
                .corruptMessage,
                "record batch at offset \(header.baseOffset) failed its CRC check (stored \(header.crc), computed \(actual))")
        }
    }

    // MARK: In-place rewrites (outside the CRC)

    /// Gives the batch its offsets and the leader's epoch, without touching the CRC-covered bytes.
    public mutating func assignOffsets(baseOffset: Int64, partitionLeaderEpoch: Int32) {
        header.baseOffset = baseOffset
        header.partitionLeaderEpoch = partitionLeaderEpoch
        let index = buffer.readerIndex
        buffer.setInteger(baseOffset, at: index + RecordBatchHeader.Offset.baseOffset)
        buffer.setInteger(partitionLeaderEpoch, at: index + RecordBatchHeader.Offset.partitionLeaderEpoch)
    }

    /// Sets the broker's time for a LogAppendTime topic: max timestamp and the timestamp-type bit,
    /// which the CRC does cover, so the CRC is recomputed (as Kafka does).
    public mutating func setLogAppendTime(_ timestamp: Int64) {
        header.maxTimestamp = timestamp
        header.attributes |= RecordBatchAttributes.logAppendTime
        let index = buffer.readerIndex
        buffer.setInteger(header.maxTimestamp, at: index + RecordBatchHeader.Offset.maxTimestamp)
        buffer.setInteger(header.attributes, at: index + RecordBatchHeader.Offset.attributes)
        header.crc = computeChecksum()
        buffer.setInteger(header.crc, at: index + RecordBatchHeader.Offset.crc)
    }

    // MARK: Records

    /// The batch's records payload, decompressed. Refuses (CORRUPT_MESSAGE) output beyond
    /// `decompressionLimit` bytes, so a decompression bomb costs no more than the limit.
    public func recordsPayload(decompressionLimit: Int) throws(RecordError) -> [UInt8] {
        guard let codec = header.compressionCodec else {
            throw RecordError(.unsupportedCompressionType, "record batch uses unknown compression type \(header.attributes & 7)")
        }
        return try buffer.withUnsafeReadableBytes { bytes in Result { () throws(RecordError) -> [UInt8] in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[RecordBatchHeader.size...])
            if codec == .none {
                return Array(payload)
            }
            do {
                return try codec.decompress(payload, limit: decompressionLimit)
            } catch {
                throw RecordError(.corruptMessage, "cannot decompress \(codec.name) record batch: \(error)")
            }
        } }.get()
    }

    /// Decodes every record. Checks that the records fill the payload exactly and that their count
    /// matches the header.
    public func records(decompressionLimit: Int = RecordBatch.defaultDecompressionLimit) throws(RecordError) -> [Record] {
        let payload = try recordsPayload(decompressionLimit: decompressionLimit)
        return try withBytes(of: payload) { bytes throws(RecordError) in
            var reader = ByteReader(bytes)
            var records: [Record] = []
            let count = Int(header.recordCount)
            guard count >= 0 else {
                throw RecordError(.corruptMessage, "record batch has negative record count \(count)")
            }
            records.reserveCapacity(min(count, bytes.count / 7 + 1))
            for index in 0..<count {
                do throws(RecordError) {
                    records.append(try Record.decode(from: &reader, batch: header))
                } catch {
                    throw RecordError(error.code, error.message, recordIndex: index)
                }
            }
            guard reader.isAtEnd else {
                throw RecordError(.corruptMessage, "record batch has \(reader.remaining) bytes after its \(count) records")
            }
            return records
        }
    }

    /// 64 MiB: more than any batch `message.max.bytes` would let in is likely to inflate to, and far
    /// below what would hurt the process.
    public static let defaultDecompressionLimit = 64 << 20
}
