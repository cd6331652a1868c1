import KafkaModel
import KafkaRecords
import Logging
import NIOCore
import Synchronization

/// Log compaction for logs whose `cleanup.policy` includes `compact` (Kafka's `LogCleaner`,
/// `Cleaner` and `LogCleanerManager`): the cleaner keeps the latest record of each key and drops
/// the older ones, without ever changing an offset.
///
/// A log is split at its first dirty offset (`cleaner-offset-checkpoint`, the log start when
/// absent) into a clean part, compacted before, and a dirty part. The cleanable part ends at the
/// first uncleanable offset: the active segment's base, the first segment not wholly below the high
/// watermark, and (with `min.compaction.lag.ms`) the first dirty segment whose newest timestamp is
/// younger than the lag; it always ends at a segment boundary. A pass cleans a log when its dirty
/// bytes are at least `min.cleanable.dirty.ratio` of the cleanable bytes, or when a tombstone's
/// delete horizon it recorded has passed:
///
/// 1. A map from key to latest offset is built over the dirty records (`KeyOffsetMap`, bounded as
///    Kafka's `log.cleaner.dedupe.buffer.size` bounds its map); if it fills up, the pass ends at
///    the record that did not fit, and the rest stays dirty for the next pass.
/// 2. Every segment below that end, clean and dirty, is copied in groups of adjacent segments of at
///    most `segment.bytes` into one `.cleaned` segment per group (base offset of the group's
///    first). A record is kept if it is at or after the end, or if its key has no later offset in
///    the map and it has a value or is a tombstone whose batch's delete horizon has not passed.
///    Records with a null key are dropped. A batch whose records all stay is copied byte for byte;
///    otherwise it is rewritten with the survivors, their offsets and offset deltas, and the
///    batch's base offset, last offset, producer fields and codec (recompressed). A batch left
///    without records is dropped, unless it is the last batch of a known producer, or the last
///    batch of a group of several segments: that one stays as an empty batch. (Kafka keeps the
///    former; the latter is ours, so that the swapped segment always reaches the last segment it
///    replaces, which is how recovery tells what an interrupted swap replaces.) Control batches are
///    kept as they are (transactions are not supported, so there is nothing to abort).
/// 3. Tombstones (KIP-534, Kafka 3.1+): the first time a batch holding a kept tombstone is
///    rewritten, its base timestamp becomes its delete horizon, now + `delete.retention.ms`, and
///    attribute bit 6 is set; the batch's tombstones are dropped by the first pass after the
///    horizon.
/// 4. Each `.cleaned` segment, indexes built while it is written, is fsynced and swapped in under
///    the log's lock (`PartitionLog.replaceSegments`): `.cleaned` → `.swap`, old segments deleted
///    as retention deletes them (readers holding their files keep them), `.swap` → final names.
///    `LogLoader` deletes `.cleaned` leftovers and completes `.swap` files at start-up.
/// 5. The end of the pass becomes the partition's entry in `cleaner-offset-checkpoint`.
///
/// Appends, reads, retention and truncation go on during a pass: the cleaner reads only inactive
/// segments, through their open files, and takes the log's lock only to look at the log and to
/// swap. A segment that changed meanwhile makes the swap of its group give up.
///
/// Not done: `max.compaction.lag.ms`, transactions (aborted records, marker removal), I/O
/// throttling. The delete horizons that make a pass clean a log below the dirty ratio are kept in
/// memory; after a restart they are found again the next time the log is cleaned.
///
/// Concurrency: thread-safe; one pass runs at a time (a second caller returns at once). Every
/// method blocks on file I/O for as long as the pass takes: call it from a dedicated thread, never
/// from an event loop or Swift's cooperative pool.
public final class LogCleaner: Sendable {
    /// Kafka's `OffsetMap` entry size (16-byte key hash and 8-byte offset), from which the number of
    /// keys a dedupe buffer holds is reckoned.
    static let bytesPerMapEntry = 24
    /// Kafka's `log.cleaner.io.buffer.load.factor` default.
    static let mapLoadFactor = 0.9

    private let logManager: LogManager
    private let clock: StorageClock
    private let logger: Logger
    /// Keys a pass's map may hold.
    let mapCapacity: Int
    private let state = Mutex(State())

    private struct State {
        var running = false
        /// The earliest delete horizon of each log's kept tombstones, as of its last cleaning.
        var deleteHorizons: [TopicPartition: Int64] = [:]
        /// For tests: where the next log cleaned stops as if the broker crashed.
        var crashPoint: CrashPoint?
    }

    /// `dedupeBufferSize` (`log.cleaner.dedupe.buffer.size`) is shared by `threads`
    /// (`log.cleaner.threads`); passes run one at a time, so one thread's share bounds a pass's map.
    public init(
        logManager: LogManager, dedupeBufferSize: Int64 = 134_217_728, threads: Int = 1, clock: StorageClock = .system,
        logger: Logger
    ) {
        self.logManager = logManager
        self.clock = clock
        self.logger = logger
        let share = Double(max(dedupeBufferSize, 0)) / Double(max(threads, 1))
        mapCapacity = max(1, Int(share / Double(Self.bytesPerMapEntry) * Self.mapLoadFactor))
    }

    /// One pass over every log whose config has the compact policy, filthiest first: each that needs
    /// it is cleaned and its log directory's `cleaner-offset-checkpoint` rewritten. A log that fails
    /// is logged and skipped. Returns what was done per log cleaned (empty if another pass is
    /// running). Blocks for the whole pass.
    @discardableResult
    public func runOnce(now: Int64? = nil) -> [TopicPartition: CleanResult] {
        let started = state.withLock { state -> Bool in
            if state.running { return false }
            state.running = true
            return true
        }
        guard started else { return [:] }
        defer { state.withLock { $0.running = false } }
        let now = now ?? clock.milliseconds()
        var results: [TopicPartition: CleanResult] = [:]
        let logs = logManager.allLogs
        for logDirectory in logManager.logDirectories {
            let compacted = logs.filter { $0.value.config.compact && logManager.logDirectory(of: $0.key) == logDirectory }
            guard !compacted.isEmpty else { continue }
            let checkpointFile = OffsetCheckpointFile(path: logDirectory + "/" + OffsetCheckpointFile.cleanerOffsetFileName)
            var checkpoints: [TopicPartition: Int64]
            do {
                checkpoints = try checkpointFile.read()
            } catch {
                logger.error("Ignoring \(checkpointFile.path), which cannot be used: \(error)")
                checkpoints = [:]
            }
            let cleaner = Cleaner(mapCapacity: mapCapacity, logger: logger)
            var candidates: [(TopicPartition, PartitionLog, Double)] = []
            for (topicPartition, log) in compacted {
                guard let view = try? log.cleaningView() else { continue }
                let range = Cleaner.cleanableRange(view, checkpoint: checkpoints[topicPartition], now: now)
                candidates.append((topicPartition, log, range.dirtyRatio))
            }
            var changed = false
            for (topicPartition, log, _) in candidates.sorted(by: { $0.2 > $1.2 }) {
                let (horizon, crashPoint) = state.withLock { ($0.deleteHorizons[topicPartition], $0.crashPoint) }
                do {
                    guard
                        let result = try cleaner.clean(
                            log, checkpoint: checkpoints[topicPartition], now: now, horizonPassed: horizon.map { $0 <= now } ?? false,
                            crashPoint: crashPoint)
                    else { continue }
                    results[topicPartition] = result
                    checkpoints[topicPartition] = result.endOffset
                    changed = true
                    state.withLock { $0.deleteHorizons[topicPartition] = result.earliestDeleteHorizon }
                } catch {
                    logger.error("Cleaning \(topicPartition) failed: \(error)")
                }
            }
            // Entries of partitions no longer in this directory go.
            let present = checkpoints.filter { logManager.logDirectory(of: $0.key) == logDirectory }
            if changed || present.count != checkpoints.count {
                do {
                    try checkpointFile.write(present)
                } catch {
                    logger.error("Cannot write \(checkpointFile.path): \(error)")
                }
            }
        }
        return results
    }

    /// The first dirty offset of each compacted partition in `logDirectory`, from its
    /// `cleaner-offset-checkpoint`. Blocks.
    public func checkpoints(logDirectory: String) throws(StorageError) -> [TopicPartition: Int64] {
        try OffsetCheckpointFile(path: logDirectory + "/" + OffsetCheckpointFile.cleanerOffsetFileName).read()
    }

    // MARK: Crash tests

    /// Where a test makes cleaning stop as a crash would, leaving the files as they are.
    enum CrashPoint: Sendable {
        /// The `.cleaned` files are written and flushed; nothing renamed.
        case afterCleanedFiles
        /// The cleaned files are renamed to `.swap`; the old segments are still there.
        case afterSwapFiles
        /// The old segments are renamed to `.deleted` too; the `.swap` files are not renamed yet.
        case afterOldSegmentsDeleted
    }

    /// Makes the next log cleaned stop at `point` (tests only).
    func crash(at point: CrashPoint?) {
        state.withLock { $0.crashPoint = point }
    }

    static func simulateCrash(at point: CrashPoint, if requested: CrashPoint?) throws(StorageError) {
        if point == requested { throw StorageError(.io, "simulated crash while cleaning (\(point))") }
    }
}

/// What one cleaning of a log did.
public struct CleanResult: Sendable, Equatable {
    /// Where the dirty part started, and where the pass ended (the new checkpoint).
    public var firstDirtyOffset: Int64
    public var endOffset: Int64
    /// Segments replaced, and cleaned segments swapped in for them.
    public var segmentsReplaced = 0
    public var segmentsWritten = 0
    public var bytesRead = 0
    public var bytesWritten = 0
    public var recordsRead = 0
    public var recordsKept = 0
    /// The earliest delete horizon of the batches with tombstones that were kept, if any.
    public var earliestDeleteHorizon: Int64?
}

/// A key → latest offset map over the dirty records of one pass (Kafka's `SkimpyOffsetMap`, but
/// keyed by the whole key, so no two keys are ever mistaken for each other).
struct KeyOffsetMap {
    let capacity: Int
    private(set) var offsets: [[UInt8]: Int64] = [:]

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Records `offset` as the latest for `key`; false when `key` is new and the map is full.
    mutating func put(_ key: [UInt8], offset: Int64) -> Bool {
        if offsets[key] == nil && offsets.count >= capacity { return false }
        offsets[key] = offset
        return true
    }

    func latestOffset(of key: [UInt8]) -> Int64? { offsets[key] }
}

/// Cleans one log at a time (Kafka's `Cleaner`); see `LogCleaner`.
struct Cleaner {
    let mapCapacity: Int
    let logger: Logger

    /// The offsets that split a log for cleaning, and the bytes on each side.
    struct CleanableRange {
        var firstDirtyOffset: Int64
        var firstUncleanableOffset: Int64
        var cleanBytes = 0
        var dirtyBytes = 0
        var dirtyRatio: Double { dirtyBytes == 0 ? 0 : Double(dirtyBytes) / Double(cleanBytes + dirtyBytes) }
    }

    /// Kafka's `cleanableOffsets` and `LogToClean`: the first dirty offset is the checkpoint, or the
    /// log start when it is absent or outside the log.
    static func cleanableRange(_ view: PartitionLog.CleaningView, checkpoint: Int64?, now: Int64) -> CleanableRange {
        var firstDirty = view.logStartOffset
        if let checkpoint, checkpoint >= view.logStartOffset, checkpoint <= view.activeBaseOffset {
            firstDirty = checkpoint
        }
        var uncleanable = view.activeBaseOffset
        for segment in view.segments where segment.nextOffset > view.highWatermark {
            uncleanable = min(uncleanable, segment.baseOffset)
            break
        }
        let lag = view.config.minCompactionLagMs
        if lag > 0 {
            for segment in view.segments where segment.nextOffset > firstDirty && segment.largestTimestamp > now - lag {
                uncleanable = min(uncleanable, segment.baseOffset)
                break
            }
        }
        firstDirty = min(firstDirty, uncleanable)
        var range = CleanableRange(firstDirtyOffset: firstDirty, firstUncleanableOffset: uncleanable)
        for segment in view.segments where segment.baseOffset < uncleanable {
            if segment.nextOffset > firstDirty {
                range.dirtyBytes += segment.size
            } else {
                range.cleanBytes += segment.size
            }
        }
        return range
    }

    /// Cleans `log` if it needs it (dirty ratio, or `horizonPassed`: a delete horizon it recorded has
    /// passed); nil if it does not or there is nothing to clean. Blocks.
    func clean(
        _ log: PartitionLog, checkpoint: Int64?, now: Int64, horizonPassed: Bool = false,
        crashPoint: LogCleaner.CrashPoint? = nil
    ) throws(StorageError) -> CleanResult? {
        let view = try log.cleaningView()
        guard view.config.compact else { return nil }
        let range = Self.cleanableRange(view, checkpoint: checkpoint, now: now)
        let dirtyEnough = range.dirtyBytes > 0 && range.dirtyRatio >= view.config.minCleanableDirtyRatio
        guard dirtyEnough || (horizonPassed && range.cleanBytes > 0) else { return nil }

        // 1. The key map over the dirty records.
        var map = KeyOffsetMap(capacity: mapCapacity)
        var endOffset = range.firstUncleanableOffset
        var result = CleanResult(firstDirtyOffset: range.firstDirtyOffset, endOffset: endOffset)
        mapping: for segment in view.segments
        where segment.nextOffset > range.firstDirtyOffset && segment.baseOffset < range.firstUncleanableOffset {
            var full = false
            try forEachBatch(of: segment) { batch throws(StorageError) in
                guard !full, !batch.header.isControl, batch.header.nextOffset > range.firstDirtyOffset else { return }
                for record in try records(of: batch, in: log) where record.offset >= range.firstDirtyOffset {
                    guard let key = record.key else { continue }
                    if !map.put(key, offset: record.offset) {
                        endOffset = record.offset
                        full = true
                        return
                    }
                }
            }
            if full { break mapping }
        }
        guard endOffset > range.firstDirtyOffset || !dirtyEnough else {
            logger.error("Cannot clean \(log.topicPartition): the key map (\(mapCapacity) keys) cannot hold even the first dirty record's key")
            return nil
        }
        result.endOffset = endOffset

        // 2. Copy the segments below the end, a group at a time.
        let segments = view.segments.filter { $0.baseOffset < endOffset }
        for group in Self.groups(segments, maxBytes: view.config.segmentBytes) {
            let filter = RecordFilter(
                map: map, endOffset: endOffset, now: now, deleteRetentionMs: view.config.deleteRetentionMs,
                producerLastOffsets: view.producerLastOffsets)
            guard try cleanGroup(group, of: log, view: view, filter: filter, now: now, result: &result, crashPoint: crashPoint) else {
                logger.info("Stopped cleaning \(log.topicPartition): its segments changed during the pass")
                return nil
            }
        }
        logger.info(
            "Cleaned \(log.topicPartition) [\(range.firstDirtyOffset), \(endOffset)): \(result.segmentsReplaced) segments into \(result.segmentsWritten), \(result.bytesRead) bytes into \(result.bytesWritten), \(result.recordsRead) records read, \(result.recordsKept) kept")
        return result
    }

    /// Adjacent segments, each group at most `maxBytes` and spanning fewer than 2^31 offsets
    /// (Kafka's `groupSegmentsBySize`, without its index-size limits: indexes here grow per entry).
    static func groups(_ segments: [PartitionLog.CleanableSegment], maxBytes: Int) -> [[PartitionLog.CleanableSegment]] {
        var groups: [[PartitionLog.CleanableSegment]] = []
        var current: [PartitionLog.CleanableSegment] = []
        var bytes = 0
        for segment in segments {
            if let first = current.first,
                bytes + segment.size > maxBytes || max(segment.nextOffset, segment.baseOffset + 1) - 1 - first.baseOffset > Int64(Int32.max)
            {
                groups.append(current)
                current = []
                bytes = 0
            }
            current.append(segment)
            bytes += segment.size
        }
        if !current.isEmpty { groups.append(current) }
        return groups
    }

    /// Writes the group's surviving batches to a `.cleaned` segment and swaps it in. Returns false if
    /// the log changed under the group (the cleaned files are then deleted). Blocks.
    private func cleanGroup(
        _ group: [PartitionLog.CleanableSegment], of log: PartitionLog, view: PartitionLog.CleaningView, filter: RecordFilter,
        now: Int64, result: inout CleanResult, crashPoint: LogCleaner.CrashPoint?
    ) throws(StorageError) -> Bool {
        let cleaned = try LogSegment.create(
            directory: log.directory, baseOffset: group[0].baseOffset, config: view.config, now: now, fileSuffix: LogFileSuffix.cleaned)
        var swapped = false
        defer {
            if !swapped && crashPoint == nil {
                try? cleaned.log.markDeleted()
                try? cleaned.offsetIndex.file.markDeleted()
                try? cleaned.timeIndex.file.markDeleted()
            }
        }
        var written = result
        for (index, segment) in group.enumerated() {
            let lastSegmentOfGroup = group.count > 1 && index == group.count - 1
            written.bytesRead += segment.size
            try forEachBatch(of: segment) { batch throws(StorageError) in
                let isLast = lastSegmentOfGroup && batch.header.nextOffset == segment.nextOffset
                let records = batch.header.isControl ? [] : try records(of: batch, in: log)
                written.recordsRead += records.count
                guard let kept = try filter.apply(to: batch, records: records, keepEmpty: isLast, logName: "\(log.topicPartition)") else {
                    return
                }
                written.recordsKept += Int(kept.header.recordCount)
                if kept.header.hasDeleteHorizon {
                    written.earliestDeleteHorizon = min(written.earliestDeleteHorizon ?? .max, kept.header.baseTimestamp)
                }
                let header = kept.header
                try kept.buffer.withUnsafeReadableBytes { bytes in
                    Result { () throws(StorageError) in try cleaned.append(bytes, header: header) }
                }.get()
            }
        }
        try cleaned.onBecomeInactive()
        for file in cleaned.filesToSync(includeIndexes: true) { try file.sync() }
        try LogCleaner.simulateCrash(at: .afterCleanedFiles, if: crashPoint)
        guard try log.replaceSegments(group, with: cleaned, crashPoint: crashPoint) else { return false }
        swapped = true
        written.segmentsReplaced += group.count
        written.segmentsWritten += 1
        written.bytesWritten += cleaned.size
        result = written
        return true
    }

    /// Calls `body` with each whole batch of `segment` as it was when the view was taken, checking
    /// each CRC. Blocks (preads).
    private func forEachBatch(
        of segment: PartitionLog.CleanableSegment, _ body: (RecordBatch) throws(StorageError) -> Void
    ) throws(StorageError) {
        var position = 0
        while position < segment.size {
            // Only the open file and the size seen under the lock are used: both stay valid.
            let header = try segment.segment.readHeader(at: position, end: segment.size)
            let buffer = try segment.segment.log.readBuffer(count: header.totalSize, at: position)
            let batch: RecordBatch
            do {
                batch = try RecordBatch(buffer: buffer)
                try batch.verifyChecksum()
            } catch {
                throw StorageError(.corruptRecord, "cannot clean \(segment.segment.log.path): batch at position \(position): \(error)")
            }
            try body(batch)
            position += header.totalSize
        }
    }

    private func records(of batch: RecordBatch, in log: PartitionLog) throws(StorageError) -> [Record] {
        do {
            return try batch.records()
        } catch {
            throw StorageError(
                .corruptRecord, "cannot clean \(log.topicPartition): batch at offset \(batch.header.baseOffset) cannot be decoded: \(error)")
        }
    }
}

/// Which records of a batch survive cleaning (Kafka's `Cleaner.shouldRetainRecord` and
/// `MemoryRecords.filterTo`).
struct RecordFilter {
    let map: KeyOffsetMap
    /// Records at or after this offset were not mapped and are kept.
    let endOffset: Int64
    let now: Int64
    let deleteRetentionMs: Int64
    let producerLastOffsets: [Int64: Int64]

    /// The batch to write in place of `batch` (itself when nothing changes), or nil to drop it.
    /// `keepEmpty` keeps it as an empty batch if no record survives.
    func apply(to batch: RecordBatch, records: [Record], keepEmpty: Bool, logName: String) throws(StorageError) -> RecordBatch? {
        let header = batch.header
        if header.isControl { return batch }
        let horizon: Int64? = header.hasDeleteHorizon ? header.baseTimestamp : nil
        let keepTombstones = horizon.map { now < $0 } ?? true
        let kept = records.filter { record in
            if record.offset >= endOffset { return true }
            guard let key = record.key else { return false }
            if let latest = map.latestOffset(of: key), record.offset < latest { return false }
            return record.value != nil || keepTombstones
        }
        let hasTombstones = kept.contains { $0.value == nil }
        let needsHorizon = hasTombstones && horizon == nil
        if kept.count == records.count && !needsHorizon { return batch }
        if kept.isEmpty {
            let lastOfProducer = header.hasProducerId && producerLastOffsets[header.producerId] == header.lastOffset
            return keepEmpty || lastOfProducer ? RecordBatch.emptyBatch(replacing: header) : nil
        }
        do {
            return try RecordBatch.rewritten(
                from: header, keeping: kept, deleteHorizonMs: needsHorizon ? now + deleteRetentionMs : horizon)
        } catch {
            throw StorageError(.corruptRecord, "cannot rewrite batch at offset \(header.baseOffset) of \(logName): \(error)")
        }
    }
}
