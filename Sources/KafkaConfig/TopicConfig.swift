import KafkaCompression
import KafkaRecords
import KafkaStorage

/// `compression.type`: the codec the broker stores batches with; `producer` keeps the producer's.
public enum BrokerCompressionType: String, Sendable, Hashable, CaseIterable {
    case uncompressed, zstd, lz4, snappy, gzip, producer

    /// The codec to recompress with; nil for `producer` (keep the batch as sent).
    public var codec: CompressionCodec? {
        switch self {
        case .uncompressed: CompressionCodec.none
        case .zstd: .zstd
        case .lz4: .lz4
        case .snappy: .snappy
        case .gzip: .gzip
        case .producer: nil
        }
    }
}

/// `cleanup.policy`: `delete`, `compact`, or both.
public struct CleanupPolicy: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let delete = CleanupPolicy(rawValue: 1)
    public static let compact = CleanupPolicy(rawValue: 2)

    /// From the list's names (already validated to be `compact` or `delete`).
    public init(names: [String]) {
        self = []
        if names.contains("delete") { insert(.delete) }
        if names.contains("compact") { insert(.compact) }
    }
}

/// A broker key a topic key falls back to, and how to convert its unit to the topic key's.
public struct BrokerSynonym: Sendable, Hashable {
    public let name: String
    /// 1 for the same unit; 60_000 for minutes and 3_600_000 for hours when the topic key is in ms.
    public let millisecondsPerUnit: Int64
}

/// The settings a topic has beyond storage: what the broker enforces when it accepts, replicates and
/// cleans the topic's batches.
public struct TopicSettings: Sendable, Hashable {
    /// `max.message.bytes`.
    public var maxMessageBytes: Int
    /// `compression.type`.
    public var compressionType: BrokerCompressionType
    /// `min.insync.replicas`.
    public var minInsyncReplicas: Int
    /// `cleanup.policy`.
    public var cleanupPolicy: CleanupPolicy
    /// `unclean.leader.election.enable`.
    public var uncleanLeaderElectionEnable: Bool
    /// `message.timestamp.type`.
    public var messageTimestampType: TimestampType
    /// `message.timestamp.difference.max.ms`.
    public var messageTimestampDifferenceMaxMs: Int64
    /// `delete.retention.ms`: how long tombstones survive compaction.
    public var deleteRetentionMs: Int64
    /// `min.cleanable.dirty.ratio`.
    public var minCleanableDirtyRatio: Double
    /// `min.compaction.lag.ms`.
    public var minCompactionLagMs: Int64
    /// `max.compaction.lag.ms`.
    public var maxCompactionLagMs: Int64
    /// `preallocate` (accepted; storage does not preallocate).
    public var preallocate: Bool
    /// `message.downconversion.enable` (accepted; Odradek never down-converts).
    public var messageDownconversionEnable: Bool

    /// The produce-time checks these settings call for.
    public var recordBatchValidator: RecordBatchValidator {
        var validator = RecordBatchValidator()
        validator.maxMessageBytes = maxMessageBytes
        validator.requiresKeys = cleanupPolicy.contains(.compact)
        validator.timestampType = messageTimestampType
        validator.maxTimestampDifferenceMs = messageTimestampDifferenceMaxMs
        return validator
    }
}

/// A topic's effective configuration: its overrides (from /config/topics/<name>) over the broker's
/// log defaults, validated with Kafka's rules; unknown keys and bad values are INVALID_CONFIG.
public struct TopicConfig: Sendable {
    private static let longMax = String(Int64.max)

    /// The topic-level keys, by name.
    public static let keys: [ConfigKey] = [
        ConfigKey("cleanup.policy", .list, "delete", .each(["compact", "delete"]),
            "What to do with old segments: delete them, compact (keep the last record per key), or both."),
        ConfigKey("compression.type", .string, "producer", .oneOf(BrokerCompressionType.allCases.map(\.rawValue)),
            "The codec of stored batches: uncompressed, zstd, lz4, snappy, gzip, or producer (keep the producer's)."),
        ConfigKey("delete.retention.ms", .long, "86400000", .atLeast(0),
            "How long a tombstone (a null value) survives in a compacted topic."),
        ConfigKey("file.delete.delay.ms", .long, "60000", .atLeast(0),
            "How long a deleted segment stays on disk before it is removed."),
        ConfigKey("flush.messages", .long, longMax, .atLeast(1),
            "Fsync after this many unflushed records."),
        ConfigKey("flush.ms", .long, longMax, .atLeast(0),
            "Fsync when the last flush is older than this."),
        ConfigKey("follower.replication.throttled.replicas", .list, "", ignored: true,
            "Accepted; Odradek does not throttle replication."),
        ConfigKey("index.interval.bytes", .int, "4096", .atLeast(0),
            "Bytes of batches between two offset index entries."),
        ConfigKey("leader.replication.throttled.replicas", .list, "", ignored: true,
            "Accepted; Odradek does not throttle replication."),
        ConfigKey("max.compaction.lag.ms", .long, longMax, .atLeast(1),
            "A record becomes eligible for compaction after at most this long."),
        ConfigKey("max.message.bytes", .int, "1048588", .atLeast(0),
            "The largest record batch the topic accepts (after compression)."),
        ConfigKey("message.downconversion.enable", .boolean, "true", ignored: true,
            "Accepted; Odradek stores and serves record batch v2 only and never converts."),
        ConfigKey("message.format.version", .string, "3.0-IV1", ignored: true,
            "Accepted; Odradek always writes record batch v2."),
        ConfigKey("message.timestamp.difference.max.ms", .long, longMax, .atLeast(0),
            "Refuse CreateTime batches whose timestamp is further than this from the broker's clock."),
        ConfigKey("message.timestamp.type", .string, "CreateTime", .oneOf(["CreateTime", "LogAppendTime"]),
            "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock."),
        ConfigKey("min.cleanable.dirty.ratio", .double, "0.5", .fraction(0, 1),
            "Compact only when the uncompacted part is at least this fraction of the log."),
        ConfigKey("min.compaction.lag.ms", .long, "0", .atLeast(0),
            "A record stays uncompacted for at least this long."),
        ConfigKey("min.insync.replicas", .int, "1", .atLeast(1),
            "In-sync replicas an acks=all write needs, else NOT_ENOUGH_REPLICAS."),
        ConfigKey("preallocate", .boolean, "false", ignored: true,
            "Accepted; Odradek does not preallocate segment files."),
        ConfigKey("retention.bytes", .long, "-1",
            "Delete the oldest segments of a partition while it is larger than this; -1: no size limit."),
        ConfigKey("retention.ms", .long, "604800000", .atLeast(-1),
            "Delete segments older than this; -1 keeps them forever."),
        ConfigKey("segment.bytes", .int, "1073741824", .atLeast(14),
            "Roll a new segment before the active one grows past this many bytes."),
        ConfigKey("segment.index.bytes", .int, "10485760", .atLeast(4),
            "The largest an offset or time index may grow; a full index rolls the segment."),
        ConfigKey("segment.jitter.ms", .long, "0", .atLeast(0), ignored: true,
            "Accepted; Odradek does not jitter segment rolls."),
        ConfigKey("segment.ms", .long, "604800000", .atLeast(1),
            "Roll a new segment when the active one is this old."),
        ConfigKey("unclean.leader.election.enable", .boolean, "false",
            "Let a replica outside the ISR become leader when no in-sync replica is alive, losing data."),
    ]

    /// The topic keys by name.
    public static let keysByName: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })

    /// Each topic key's broker synonyms in Kafka's order of precedence (`ServerTopicConfigSynonyms`).
    public static let brokerSynonyms: [String: [BrokerSynonym]] = {
        func same(_ name: String) -> [BrokerSynonym] { [BrokerSynonym(name: name, millisecondsPerUnit: 1)] }
        let hour: Int64 = 3_600_000
        return [
            "segment.bytes": same("log.segment.bytes"),
            "segment.ms": [BrokerSynonym(name: "log.roll.ms", millisecondsPerUnit: 1), BrokerSynonym(name: "log.roll.hours", millisecondsPerUnit: hour)],
            "segment.jitter.ms": [
                BrokerSynonym(name: "log.roll.jitter.ms", millisecondsPerUnit: 1), BrokerSynonym(name: "log.roll.jitter.hours", millisecondsPerUnit: hour),
            ],
            "segment.index.bytes": same("log.index.size.max.bytes"),
            "flush.messages": same("log.flush.interval.messages"),
            "flush.ms": same("log.flush.interval.ms") + same("log.flush.scheduler.interval.ms"),
            "retention.bytes": same("log.retention.bytes"),
            "retention.ms": same("log.retention.ms") + [
                BrokerSynonym(name: "log.retention.minutes", millisecondsPerUnit: 60_000), BrokerSynonym(name: "log.retention.hours", millisecondsPerUnit: hour),
            ],
            "max.message.bytes": same("message.max.bytes"),
            "index.interval.bytes": same("log.index.interval.bytes"),
            "delete.retention.ms": same("log.cleaner.delete.retention.ms"),
            "min.compaction.lag.ms": same("log.cleaner.min.compaction.lag.ms"),
            "max.compaction.lag.ms": same("log.cleaner.max.compaction.lag.ms"),
            "file.delete.delay.ms": same("log.segment.delete.delay.ms"),
            "min.cleanable.dirty.ratio": same("log.cleaner.min.cleanable.ratio"),
            "cleanup.policy": same("log.cleanup.policy"),
            "unclean.leader.election.enable": same("unclean.leader.election.enable"),
            "min.insync.replicas": same("min.insync.replicas"),
            "compression.type": same("compression.type"),
            "preallocate": same("log.preallocate"),
            "message.format.version": same("log.message.format.version"),
            "message.timestamp.type": same("log.message.timestamp.type"),
            "message.timestamp.difference.max.ms": same("log.message.timestamp.difference.max.ms"),
            "message.downconversion.enable": same("log.message.downconversion.enable"),
        ]
    }()

    /// The overrides this config was built from.
    public let overrides: [String: String]
    /// The effective value of every topic key.
    public let values: [String: ConfigValue]
    /// Storage settings.
    public let log: LogConfig
    /// Broker-side settings.
    public let settings: TopicSettings

    /// Validates `overrides` over the broker's topic defaults (`BrokerConfig.topicDefaults`).
    public init(overrides: [String: String], broker: BrokerConfig) throws(ConfigError) {
        try self.init(overrides: overrides, defaults: broker.topicDefaults)
    }

    /// Validates `overrides` over `defaults` (topic key to value; Kafka's own defaults fill the rest).
    public init(overrides: [String: String], defaults: [String: String] = [:]) throws(ConfigError) {
        for key in overrides.keys.sorted() where Self.keysByName[key] == nil {
            throw Self.unknownKeyError(key)
        }
        var parsed: [String: ConfigValue] = [:]
        for key in Self.keys {
            if let text = overrides[key.name] ?? defaults[key.name] {
                parsed[key.name] = try key.parse(text)
            } else if let value = key.parsedDefault {
                parsed[key.name] = value
            }
        }
        self.overrides = overrides
        values = parsed

        func long(_ key: String) -> Int64 {
            if case .integer(let number) = parsed[key] { return number }
            preconditionFailure("\(key) is not an integer")
        }
        func flag(_ key: String) -> Bool {
            if case .boolean(let value) = parsed[key] { return value }
            preconditionFailure("\(key) is not a boolean")
        }
        func text(_ key: String) -> String { parsed[key]?.text ?? "" }

        let minLag = long("min.compaction.lag.ms")
        let maxLag = long("max.compaction.lag.ms")
        guard minLag <= maxLag else {
            throw ConfigError(
                .invalidValue, key: "min.compaction.lag.ms",
                "conflicting topic config: min.compaction.lag.ms (\(minLag)) > max.compaction.lag.ms (\(maxLag)); lower the first or raise the second")
        }

        let timestampType: TimestampType = text("message.timestamp.type") == "LogAppendTime" ? .logAppendTime : .createTime
        var log = LogConfig()
        log.segmentBytes = Int(long("segment.bytes"))
        log.segmentMs = long("segment.ms")
        log.segmentIndexBytes = Int(long("segment.index.bytes"))
        log.indexIntervalBytes = Int(long("index.interval.bytes"))
        log.retentionMs = long("retention.ms")
        log.retentionBytes = long("retention.bytes")
        log.flushMessages = long("flush.messages")
        log.flushMs = long("flush.ms")
        log.messageTimestampType = timestampType
        log.fileDeleteDelayMs = long("file.delete.delay.ms")
        var policy: [String] = []
        if case .list(let names) = parsed["cleanup.policy"] { policy = names }
        var ratio = 0.5
        if case .double(let value) = parsed["min.cleanable.dirty.ratio"] { ratio = value }
        log.compact = policy.contains("compact")
        log.deleteByRetention = policy.contains("delete")
        log.deleteRetentionMs = long("delete.retention.ms")
        log.minCleanableDirtyRatio = ratio
        log.minCompactionLagMs = minLag
        // Storage has limits of its own beyond Kafka's ranges (a segment must hold a batch header).
        do {
            try log.validate()
        } catch {
            let key = error.message.split(separator: " ").first.map(String.init)
            throw ConfigError(.invalidValue, key: key, "Invalid topic config: \(error.message)")
        }
        self.log = log

        settings = TopicSettings(
            maxMessageBytes: Int(long("max.message.bytes")),
            compressionType: BrokerCompressionType(rawValue: text("compression.type")) ?? .producer,
            minInsyncReplicas: Int(long("min.insync.replicas")),
            cleanupPolicy: CleanupPolicy(names: policy),
            uncleanLeaderElectionEnable: flag("unclean.leader.election.enable"),
            messageTimestampType: timestampType,
            messageTimestampDifferenceMaxMs: long("message.timestamp.difference.max.ms"),
            deleteRetentionMs: long("delete.retention.ms"),
            minCleanableDirtyRatio: ratio,
            minCompactionLagMs: minLag,
            maxCompactionLagMs: maxLag,
            preallocate: flag("preallocate"),
            messageDownconversionEnable: flag("message.downconversion.enable"))
    }

    /// Checks a set of overrides (CreateTopics, AlterConfigs) against the broker's defaults.
    public static func validate(_ overrides: [String: String], broker: BrokerConfig) throws(ConfigError) {
        _ = try TopicConfig(overrides: overrides, broker: broker)
    }

    /// Kafka's "Unknown topic config name", with a hint: the topic-level name of a broker key, or the closest key.
    static func unknownKeyError(_ key: String) -> ConfigError {
        var message = "Unknown topic config name: \(key)."
        if let topicKey = brokerSynonyms.first(where: { $0.value.contains { $0.name == key } })?.key, topicKey != key {
            message += " \(key) is a broker setting; the topic-level name is \(topicKey)."
        } else if let suggestion = closestKey(to: key, among: keys.map(\.name)) {
            message += " Did you mean \(suggestion)?"
        } else {
            message += " Topic configs: \(keys.map(\.name).joined(separator: ", "))."
        }
        return ConfigError(.unknownKey, key: key, message)
    }
}
