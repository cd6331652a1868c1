import KafkaModel
import Foundation
import KafkaRecords
import Logging
import NIOCore

/// The log of one partition (Kafka's `UnifiedLog`/`LocalLog`): a directory `<topic>-<partition>` of
/// segments (`LogSegment`), the leader epoch cache, and the offsets that bound it — log start, log
/// end, high watermark and recovery point.
///
/// On disk: the segments' `<base>.log`, `<base>.index`, `<base>.timeindex`, the
/// `leader-epoch-checkpoint` file and the idempotent producers' `<offset>.snapshot` files (see
/// `ProducerStateManager`). Opening the directory runs `LogLoader`, which recovers from a
/// crash (see there). The recovery point, log start and high watermark live in the log
/// directory's checkpoint files, written by `LogManager`.
///
/// Concurrency: thread-safe. All state is guarded by `lock` (an `NSCondition`, also used to wait for
/// group commits). Appends are serialized by it; reads hold it only to find their byte range and
/// copy bytes or `sendfile` after releasing it; fsyncs run outside it. Every method that touches
/// files blocks, as its comment says: call them from a thread pool, never from an event loop or
/// Swift's cooperative pool.
///
/// After a failed write or fsync the log is taken offline: later calls throw `.logClosed` (with the
/// original failure in the message) until it is reopened, which recovers it.
public final class PartitionLog: @unchecked Sendable {
    public let topicPartition: TopicPartition
    /// The partition's directory.
    public let directory: String
    private let clock: StorageClock
    private let logger: Logger
    private let epochFile: LeaderEpochCheckpointFile

    /// Guards `state`; its condition wakes appenders waiting for a group commit.
    private let lock = NSCondition()
    private var state: State

    private struct State {
        var config: LogConfig
        /// Sorted by base offset; never empty; the last one is the active segment.
        var segments: [LogSegment]
        var logStartOffset: Int64
        var highWatermark: Int64
        /// Offsets below this are known to be on disk (fsynced).
        var recoveryPoint: Int64
        var lastFlushMs: Int64
        var epochs: LeaderEpochCache
        /// Idempotent producers' epochs and last batches, and their snapshot files.
        var producers: ProducerStateManager
        /// Deleted segments waiting out `file.delete.delay.ms` before being released (and unlinked).
        var pendingDeletions: [(deadline: Int64, segment: LogSegment)] = []
        /// True while one thread runs a group-commit fsync; others wait on the condition.
        var syncInProgress = false
        /// Bumped by truncation, so an fsync that started before it does not move the recovery point.
        var truncations: UInt64 = 0
        /// Segment files were created or renamed since the directory was last fsynced.
        var directoryDirty = false
        var closed = false
        var failure: StorageError?
        /// Group-commit fsync rounds run (each syncs one or more files); for tests.
        var syncRounds = 0
        /// Extra latency before each fsync, so tests see grouping on disks whose fsync is nearly free.
        var syncDelayMicrosecondsForTesting: UInt32 = 0

        var activeSegment: LogSegment { segments[segments.count - 1] }
        var logEndOffset: Int64 { activeSegment.nextOffset }

        /// The index of the last segment whose base offset is <= `offset` (0 if none).
        func segmentIndex(containing offset: Int64) -> Int {
            var low = 0
            var high = segments.count
            while low < high {
                let middle = (low + high) / 2
                if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
            }
            return max(0, low - 1)
        }
    }

    private init(
        topicPartition: TopicPartition, directory: String, clock: StorageClock, logger: Logger, state: State
    ) {
        self.topicPartition = topicPartition
        self.directory = directory
        self.clock = clock
        self.logger = logger
        self.epochFile = LeaderEpochCheckpointFile(path: directory + "/" + LeaderEpochCheckpointFile.fileName)
        self.state = state
    }

    /// Opens the partition directory `directory` (creating it, with an empty first segment, if
    /// needed) and recovers it (`LogLoader`). The offsets come from the log directory's checkpoint
    /// files (0 when absent); `hadCleanShutdown` skips the scan of unflushed segments. Blocks: a
    /// crash recovery reads every unflushed segment.
    public static func open(
        directory: String,
        topicPartition: TopicPartition,
        config: LogConfig = LogConfig(),
        recoveryPoint: Int64 = 0,
        logStartOffset: Int64 = 0,
        highWatermark: Int64 = 0,
        hadCleanShutdown: Bool = false,
        clock: StorageClock = .system,
        logger: Logger
    ) throws(StorageError) -> PartitionLog {
        try config.validate()
        guard TopicPartition.isLegalTopicName(topicPartition.topic), topicPartition.partition >= 0 else {
            throw StorageError(.invalidArgument, "illegal topic or partition \(topicPartition)")
        }
        let created = !isDirectory(directory)
        try makeDirectory(directory)
        if created { try syncDirectory(parentDirectory(of: directory)) }
        let now = clock.milliseconds()
        let loaded = try LogLoader(
            directory: directory, topicPartition: topicPartition, config: config, recoveryPointCheckpoint: recoveryPoint,
            logStartOffsetCheckpoint: logStartOffset, hadCleanShutdown: hadCleanShutdown, now: now, logger: logger
        ).load()
        let logEndOffset = loaded.segments[loaded.segments.count - 1].nextOffset
        let state = State(
            config: config, segments: loaded.segments, logStartOffset: loaded.logStartOffset,
            highWatermark: min(max(highWatermark, loaded.logStartOffset), logEndOffset),
            recoveryPoint: loaded.recoveryPoint, lastFlushMs: now, epochs: loaded.epochCache, producers: loaded.producerState,
            directoryDirty: created)
        logger.info(
            "Loaded log \(topicPartition) from \(directory): \(loaded.segments.count) segments, log start \(loaded.logStartOffset), log end \(logEndOffset)")
        return PartitionLog(topicPartition: topicPartition, directory: directory, clock: clock, logger: logger, state: state)
    }

    private func withState<T, E: Error>(_ body: (inout State) throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }

    private func checkUsable(_ state: State) throws(StorageError) {
        if let failure = state.failure {
            throw StorageError(.logClosed, "log \(topicPartition) is offline after an earlier failure: \(failure)")
        }
        if state.closed {
            throw StorageError(.logClosed, "log \(topicPartition) is closed")
        }
    }

    /// Takes the log offline after a failed write: its state may no longer match the files.
    private func fail(_ state: inout State, _ error: StorageError) -> StorageError {
        if state.failure == nil {
            state.failure = error
            logger.error("Log \(topicPartition) is offline: \(error)")
        }
        return error
    }

    // MARK: Offsets and settings

    /// Blocks: no (takes the lock).
    public var config: LogConfig { withState { $0.config } }
    /// The first offset that may be read. Blocks: no.
    public var logStartOffset: Int64 { withState { $0.logStartOffset } }
    /// The offset the next appended record gets (LEO). Blocks: no.
    public var logEndOffset: Int64 { withState { $0.logEndOffset } }
    /// The high watermark slot (kept here so consumers' reads can be capped and it can be
    /// checkpointed). Blocks: no.
    public var highWatermark: Int64 { withState { $0.highWatermark } }
    /// Offsets below this are fsynced. Blocks: no.
    public var recoveryPoint: Int64 { withState { $0.recoveryPoint } }
    /// Bytes in all segments. Blocks: no.
    public var size: Int { withState { $0.segments.reduce(0) { $0 + $1.size } } }
    /// Base offsets of the segments, oldest first. Blocks: no.
    public var segmentBaseOffsets: [Int64] { withState { $0.segments.map(\.baseOffset) } }
    /// The leader epoch cache's entries. Blocks: no.
    public var leaderEpochEntries: [LeaderEpochCache.Entry] { withState { $0.epochs.entries } }
    /// The latest leader epoch in the cache, if any. Blocks: no.
    public var latestEpoch: Int32? { withState { $0.epochs.latestEpoch } }
    /// Number of group-commit fsync rounds so far (each covers every append before it).
    var syncRounds: Int { withState { $0.syncRounds } }
    /// Makes every fsync round slower by this much, as a real disk's fsync is (tests only).
    var syncDelayMicrosecondsForTesting: UInt32 {
        get { withState { $0.syncDelayMicrosecondsForTesting } }
        set { withState { $0.syncDelayMicrosecondsForTesting = newValue } }
    }

    /// Sets the high watermark, clamped to [log start, log end]; returns the value stored.
    /// Blocks: no.
    @discardableResult
    public func updateHighWatermark(_ offset: Int64) -> Int64 {
        withState { state in
            state.highWatermark = min(max(offset, state.logStartOffset), state.logEndOffset)
            return state.highWatermark
        }
    }

    /// Replaces the settings (topic config change). New index sizes apply to new segments.
    /// Blocks: no.
    public func updateConfig(_ config: LogConfig) throws(StorageError) {
        try config.validate()
        withState { state in
            state.config = config
            state.producers.expirationMs = config.producerIdExpirationMs
        }
    }

    // MARK: Appending

    /// Appends one validated batch as the leader: the batch gets offsets from the log end and the
    /// leader's epoch, written into its header in place (the CRC covers neither), and, if the log
    /// uses `LogAppendTime`, the broker's time (which recomputes the CRC, as Kafka does). The bytes
    /// are not otherwise re-encoded. The caller has validated the batch (CRC, record count, ...).
    /// Rolls a new segment first when needed; flushes when `flush.messages` is reached; with
    /// `syncOnAppend` returns only once the batch is fsynced. Blocks (pwrite; fsync when flushing).
    /// The batch is consumed: when the caller hands over its only reference, the header is
    /// rewritten in the caller's buffer without a copy.
    ///
    /// A batch with a producer id is checked against the producer's state (`ProducerStateManager`):
    /// a retry of one of its last 5 batches appends nothing and answers the original offsets with
    /// `isDuplicate` set; a fenced epoch throws `.invalidProducerEpoch` and a sequence that does not
    /// follow `.outOfOrderSequence`, with nothing appended.
    public func appendAsLeader(_ batch: consuming RecordBatch, leaderEpoch: Int32) throws(StorageError) -> LogAppendInfo {
        var batch = consume batch
        let info = try withState { state throws(StorageError) -> LogAppendInfo in
            try checkUsable(state)
            let now = clock.milliseconds()
            var appendTime: Int64 = -1
            if state.config.messageTimestampType == .logAppendTime {
                batch.setLogAppendTime(now)
                appendTime = now
            }
            batch.assignOffsets(baseOffset: state.logEndOffset, partitionLeaderEpoch: leaderEpoch)
            try checkBatch(batch.header, state)
            if let original = try state.producers.checkLeaderAppend(batch.header) {
                logger.debug(
                    "Duplicate batch of producer \(batch.header.producerId) for \(topicPartition): already at offsets \(original.firstOffset)...\(original.lastOffset)")
                return LogAppendInfo(
                    firstOffset: original.firstOffset, lastOffset: original.lastOffset, logAppendTime: original.maxTimestamp,
                    logStartOffset: state.logStartOffset, isDuplicate: true)
            }
            try append(batch, to: &state, now: now)
            state.producers.update(batch.header)
            try updateEpochs(&state) { $0.assign(epoch: leaderEpoch, startOffset: batch.header.baseOffset) }
            return LogAppendInfo(
                firstOffset: batch.header.baseOffset, lastOffset: batch.header.lastOffset, logAppendTime: appendTime,
                logStartOffset: state.logStartOffset)
        }
        try flushAfterAppend(info)
        return info
    }

    /// Appends a follower's batches as they came from the leader, keeping their offsets and epochs.
    /// Producer state follows the batches without validation. Each batch's CRC is checked, and its offsets must be at or above the log end and increase;
    /// nothing is written unless all batches pass. Returns nil for no batches. Blocks like
    /// `appendAsLeader`.
    public func appendAsFollower(_ batches: [RecordBatch]) throws(StorageError) -> LogAppendInfo? {
        guard let first = batches.first, let last = batches.last else { return nil }
        let info = try withState { state throws(StorageError) -> LogAppendInfo in
            try checkUsable(state)
            var expected = state.logEndOffset
            for batch in batches {
                try checkBatch(batch.header, state)
                guard batch.header.baseOffset >= expected else {
                    throw StorageError(
                        .invalidAppendOffset,
                        "follower batch with offsets \(batch.header.baseOffset)...\(batch.header.lastOffset) for \(topicPartition) is not above offset \(expected - 1)")
                }
                guard batch.isChecksumValid else {
                    throw StorageError(.corruptRecord, "follower batch at offset \(batch.header.baseOffset) for \(topicPartition) failed its CRC check")
                }
                expected = batch.header.nextOffset
            }
            let now = clock.milliseconds()
            for batch in batches {
                try append(batch, to: &state, now: now)
                state.producers.update(batch.header)
                try updateEpochs(&state) { $0.assign(epoch: batch.header.partitionLeaderEpoch, startOffset: batch.header.baseOffset) }
            }
            return LogAppendInfo(
                firstOffset: first.header.baseOffset, lastOffset: last.header.lastOffset, logAppendTime: -1,
                logStartOffset: state.logStartOffset)
        }
        try flushAfterAppend(info)
        return info
    }

    private func checkBatch(_ header: RecordBatchHeader, _ state: State) throws(StorageError) {
        guard header.lastOffsetDelta >= 0 else {
            throw StorageError(.corruptRecord, "batch for \(topicPartition) has last offset delta \(header.lastOffsetDelta)")
        }
        guard header.totalSize <= state.config.segmentBytes else {
            throw StorageError(
                .recordTooLarge, "batch of \(header.totalSize) bytes for \(topicPartition) exceeds segment.bytes \(state.config.segmentBytes)")
        }
    }

    /// Writes one batch to the active segment, rolling first if needed.
    private func append(_ batch: RecordBatch, to state: inout State, now: Int64) throws(StorageError) {
        let header = batch.header
        if let reason = state.activeSegment.rollReason(for: header, config: state.config, now: now) {
            try roll(&state, baseOffset: header.baseOffset, reason: reason, now: now)
        }
        let segment = state.activeSegment
        let result: Result<Void, StorageError> = batch.buffer.withUnsafeReadableBytes { bytes in
            Result { () throws(StorageError) in try segment.append(bytes, header: header) }
        }
        if case .failure(let error) = result { throw fail(&state, error) }
    }

    /// Starts a new active segment at `baseOffset` (Kafka's `roll`). An empty active segment is
    /// replaced rather than left behind. Blocks (creates files).
    private func roll(_ state: inout State, baseOffset: Int64, reason: String, now: Int64) throws(StorageError) {
        let old = state.activeSegment
        do throws(StorageError) {
            if old.size == 0 {
                if old.baseOffset == baseOffset { return }
                try old.markDeleted()
                state.segments.removeLast()
            } else {
                try old.onBecomeInactive()
            }
            state.segments.append(try LogSegment.create(directory: directory, baseOffset: baseOffset, config: state.config, now: now))
            // Nothing lies between the log end and the new base: the state as of the log end is the state at it.
            try state.producers.takeSnapshot(at: baseOffset, now: now)
            try state.producers.deleteSnapshots(below: minSnapshotOffsetToRetain(state))
        } catch {
            throw fail(&state, error)
        }
        state.logStartOffset = max(state.logStartOffset, state.segments[0].baseOffset)
        state.directoryDirty = true
        logger.info("Rolled a new segment for \(topicPartition) at offset \(baseOffset): \(reason)")
    }

    /// The oldest producer snapshot worth keeping (Kafka's `minSnapshotsOffsetToRetain`): the base of
    /// the segment before the active one, or of the segment below the recovery point if lower, so a
    /// crash that loses unflushed data still finds a snapshot at or below the recovered log end.
    private func minSnapshotOffsetToRetain(_ state: State) -> Int64 {
        let previous = state.segments[max(0, state.segments.count - 2)].baseOffset
        let belowRecovery = state.segments.last { $0.baseOffset < state.recoveryPoint }?.baseOffset ?? state.recoveryPoint
        return min(previous, belowRecovery, state.logEndOffset)
    }

    /// Deletes producer snapshots that are no longer needed (Kafka does this after writing the
    /// recovery point checkpoint). Blocks (unlinks).
    func deleteOldProducerSnapshots() throws(StorageError) {
        try withState { state throws(StorageError) in
            try checkUsable(state)
            do throws(StorageError) {
                try state.producers.deleteSnapshots(below: minSnapshotOffsetToRetain(state))
            } catch {
                throw fail(&state, error)
            }
        }
    }

    /// Forces a new segment at the log end (if the active one is not empty). Blocks.
    public func roll() throws(StorageError) {
        try withState { state throws(StorageError) in
            try checkUsable(state)
            try roll(&state, baseOffset: state.logEndOffset, reason: "requested", now: clock.milliseconds())
        }
    }

    /// Changes the epoch cache and, if it changed, rewrites `leader-epoch-checkpoint`.
    private func updateEpochs(_ state: inout State, _ change: (inout LeaderEpochCache) -> Bool) throws(StorageError) {
        guard change(&state.epochs) else { return }
        do throws(StorageError) {
            try epochFile.write(state.epochs.entries)
        } catch {
            throw fail(&state, error)
        }
    }

    private func flushAfterAppend(_ info: LogAppendInfo) throws(StorageError) {
        let flush = withState { state in
            state.config.syncOnAppend || state.logEndOffset - state.recoveryPoint >= state.config.flushMessages
        }
        if flush { try waitForDurable(upTo: info.nextOffset) }
    }

    // MARK: Durability (group commit)

    /// Returns once every offset below `offset` is fsynced (pass an append's `nextOffset`).
    ///
    /// Group commit: if an fsync is running, the caller waits for it and returns if it covered
    /// `offset`; otherwise the first waiter to get there fsyncs everything appended so far, covering
    /// every thread that appended meanwhile. So N concurrent appenders need far fewer than N
    /// fsyncs. Advances the recovery point. Throws `.offsetOutOfRange` if `offset` is beyond the log
    /// end (the data was truncated away), and `.logClosed` if the log is offline. Blocks (fsync).
    public func waitForDurable(upTo offset: Int64) throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        while true {
            if state.recoveryPoint >= offset { return }
            if let failure = state.failure {
                throw StorageError(.logClosed, "log \(topicPartition) is offline after an earlier failure: \(failure)")
            }
            guard offset <= state.logEndOffset else {
                throw StorageError(
                    .offsetOutOfRange, "cannot wait for offset \(offset) of \(topicPartition) to be durable: the log ends at \(state.logEndOffset)")
            }
            if state.syncInProgress {
                lock.wait()
                continue
            }
            if state.closed {
                throw StorageError(.logClosed, "log \(topicPartition) is closed")
            }
            // This thread runs the next fsync, for everything appended so far.
            state.syncInProgress = true
            let target = state.logEndOffset
            let truncations = state.truncations
            let first = state.segmentIndex(containing: state.recoveryPoint)
            let active = state.segments.count - 1
            do throws(StorageError) {
                try state.activeSegment.persistIndexes()
            } catch {
                state.syncInProgress = false
                lock.broadcast()
                throw fail(&state, error)
            }
            var files: [LogFile] = []
            for index in first...active {
                files += state.segments[index].filesToSync(includeIndexes: index < active)
            }
            let syncDir = state.directoryDirty
            state.directoryDirty = false
            let delay = state.syncDelayMicrosecondsForTesting

            lock.unlock()
            var failure: StorageError?
            if delay > 0 { usleep(delay) }
            do {
                for file in files { try file.sync() }
                if syncDir { try syncDirectory(directory) }
            } catch {
                failure = error
            }
            lock.lock()

            state.syncInProgress = false
            state.syncRounds += 1
            if let failure {
                _ = fail(&state, failure)
            } else if truncations == state.truncations {
                state.recoveryPoint = max(state.recoveryPoint, target)
                state.lastFlushMs = clock.milliseconds()
            }
            lock.broadcast()
        }
    }

    /// fsyncs everything appended so far (Kafka's `flush`). Blocks (fsync).
    public func flush() throws(StorageError) {
        try waitForDurable(upTo: logEndOffset)
    }

    /// The periodic flush (Kafka's `flushDirtyLogs`): fsyncs if `flush.ms` passed since the last
    /// flush, or if rolled segments are not flushed yet (Kafka flushes them right after the roll).
    /// Returns whether it flushed. Blocks (fsync).
    @discardableResult
    public func flushIfDue(now: Int64? = nil) throws(StorageError) -> Bool {
        let now = now ?? clock.milliseconds()
        let target: Int64? = withState { state in
            guard !state.closed, state.failure == nil, state.recoveryPoint < state.logEndOffset else { return nil }
            if now - state.lastFlushMs >= state.config.flushMs { return state.logEndOffset }
            if state.recoveryPoint < state.activeSegment.baseOffset { return state.activeSegment.baseOffset }
            return nil
        }
        guard let target else { return false }
        try waitForDurable(upTo: target)
        return true
    }

    // MARK: Reading

    /// Finds the bytes to send for a fetch from `offset`: starting at the batch that contains it,
    /// at most `maxBytes` (except that with `minOneMessage` the first batch is whole even if larger,
    /// KIP-74), within one segment, and only batches entirely below `maxOffset` if given (the high
    /// watermark for consumers). An offset at the log end, or at or above `maxOffset`, gives an
    /// empty result; one below the log start or above the log end throws `.offsetOutOfRange`.
    /// The result holds the file open for `sendfile`. Blocks (a few preads of batch headers).
    public func read(from offset: Int64, maxBytes: Int, maxOffset: Int64? = nil, minOneMessage: Bool = true) throws(StorageError) -> LogReadResult {
        try withState { state throws(StorageError) -> LogReadResult in
            try checkUsable(state)
            let empty = LogReadResult(
                file: nil, position: 0, length: 0, firstBatchOffset: nil, highWatermark: state.highWatermark,
                logStartOffset: state.logStartOffset, logEndOffset: state.logEndOffset)
            guard offset >= state.logStartOffset && offset <= state.logEndOffset else {
                throw StorageError(
                    .offsetOutOfRange,
                    "offset \(offset) of \(topicPartition) is outside the log [\(state.logStartOffset), \(state.logEndOffset)]")
            }
            let limit = min(maxOffset ?? state.logEndOffset, state.logEndOffset)
            guard offset < limit else { return empty }
            for segment in state.segments[state.segmentIndex(containing: offset)...] {
                guard let (position, header) = try segment.findBatch(containing: offset) else { continue }
                guard header.lastOffset < limit else { return empty }
                var endPosition = segment.size
                if limit < segment.nextOffset, let capped = try segment.findBatch(containing: limit) {
                    endPosition = capped.position
                }
                let wanted = minOneMessage ? max(maxBytes, header.totalSize) : max(maxBytes, 0)
                let length = min(endPosition - position, wanted)
                guard length > 0 else { return empty }
                return LogReadResult(
                    file: segment.log, position: position, length: length, firstBatchOffset: header.baseOffset,
                    highWatermark: state.highWatermark, logStartOffset: state.logStartOffset, logEndOffset: state.logEndOffset)
            }
            return empty
        }
    }

    /// Like `read`, but copies the bytes into memory and keeps only whole batches (a trailing
    /// partial batch is dropped), for tools, tests and followers. Blocks (pread).
    public func readBatches(from offset: Int64, maxBytes: Int, maxOffset: Int64? = nil, minOneMessage: Bool = true) throws(StorageError) -> ByteBuffer {
        let result = try read(from: offset, maxBytes: maxBytes, maxOffset: maxOffset, minOneMessage: minOneMessage)
        var bytes = try result.readBytes()
        var whole = 0
        while let length = bytes.getInteger(at: bytes.readerIndex + whole + RecordBatchHeader.Offset.length, as: Int32.self),
            length >= RecordBatchHeader.minimumLength,
            whole + Int(length) + RecordBatchHeader.logOverhead <= bytes.readableBytes
        {
            whole += Int(length) + RecordBatchHeader.logOverhead
        }
        bytes.moveWriterIndex(to: bytes.readerIndex + whole)
        return bytes
    }

    /// ListOffsets by time: the first offset at or after the log start whose record timestamp is
    /// >= `timestamp`, with that timestamp; nil if there is none, or if it is at or above
    /// `maxOffset` (the high watermark for consumers). Uses the time index, the offset index and a
    /// walk over batch headers, then decodes the one batch found to pick the record (falling back to
    /// the batch's base offset and max timestamp if it cannot be decoded). Blocks (preads).
    public func offset(forTimestamp timestamp: Int64, maxOffset: Int64? = nil) throws(StorageError) -> TimestampOffset? {
        let found = try withState { state throws(StorageError) -> (LogFile, Int, RecordBatchHeader, Int64)? in
            try checkUsable(state)
            for segment in state.segments where segment.largestTimestamp >= timestamp {
                if let (position, header) = try segment.findBatch(timestampAtLeast: timestamp, startingOffset: state.logStartOffset) {
                    return (segment.log, position, header, state.logStartOffset)
                }
            }
            return nil
        }
        guard let (file, position, header, startOffset) = found else { return nil }
        var answer = TimestampOffset(offset: max(header.baseOffset, startOffset), timestamp: header.maxTimestamp)
        if let buffer = try? file.readBuffer(count: header.totalSize, at: position),
            let batch = try? RecordBatch(buffer: buffer), let records = try? batch.records(),
            let record = records.first(where: { $0.timestamp >= timestamp && $0.offset >= startOffset })
        {
            answer = TimestampOffset(offset: record.offset, timestamp: record.timestamp)
        }
        if let maxOffset, answer.offset >= maxOffset { return nil }
        return answer
    }

    // MARK: Retention and log start

    /// Deletes whole segments that breach the log start offset, `retention.bytes` or `retention.ms`
    /// (by each segment's newest timestamp), in that order and oldest first (Kafka's
    /// `deleteOldSegments`); the last two only when `cleanup.policy` includes `delete`. Only segments entirely below the high watermark go; an empty active
    /// segment never does, and if every segment goes a new active one is rolled first. The log start
    /// moves to the first remaining segment. Also releases deleted segments whose
    /// `file.delete.delay.ms` has passed. Returns the number of segments deleted. Blocks (renames).
    @discardableResult
    public func deleteOldSegments(now: Int64? = nil) throws(StorageError) -> Int {
        let now = now ?? clock.milliseconds()
        return try withState { state throws(StorageError) -> Int in
            try checkUsable(state)
            state.pendingDeletions.removeAll { $0.deadline <= now }
            let logStart = state.logStartOffset
            var deleted = try deleteSegments(&state, now: now, reason: "below the log start offset \(logStart)") { _, next in
                (next?.baseOffset ?? .max) <= logStart
            }
            let config = state.config
            if config.deleteByRetention && config.retentionBytes >= 0 {
                var excess = Int64(state.segments.reduce(0) { $0 + $1.size }) - config.retentionBytes
                deleted += try deleteSegments(&state, now: now, reason: "retention.bytes \(config.retentionBytes)") { segment, _ in
                    guard excess - Int64(segment.size) >= 0 else { return false }
                    excess -= Int64(segment.size)
                    return true
                }
            }
            if config.deleteByRetention && config.retentionMs >= 0 {
                deleted += try deleteSegments(&state, now: now, reason: "retention.ms \(config.retentionMs)") { segment, _ in
                    now - segment.largestTimestamp > config.retentionMs
                }
            }
            return deleted
        }
    }

    /// Deletes the oldest segments while `shouldDelete(segment, next)` holds and the segment is
    /// below the high watermark and not the empty active segment.
    private func deleteSegments(
        _ state: inout State, now: Int64, reason: String, _ shouldDelete: (LogSegment, LogSegment?) -> Bool
    ) throws(StorageError) -> Int {
        var count = 0
        for (index, segment) in state.segments.enumerated() {
            let next = index + 1 < state.segments.count ? state.segments[index + 1] : nil
            let upperBound = next?.baseOffset ?? state.logEndOffset
            guard state.highWatermark >= upperBound, next != nil || segment.size > 0, shouldDelete(segment, next) else { break }
            count += 1
        }
        guard count > 0 else { return 0 }
        if count == state.segments.count {
            try roll(&state, baseOffset: state.logEndOffset, reason: "every segment is being deleted", now: now)
        }
        let doomed = state.segments.prefix(count)
        state.segments.removeFirst(count)
        do throws(StorageError) {
            for segment in doomed {
                try segment.markDeleted()
                state.pendingDeletions.append((now + state.config.fileDeleteDelayMs, segment))
            }
        } catch {
            throw fail(&state, error)
        }
        state.pendingDeletions.removeAll { $0.deadline <= now }
        state.directoryDirty = true
        try moveLogStart(&state, to: state.segments[0].baseOffset)
        logger.info("Deleted \(count) segments of \(topicPartition) (\(reason)): base offsets \(doomed.map(\.baseOffset))")
        return count
    }

    private func moveLogStart(_ state: inout State, to offset: Int64) throws(StorageError) {
        guard offset > state.logStartOffset else { return }
        state.logStartOffset = offset
        state.highWatermark = max(state.highWatermark, offset)
        state.recoveryPoint = max(state.recoveryPoint, state.segments[0].baseOffset)
        try updateEpochs(&state) { $0.truncateFromStart(startOffset: offset) }
        // Producers stay known (as in Kafka); only their snapshots below the new start go.
        do throws(StorageError) {
            try state.producers.deleteSnapshots(below: offset)
        } catch {
            throw fail(&state, error)
        }
    }

    /// DeleteRecords: moves the log start offset up to `offset`, which must not exceed the high
    /// watermark, and deletes the segments wholly below it. Returns the new log start offset.
    /// Blocks (renames).
    @discardableResult
    public func deleteRecords(before offset: Int64) throws(StorageError) -> Int64 {
        try withState { state throws(StorageError) -> Int64 in
            try checkUsable(state)
            guard offset >= 0 && offset <= state.highWatermark else {
                throw StorageError(
                    .offsetOutOfRange,
                    "cannot delete records of \(topicPartition) before offset \(offset): it must be between 0 and the high watermark \(state.highWatermark)")
            }
            try moveLogStart(&state, to: offset)
            let logStart = state.logStartOffset
            let now = clock.milliseconds()
            _ = try deleteSegments(&state, now: now, reason: "below the log start offset \(logStart)") { _, next in
                (next?.baseOffset ?? .max) <= logStart
            }
            return state.logStartOffset
        }
    }

    // MARK: Truncation

    /// Removes every record at or above `offset` (a follower after a leader change): later segments
    /// are deleted, the segment holding `offset` is cut before the batch that contains it and its
    /// indexes are rebuilt, the epoch cache loses entries from the new end on, producer snapshots
    /// above the new end are deleted and the producer state is rebuilt for it, and the high
    /// watermark and recovery point come down to the new log end. An offset below the log start
    /// empties the log to start there (`truncateFully`). Returns whether anything was removed.
    /// Blocks.
    @discardableResult
    public func truncate(to offset: Int64) throws(StorageError) -> Bool {
        try withState { state throws(StorageError) -> Bool in
            try checkUsable(state)
            guard offset >= 0 else {
                throw StorageError(.invalidArgument, "cannot truncate \(topicPartition) to negative offset \(offset)")
            }
            guard offset < state.logEndOffset else { return false }
            if offset < state.logStartOffset {
                try truncateFully(&state, startingAt: offset)
                return true
            }
            let now = clock.milliseconds()
            let keep = state.segmentIndex(containing: offset) + 1
            let removedSegments = state.segments[keep...]
            state.segments.removeSubrange(keep...)
            var removedBytes = 0
            do throws(StorageError) {
                for segment in removedSegments {
                    try segment.markDeleted()
                    state.pendingDeletions.append((now + state.config.fileDeleteDelayMs, segment))
                }
                removedBytes = try state.activeSegment.truncate(to: offset)
                try state.producers.truncateAndReload(
                    segments: state.segments, logStartOffset: min(state.logStartOffset, state.logEndOffset),
                    logEndOffset: state.logEndOffset, now: now)
            } catch {
                throw fail(&state, error)
            }
            state.truncations += 1
            state.directoryDirty = true
            let end = state.logEndOffset
            // A cut inside a batch (never at the batch boundaries replication uses) may end below the start.
            state.logStartOffset = min(state.logStartOffset, end)
            state.highWatermark = min(state.highWatermark, end)
            state.recoveryPoint = min(state.recoveryPoint, end)
            try updateEpochs(&state) { $0.truncateFromEnd(endOffset: end) }
            logger.info(
                "Truncated \(topicPartition) to offset \(offset): log end now \(end), \(removedSegments.count) segments and \(removedBytes) bytes of the last one removed")
            return true
        }
    }

    /// Deletes every segment and starts an empty log at `offset` (a follower whose log end is below
    /// the leader's log start). The epoch cache and producer state are cleared. Blocks.
    public func truncateFully(startingAt offset: Int64) throws(StorageError) {
        try withState { state throws(StorageError) in
            try checkUsable(state)
            guard offset >= 0 else {
                throw StorageError(.invalidArgument, "cannot start \(topicPartition) at negative offset \(offset)")
            }
            try truncateFully(&state, startingAt: offset)
        }
    }

    private func truncateFully(_ state: inout State, startingAt offset: Int64) throws(StorageError) {
        let now = clock.milliseconds()
        let old = state.segments
        do throws(StorageError) {
            for segment in old {
                try segment.markDeleted()
                state.pendingDeletions.append((now + state.config.fileDeleteDelayMs, segment))
            }
            state.segments = [try LogSegment.create(directory: directory, baseOffset: offset, config: state.config, now: now)]
            try state.producers.truncateFully()
        } catch {
            throw fail(&state, error)
        }
        state.truncations += 1
        state.directoryDirty = true
        state.logStartOffset = offset
        state.highWatermark = offset
        state.recoveryPoint = offset
        try updateEpochs(&state) { $0.clear() }
        logger.info("Truncated \(topicPartition) fully: \(old.count) segments deleted, log starts at \(offset)")
    }

    // MARK: Leader epochs

    /// Records that `epoch` starts at `startOffset` (a broker becoming leader assigns its new epoch
    /// at its log end) and persists the cache if it changed. Blocks (fsync when it changes).
    public func assignEpochStartOffset(epoch: Int32, startOffset: Int64) throws(StorageError) {
        try withState { state throws(StorageError) in
            try checkUsable(state)
            try updateEpochs(&state) { $0.assign(epoch: epoch, startOffset: startOffset) }
        }
    }

    /// OffsetsForLeaderEpoch: see `LeaderEpochCache.endOffset(for:logEndOffset:)`. Blocks: no.
    public func endOffset(forEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        withState { $0.epochs.endOffset(for: epoch, logEndOffset: $0.logEndOffset) }
    }

    // MARK: Idempotent producers

    /// The state of one producer id on this partition, nil if unknown (never seen, expired or
    /// truncated away). Blocks: no.
    public func producerState(for producerId: Int64) -> ProducerStateEntry? {
        withState { $0.producers.producers[producerId] }
    }

    /// Every known producer (DescribeProducers). Blocks: no.
    public var activeProducers: [Int64: ProducerStateEntry] { withState { $0.producers.producers } }

    /// Offsets of the producer snapshot files, ascending. Blocks: no.
    public var producerSnapshotOffsets: [Int64] { withState { $0.producers.snapshotOffsets } }

    /// Forgets producers idle for `producer.id.expiration.ms` (by their last batch's timestamp);
    /// `LogManager.runRetention` calls it. Returns how many went. Blocks: no.
    @discardableResult
    public func removeExpiredProducers(now: Int64? = nil) -> Int {
        let now = now ?? clock.milliseconds()
        return withState { $0.producers.removeExpired(now: now) }
    }

    // MARK: Compaction (see `LogCleaner`)

    /// A segment other than the active one, as the cleaner saw it: the segment itself (compared by
    /// identity when the cleaned copy is swapped in) and its size and offsets at that time.
    struct CleanableSegment {
        let segment: LogSegment
        let size: Int
        let nextOffset: Int64
        let largestTimestamp: Int64
        var baseOffset: Int64 { segment.baseOffset }
    }

    /// What the cleaner needs to know about the log, taken under the lock in one go.
    struct CleaningView {
        let config: LogConfig
        /// Every segment but the active one, oldest first.
        let segments: [CleanableSegment]
        let activeBaseOffset: Int64
        let logStartOffset: Int64
        let highWatermark: Int64
        /// The last offset of each known producer's last batch: that batch is kept, if only as an
        /// empty batch, so the producer's sequence survives a reload from the log.
        let producerLastOffsets: [Int64: Int64]
    }

    /// The cleaner's view of the log. Blocks: no.
    func cleaningView() throws(StorageError) -> CleaningView {
        try withState { state throws(StorageError) -> CleaningView in
            try checkUsable(state)
            let inactive = state.segments.dropLast().map { segment in
                CleanableSegment(
                    segment: segment, size: segment.size, nextOffset: segment.nextOffset, largestTimestamp: segment.largestTimestamp)
            }
            var lastOffsets: [Int64: Int64] = [:]
            for (producerId, entry) in state.producers.producers {
                if let last = entry.batches.last { lastOffsets[producerId] = last.lastOffset }
            }
            return CleaningView(
                config: state.config, segments: inactive, activeBaseOffset: state.activeSegment.baseOffset,
                logStartOffset: state.logStartOffset, highWatermark: state.highWatermark, producerLastOffsets: lastOffsets)
        }
    }

    /// Swaps the cleaner's output `cleaned` (a flushed segment whose files end in `.cleaned`) in for
    /// the run of segments `old`, under the lock (Kafka's `replaceSegments`): the new files are
    /// renamed to `.swap`, the old segments are deleted as retention deletes them (renamed to
    /// `.deleted` and kept open for readers until `file.delete.delay.ms` has passed and the last
    /// reader let go), then the `.swap` suffix is dropped; the directory is fsynced after the first
    /// and last step. A crash at any point is completed or undone by `LogLoader`. Returns false,
    /// changing nothing, when `old` is no longer a run of inactive segments with the sizes the
    /// cleaner read (truncation or retention got there first); the caller then deletes `cleaned`.
    /// Blocks (renames, two directory fsyncs).
    func replaceSegments(
        _ old: [CleanableSegment], with cleaned: LogSegment, crashPoint: LogCleaner.CrashPoint? = nil
    ) throws(StorageError) -> Bool {
        try withState { state throws(StorageError) -> Bool in
            try checkUsable(state)
            guard let first = old.first, let start = state.segments.firstIndex(where: { $0 === first.segment }),
                start + old.count < state.segments.count,
                zip(state.segments[start...], old).allSatisfy({ $0 === $1.segment && $0.size == $1.size })
            else { return false }
            let now = clock.milliseconds()
            do throws(StorageError) {
                try cleaned.renameFiles(from: LogFileSuffix.cleaned, to: LogFileSuffix.swap)
                try syncDirectory(directory)
                try LogCleaner.simulateCrash(at: .afterSwapFiles, if: crashPoint)
                for replaced in old {
                    try replaced.segment.markDeleted()
                    state.pendingDeletions.append((now + state.config.fileDeleteDelayMs, replaced.segment))
                }
                try LogCleaner.simulateCrash(at: .afterOldSegmentsDeleted, if: crashPoint)
                try cleaned.renameFiles(from: LogFileSuffix.swap, to: "")
                try syncDirectory(directory)
            } catch {
                throw fail(&state, error)
            }
            state.segments.replaceSubrange(start..<(start + old.count), with: [cleaned])
            state.pendingDeletions.removeAll { $0.deadline <= now }
            logger.info(
                "Swapped the cleaned segment \(cleaned.baseOffset) of \(topicPartition) in for segments \(old.map(\.baseOffset)) (\(old.reduce(0) { $0 + $1.size }) bytes now \(cleaned.size))")
            return true
        }
    }

    // MARK: Closing

    /// Flushes everything, writes the active segment's final time index entry and a producer
    /// snapshot at the log end, and closes the log:
    /// later calls throw `.logClosed` (the offsets stay readable). Files stay open while readers
    /// hold them. Blocks (fsync).
    public func close() throws(StorageError) {
        if withState({ $0.closed }) { return }
        try withState { state throws(StorageError) in
            try checkUsable(state)
            do throws(StorageError) {
                try state.activeSegment.onBecomeInactive()
            } catch {
                throw fail(&state, error)
            }
        }
        try flush()
        try withState { state throws(StorageError) in
            do throws(StorageError) {
                for file in state.activeSegment.filesToSync(includeIndexes: true) { try file.sync() }
                try state.producers.takeSnapshot(at: state.logEndOffset, now: clock.milliseconds())
                try syncDirectory(directory)
            } catch {
                throw fail(&state, error)
            }
            state.closed = true
            state.pendingDeletions.removeAll()
            lock.broadcast()
        }
    }

    /// Closes without flushing, for a log whose directory is about to be deleted. Blocks: no.
    func closeForDeletion() {
        withState { state in
            state.closed = true
            state.pendingDeletions.removeAll()
            lock.broadcast()
        }
    }
}
