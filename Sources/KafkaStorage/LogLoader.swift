import KafkaModel
import KafkaRecords
import Logging

/// Opens a partition directory's segments and brings them to a consistent state after a clean
/// shutdown or a crash (Kafka's `LogLoader`). Blocks: it reads, and may rewrite, the files.
///
/// 1. Leftovers are removed: `*.deleted` (deletion was pending), `*.cleaned` (unfinished cleaner
///    output), `*.tmp` (unfinished checkpoint). An interrupted swap is completed: `X.log.swap`
///    becomes `X.log`, its indexes are rebuilt, and the segments it replaces are deleted.
///    Index files without a `.log` are deleted.
/// 2. Every `<20 digits>.log` is opened. A missing index, or one failing its checks, is rebuilt by
///    scanning the segment (`LogSegment.recover`).
/// 3. Without the clean-shutdown marker, every segment from the one holding the recovery point on
///    is scanned: each batch's header, length, CRC and offsets are checked, the file is cut at the
///    first bad byte, and any later segments are deleted (their offsets would follow lost data).
///    With the marker, the indexes are only sanity-checked against the log; anything inconsistent
///    makes that segment be scanned too.
/// 4. The leader epoch cache is read from `leader-epoch-checkpoint` (rebuilt from the batch headers
///    if missing or unreadable), extended with the epochs of scanned batches, and trimmed to
///    [log start, log end).
/// 5. The idempotent producers' state is loaded from the latest usable `<offset>.snapshot` and the
///    batches after it (`ProducerStateManager.reload`).
///
/// Every truncation, rebuild and deletion is logged with the file and offset.
struct LogLoader {
    let directory: String
    let topicPartition: TopicPartition
    let config: LogConfig
    let recoveryPointCheckpoint: Int64
    let logStartOffsetCheckpoint: Int64
    let hadCleanShutdown: Bool
    let now: Int64
    let logger: Logger

    struct Loaded {
        var segments: [LogSegment]
        var logStartOffset: Int64
        var recoveryPoint: Int64
        var epochCache: LeaderEpochCache
        var producerState: ProducerStateManager
    }

    func load() throws(StorageError) -> Loaded {
        let swapBases = try removeLeftovers()
        let opened = try openSegments(swapBases: swapBases)

        let epochFile = LeaderEpochCheckpointFile(path: directory + "/" + LeaderEpochCheckpointFile.fileName)
        var epochs = LeaderEpochCache()
        var rebuildEpochs = false
        do {
            if let entries = try epochFile.read() {
                epochs = LeaderEpochCache(entries: entries)
            } else {
                rebuildEpochs = true
            }
        } catch where error.code == .corruptCheckpoint {
            logger.warning("\(error.message); rebuilding the leader epoch cache of \(topicPartition) from the log")
            rebuildEpochs = true
        }

        var segments = try recover(opened, swapBases: swapBases, epochs: &epochs)

        if segments.isEmpty {
            segments.append(
                try LogSegment.create(directory: directory, baseOffset: max(0, logStartOffsetCheckpoint), config: config, now: now))
        }
        let logEndOffset = segments[segments.count - 1].nextOffset
        let logStartOffset = min(max(logStartOffsetCheckpoint, segments[0].baseOffset), logEndOffset)
        let recoveryPoint = hadCleanShutdown ? logEndOffset : min(max(recoveryPointCheckpoint, 0), logEndOffset)

        let before = epochs
        if rebuildEpochs {
            for segment in segments {
                try segment.forEachBatchHeader { header in Self.noteEpoch(of: header, in: &epochs) }
            }
        }
        epochs.truncateFromEnd(endOffset: logEndOffset)
        epochs.truncateFromStart(startOffset: logStartOffset)
        if rebuildEpochs || epochs != before {
            try epochFile.write(epochs.entries)
        }

        var producers = ProducerStateManager(
            directory: directory, topicPartition: topicPartition, expirationMs: config.producerIdExpirationMs, logger: logger)
        try producers.reload(segments: segments, logStartOffset: logStartOffset, logEndOffset: logEndOffset, now: now)
        return Loaded(
            segments: segments, logStartOffset: logStartOffset, recoveryPoint: recoveryPoint, epochCache: epochs,
            producerState: producers)
    }

    /// Recovery adds epochs only above the latest known one (as Kafka's `LogSegment.recover`), so
    /// scanning an old segment never disturbs newer entries.
    static func noteEpoch(of header: RecordBatchHeader, in epochs: inout LeaderEpochCache) {
        let epoch = header.partitionLeaderEpoch
        if epoch >= 0 && epoch > (epochs.latestEpoch ?? -1) {
            epochs.assign(epoch: epoch, startOffset: header.baseOffset)
        }
    }

    // MARK: Steps

    /// Step 1. Returns the base offsets of swapped-in segments.
    private func removeLeftovers() throws(StorageError) -> Set<Int64> {
        var swapBases: Set<Int64> = []
        for name in try directoryEntries(directory) {
            let path = directory + "/" + name
            if name.hasSuffix(LogFileSuffix.deleted) || name.hasSuffix(LogFileSuffix.cleaned) || name.hasSuffix(".tmp") {
                logger.info("Removing leftover file \(path)")
                try removeFile(path)
            } else if name.hasSuffix(LogFileSuffix.swap) {
                let target = String(name.dropLast(LogFileSuffix.swap.count))
                if let base = LogSegment.baseOffset(fileName: target, suffix: LogFileSuffix.log) {
                    logger.warning("Completing the interrupted swap of \(path)")
                    try renameFile(path, to: directory + "/" + target)
                    try removeFile(LogSegment.path(directory: directory, baseOffset: base, suffix: LogFileSuffix.index))
                    try removeFile(LogSegment.path(directory: directory, baseOffset: base, suffix: LogFileSuffix.timeIndex))
                    swapBases.insert(base)
                } else {
                    // An index being swapped in: the swapped segment's indexes are rebuilt anyway.
                    logger.info("Removing leftover file \(path)")
                    try removeFile(path)
                }
            }
        }
        return swapBases
    }

    /// Step 2 (opening; a bad index is emptied and its segment marked for scanning).
    private func openSegments(swapBases: Set<Int64>) throws(StorageError) -> [(segment: LogSegment, trusted: Bool)] {
        let names = try directoryEntries(directory)
        var bases: [Int64] = []
        for name in names {
            if let base = LogSegment.baseOffset(fileName: name, suffix: LogFileSuffix.log) {
                bases.append(base)
            }
        }
        let baseSet = Set(bases)
        for name in names {
            let orphan = [LogFileSuffix.index, LogFileSuffix.timeIndex].contains { suffix in
                LogSegment.baseOffset(fileName: name, suffix: suffix).map { !baseSet.contains($0) } ?? false
            }
            if orphan {
                logger.info("Removing index file \(directory)/\(name), which has no log file")
                try removeFile(directory + "/" + name)
            }
        }
        var segments: [(segment: LogSegment, trusted: Bool)] = []
        for base in bases.sorted() {
            let (segment, trusted) = try LogSegment.open(directory: directory, baseOffset: base, config: config, now: now, logger: logger)
            segments.append((segment, trusted && !swapBases.contains(base)))
        }
        return segments
    }

    /// Steps 2 and 3: scan what must be scanned, cut at bad bytes, drop what follows lost data.
    private func recover(
        _ opened: [(segment: LogSegment, trusted: Bool)], swapBases: Set<Int64>, epochs: inout LeaderEpochCache
    ) throws(StorageError) -> [LogSegment] {
        var opened = opened
        // Unclean shutdown: scan from the segment holding the recovery point.
        var firstUnflushed = opened.count
        if !hadCleanShutdown {
            firstUnflushed = opened.lastIndex { $0.segment.baseOffset <= recoveryPointCheckpoint } ?? 0
        }
        var kept: [LogSegment] = []
        var index = 0
        while index < opened.count {
            let (segment, trusted) = opened[index]
            var mustScan = !trusted || index >= firstUnflushed
            if !mustScan {
                if try !segment.loadState() {
                    logger.warning("Indexes of \(segment.log.path) do not match its data; rebuilding them")
                    mustScan = true
                }
            }
            if mustScan {
                let removed = try segment.recover(logger: logger) { header in Self.noteEpoch(of: header, in: &epochs) }
                // Later segments hold offsets written after the lost bytes (Kafka deletes them). A
                // damaged segment below the recovery point was flushed before them: keep them.
                if removed > 0 && index >= firstUnflushed && index + 1 < opened.count {
                    let later = opened[(index + 1)...].map(\.segment)
                    logger.warning(
                        "Deleting \(later.count) segments after \(segment.log.path), which lost data in recovery: \(later.map { lastPathComponent($0.log.path) })")
                    for dropped in later { try dropped.markDeleted() }
                    opened.removeSubrange((index + 1)...)
                }
            }
            kept.append(segment)
            if swapBases.contains(segment.baseOffset) {
                // The swapped-in segment replaces the segments whose offsets it covers.
                let covered = opened[(index + 1)...].prefix { $0.segment.baseOffset < segment.nextOffset }
                for replaced in covered {
                    logger.warning("Deleting \(replaced.segment.log.path), replaced by the swapped-in \(segment.log.path)")
                    try replaced.segment.markDeleted()
                }
                opened.removeSubrange((index + 1)..<(index + 1 + covered.count))
            }
            index += 1
        }
        return kept
    }
}
