import KafkaConfig

/// The group coordinator's settings (`group.*`, `offsets.*`), with Kafka's defaults.
public struct GroupSettings: Sendable {
    public var initialRebalanceDelayMs = 3_000
    public var minSessionTimeoutMs = 6_000
    public var maxSessionTimeoutMs = 1_800_000
    public var maxSize = Int(Int32.max)
    public var offsetsTopicPartitions = 50
    public var offsetsTopicReplicationFactor = 3
    public var offsetsTopicSegmentBytes = 104_857_600
    public var offsetsRetentionMs: Int64 = 7 * 24 * 3_600_000
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    public var offsetCommitTimeoutMs = 5_000
    public var offsetMetadataMaxBytes = 4_096

    public init() {}

    init(_ config: BrokerConfig) {
        initialRebalanceDelayMs = config.groupInitialRebalanceDelayMs
        minSessionTimeoutMs = config.groupMinSessionTimeoutMs
        maxSessionTimeoutMs = config.groupMaxSessionTimeoutMs
        maxSize = config.groupMaxSize
        offsetsTopicPartitions = config.offsetsTopicNumPartitions
        offsetsTopicReplicationFactor = config.offsetsTopicReplicationFactor
        offsetsTopicSegmentBytes = config.offsetsTopicSegmentBytes
        offsetsRetentionMs = Int64(config.offsetsRetentionMinutes) * 60_000
        offsetsRetentionCheckIntervalMs = config.offsetsRetentionCheckIntervalMs
        offsetCommitTimeoutMs = config.offsetsCommitTimeoutMs
        offsetMetadataMaxBytes = config.offsetMetadataMaxBytes
    }
}
