import KafkaRecords

/// Per-log settings, with Kafka's topic-level names (broker-level names in parentheses) and Kafka's
/// defaults (LogConfig/KafkaConfig 2.8.2).
public struct LogConfig: Sendable, Hashable {
    /// `segment.bytes` (`log.segment.bytes`): roll a new segment before the active one would exceed this.
    public var segmentBytes: Int = 1_073_741_824
    /// `segment.ms` (`log.roll.ms`, `log.roll.hours` = 168): roll when the segment's first batch is
    /// this much older than the incoming one (by batch max timestamp; wall clock if there are none).
    public var segmentMs: Int64 = 604_800_000
    /// `segment.index.bytes` (`log.index.size.max.bytes`): the largest an offset or time index may grow;
    /// a full index rolls the segment.
    public var segmentIndexBytes: Int = 10_485_760
    /// `index.interval.bytes` (`log.index.interval.bytes`): bytes of batches between offset index entries.
    public var indexIntervalBytes: Int = 4096
    /// `retention.ms` (`log.retention.ms`, `log.retention.hours` = 168): delete segments whose newest
    /// timestamp is older than this. Negative: no time limit.
    public var retentionMs: Int64 = 604_800_000
    /// `retention.bytes` (`log.retention.bytes`): delete the oldest segments while the log is larger.
    /// Negative: no size limit.
    public var retentionBytes: Int64 = -1
    /// `flush.messages` (`log.flush.interval.messages`): fsync after this many unflushed records.
    /// The default leaves flushing to the page cache, as Kafka does.
    public var flushMessages: Int64 = .max
    /// `flush.ms` (`log.flush.interval.ms`): fsync when the last flush is older than this
    /// (checked by `LogManager.flushDirtyLogs`). The default never does.
    public var flushMs: Int64 = .max
    /// `message.timestamp.type` (`log.message.timestamp.type`): `CreateTime` keeps the producer's
    /// timestamps; `LogAppendTime` stamps each batch with the broker's clock on append.
    public var messageTimestampType: TimestampType = .createTime
    /// `file.delete.delay.ms` (`log.segment.delete.delay.ms`): how long a deleted segment stays as
    /// `.deleted` on disk before it is unlinked (readers that still hold it keep it longer).
    public var fileDeleteDelayMs: Int64 = 60_000
    /// `producer.id.expiration.ms` (broker-level only): an idempotent producer's state is dropped once
    /// its last batch is this old (checked at snapshots, on load and by `LogManager.runRetention`).
    public var producerIdExpirationMs: Int64 = 86_400_000
    /// `cleanup.policy` (`log.cleanup.policy`) contains `compact`: the log cleaner keeps only the
    /// latest record of each key (`LogCleaner`).
    public var compact: Bool = false
    /// `cleanup.policy` contains `delete`: `retention.ms` and `retention.bytes` delete old
    /// segments. A compact-only log loses segments only below its log start offset.
    public var deleteByRetention: Bool = true
    /// `delete.retention.ms` (`log.cleaner.delete.retention.ms`): how long a tombstone (a record
    /// with a null value) and its batch's delete horizon survive after the cleaner first reaches it.
    public var deleteRetentionMs: Int64 = 86_400_000
    /// `min.cleanable.dirty.ratio` (`log.cleaner.min.cleanable.ratio`): the cleaner compacts a log
    /// only when its dirty (not yet compacted) bytes are at least this fraction of the cleanable bytes.
    public var minCleanableDirtyRatio: Double = 0.5
    /// `min.compaction.lag.ms` (`log.cleaner.min.compaction.lag.ms`): a segment whose newest
    /// timestamp is younger than this, and every later one, stays uncompacted.
    public var minCompactionLagMs: Int64 = 0
    /// Not a Kafka setting: every append returns only once its bytes are fsynced. Concurrent appends
    /// share fsyncs (group commit), so one fsync covers all appends made while the previous one ran.
    public var syncOnAppend: Bool = false

    public init() {}

    /// Checks the values can be used. Blocks: no.
    public func validate() throws(StorageError) {
        // A batch header is 61 bytes, and index positions are 32-bit.
        guard segmentBytes >= 61 && segmentBytes <= Int(Int32.max) else {
            throw StorageError(.invalidArgument, "segment.bytes must be between 61 and \(Int32.max), not \(segmentBytes)")
        }
        guard segmentIndexBytes >= TimeIndex.entrySize else {
            throw StorageError(.invalidArgument, "segment.index.bytes must be at least \(TimeIndex.entrySize), not \(segmentIndexBytes)")
        }
        guard indexIntervalBytes >= 0 else {
            throw StorageError(.invalidArgument, "index.interval.bytes must not be negative, not \(indexIntervalBytes)")
        }
        guard segmentMs > 0 else {
            throw StorageError(.invalidArgument, "segment.ms must be positive, not \(segmentMs)")
        }
        guard flushMessages > 0 && flushMs >= 0 && fileDeleteDelayMs >= 0 else {
            throw StorageError(.invalidArgument, "flush.messages must be positive and flush.ms, file.delete.delay.ms not negative")
        }
        guard producerIdExpirationMs >= 0 else {
            throw StorageError(.invalidArgument, "producer.id.expiration.ms must not be negative, not \(producerIdExpirationMs)")
        }
        guard deleteRetentionMs >= 0 && minCompactionLagMs >= 0 else {
            throw StorageError(.invalidArgument, "delete.retention.ms and min.compaction.lag.ms must not be negative")
        }
        guard minCleanableDirtyRatio >= 0 && minCleanableDirtyRatio <= 1 else {
            throw StorageError(.invalidArgument, "min.cleanable.dirty.ratio must be between 0 and 1, not \(minCleanableDirtyRatio)")
        }
        guard messageTimestampType != .noTimestampType else {
            throw StorageError(.invalidArgument, "message.timestamp.type must be CreateTime or LogAppendTime")
        }
    }
}
