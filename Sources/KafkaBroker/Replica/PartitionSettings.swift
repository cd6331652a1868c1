import KafkaCompression
import KafkaRecords

/// The per-topic settings the broker applies on produce and on acks=all, beyond what storage holds
/// in `LogConfig` (the topic's overrides over the broker's defaults).
public struct PartitionSettings: Sendable, Equatable {
    /// `max.message.bytes`.
    public var maxMessageBytes = 1_048_588
    /// `compression.type`: nil keeps what the producer sent (`producer`).
    public var compression: CompressionCodec? = nil
    /// `min.insync.replicas`.
    public var minInsyncReplicas = 1
    /// `message.timestamp.type`.
    public var timestampType: TimestampType = .createTime
    /// `message.timestamp.difference.max.ms`.
    public var maxTimestampDifferenceMs = Int64.max
    /// `cleanup.policy` includes compact: records need keys.
    public var compacted = false

    public init() {}
}
