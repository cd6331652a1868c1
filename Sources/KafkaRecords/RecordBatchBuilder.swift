import KafkaModel
import KafkaCompression
import NIOCore

/// Builds a v2 record batch the way a producer does: offset deltas 0, 1, 2, ..., timestamps as deltas
/// from the first record's, the records compressed as one blob, CRC-32C over attributes onward.
public struct RecordBatchBuilder: Sendable {
    public var codec: CompressionCodec
    public var baseOffset: Int64 = 0
    public var partitionLeaderEpoch: Int32 = -1
    public var producerId: Int64 = -1
    public var producerEpoch: Int16 = -1
    public var baseSequence: Int32 = -1
    public var isTransactional = false
    public var isControl = false
    public var timestampType: TimestampType = .createTime
    private var records: [Record] = []

    public init(codec: CompressionCodec = .none) {
        self.codec = codec
    }

    public var isEmpty: Bool { records.isEmpty }
    public var count: Int { records.count }

    /// Adds a record; its offset delta is its position in the batch.
    public mutating func append(key: [UInt8]?, value: [UInt8]?, headers: [RecordHeader] = [], timestamp: Int64) {
        records.append(
            Record(offsetDelta: Int32(records.count), key: key, value: value, headers: headers, timestamp: timestamp))
    }

    public func build() throws(RecordError) -> RecordBatch {
        let baseTimestamp = records.first?.timestamp ?? -1
        let body = try RecordBatch.encodedPayload(records, baseTimestamp: baseTimestamp, codec: codec)

        var attributes = codec.rawValue
        if timestampType == .logAppendTime { attributes |= RecordBatchAttributes.logAppendTime }
        if isTransactional { attributes |= RecordBatchAttributes.transactional }
        if isControl { attributes |= RecordBatchAttributes.control }

        let header = RecordBatchHeader(
            baseOffset: baseOffset,
            length: Int32(RecordBatchHeader.size - RecordBatchHeader.logOverhead + body.count),
            partitionLeaderEpoch: partitionLeaderEpoch,
            attributes: attributes,
            lastOffsetDelta: Int32(records.count) - 1,
            baseTimestamp: baseTimestamp,
            maxTimestamp: records.map(\.timestamp).max() ?? -1,
            producerId: producerId,
            producerEpoch: producerEpoch,
            baseSequence: baseSequence,
            recordCount: Int32(records.count))

        return RecordBatch.sealed(header, body: body)
    }
}
