import KafkaRecords
import Logging

/// One segment of a partition's log: `<base>.log` with its `<base>.index` and `<base>.timeindex`,
/// where `<base>` is the segment's base offset zero-padded to 20 digits
/// (`00000000000000001234.log`).
///
/// The `.log` file is record batches (magic v2) back to back, byte for byte as produced and sent to
/// consumers: no header, no padding. Each batch starts with int64 base offset and int32 length
/// (big-endian), so the file can be walked batch by batch. Every batch's offsets are at or above
/// the segment's base offset, increase from batch to batch, and are at most `Int32.max` above the
/// base (the indexes store 4-byte relative offsets). See `OffsetIndex` and `TimeIndex` for the
/// index files.
///
/// Crash recovery (`recover`): the indexes are emptied, then every batch from position 0 is read
/// and checked (a whole header, magic 2, a length that fits the file, a matching CRC-32C, offsets
/// increasing and in range) and indexed again; the file is cut at the first byte that fails, and
/// the loss is logged with the file, position and offset. Segments below the recovery point are
/// trusted; their indexes are only sanity-checked on load (`loadState`).
///
/// Not thread-safe: a segment belongs to one `PartitionLog`, which uses it under its lock. Its
/// `LogFile`s are shared with readers, which only read bytes below `size`.
final class LogSegment {
    let baseOffset: Int64
    let log: LogFile
    private(set) var offsetIndex: OffsetIndex
    private(set) var timeIndex: TimeIndex
    let indexIntervalBytes: Int
    /// Bytes of whole batches in the `.log` file.
    private(set) var size = 0
    /// The offset after the last batch; the base offset while the segment is empty.
    private(set) var nextOffset: Int64
    /// The largest batch max timestamp in the segment (-1 if none), and the last offset of its batch.
    private(set) var maxTimestampSoFar: Int64 = -1
    private(set) var offsetOfMaxTimestampSoFar: Int64
    /// The first batch's max timestamp, from which `segment.ms` counts (nil: empty, or no timestamp).
    private(set) var firstBatchTimestamp: Int64?
    /// When the segment was created or loaded (clock ms): the age fallback for `segment.ms`.
    let createdMs: Int64
    private var bytesSinceLastIndexEntry = 0

    private init(baseOffset: Int64, log: LogFile, offsetIndex: OffsetIndex, timeIndex: TimeIndex, indexIntervalBytes: Int, now: Int64) {
        self.baseOffset = baseOffset
        self.log = log
        self.offsetIndex = offsetIndex
        self.timeIndex = timeIndex
        self.indexIntervalBytes = indexIntervalBytes
        self.nextOffset = baseOffset
        self.offsetOfMaxTimestampSoFar = baseOffset
        self.createdMs = now
    }

    // MARK: File names

    /// `<20-digit zero-padded offset><suffix>`, as Kafka's `LocalLog.filenamePrefixFromOffset`.
    static func fileName(baseOffset: Int64, suffix: String) -> String {
        let digits = String(baseOffset)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + suffix
    }

    /// The base offset in a segment file name, or nil if the name is not 20 digits plus `suffix`.
    static func baseOffset(fileName: String, suffix: String) -> Int64? {
        guard fileName.hasSuffix(suffix) else { return nil }
        let digits = fileName.dropLast(suffix.count)
        guard digits.count == 20, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int64(digits)
    }

    static func path(directory: String, baseOffset: Int64, suffix: String) -> String {
        directory + "/" + fileName(baseOffset: baseOffset, suffix: suffix)
    }

    // MARK: Opening

    /// Creates an empty segment, emptying any files already there. `fileSuffix` is appended to the
    /// three file names (`.cleaned` for the cleaner's output; see `renameFiles`). Blocks.
    static func create(
        directory: String, baseOffset: Int64, config: LogConfig, now: Int64, fileSuffix: String = ""
    ) throws(StorageError) -> LogSegment {
        let log = try LogFile(path: path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.log) + fileSuffix, create: true)
        try log.truncate(to: 0)
        let offsetIndex = try OffsetIndex(
            path: path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.index) + fileSuffix,
            baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: true)
        let timeIndex = try TimeIndex(
            path: path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.timeIndex) + fileSuffix,
            baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: true)
        return LogSegment(
            baseOffset: baseOffset, log: log, offsetIndex: offsetIndex, timeIndex: timeIndex,
            indexIntervalBytes: config.indexIntervalBytes, now: now)
    }

    /// Opens an existing segment's files. An index that is missing or fails its checks is emptied
    /// (and logged); `indexesTrusted` is then false and the caller must `recover` the segment.
    /// The segment's state (size, next offset, ...) is not loaded yet: call `loadState` or `recover`.
    /// Blocks.
    static func open(
        directory: String, baseOffset: Int64, config: LogConfig, now: Int64, logger: Logger
    ) throws(StorageError) -> (segment: LogSegment, indexesTrusted: Bool) {
        let log = try LogFile(path: path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.log), create: false)
        var trusted = true
        let indexPath = path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.index)
        let timeIndexPath = path(directory: directory, baseOffset: baseOffset, suffix: LogFileSuffix.timeIndex)
        if !fileExists(indexPath) || !fileExists(timeIndexPath) {
            logger.warning("Index files of segment \(log.path) are missing; rebuilding them")
            trusted = false
        }
        let offsetIndex: OffsetIndex
        do {
            offsetIndex = try OffsetIndex(path: indexPath, baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: !trusted)
        } catch where error.code == .corruptIndex {
            logger.warning("\(error.message); rebuilding it")
            trusted = false
            offsetIndex = try OffsetIndex(path: indexPath, baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: true)
        }
        let timeIndex: TimeIndex
        do {
            timeIndex = try TimeIndex(path: timeIndexPath, baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: !trusted)
        } catch where error.code == .corruptIndex {
            logger.warning("\(error.message); rebuilding it")
            trusted = false
            timeIndex = try TimeIndex(path: timeIndexPath, baseOffset: baseOffset, maxIndexSize: config.segmentIndexBytes, reset: true)
        }
        let segment = LogSegment(
            baseOffset: baseOffset, log: log, offsetIndex: offsetIndex, timeIndex: timeIndex,
            indexIntervalBytes: config.indexIntervalBytes, now: now)
        return (segment, trusted)
    }

    /// For a trusted segment: checks the indexes against the log (positions inside it, the last
    /// offset entry naming a batch with that last offset, time entries below the next offset) and
    /// walks the batch headers after the last index entry to find the size and next offset.
    /// Returns false, changing nothing on disk, if anything does not fit; the caller then recovers
    /// the segment. Blocks.
    func loadState() throws(StorageError) -> Bool {
        let fileSize = try log.size()
        var position = 0
        var alreadyIndexed = false
        if let last = offsetIndex.lastEntry {
            guard last.position < fileSize,
                let header = try? readHeader(at: last.position, end: fileSize), header.lastOffset == last.offset
            else { return false }
            position = last.position
            alreadyIndexed = true
        }
        if let last = timeIndex.lastEntry {
            maxTimestampSoFar = last.timestamp
            offsetOfMaxTimestampSoFar = last.offset
        }
        var expectedOffset = baseOffset
        size = position
        while position < fileSize {
            guard let header = try? readHeader(at: position, end: fileSize), header.baseOffset >= expectedOffset,
                header.lastOffset - baseOffset <= Int64(Int32.max)
            else { return false }
            if alreadyIndexed {
                // The batch the last index entry names: count it without indexing it again.
                noteBatch(header, position: position)
                bytesSinceLastIndexEntry = header.totalSize
                alreadyIndexed = false
            } else {
                try indexBatch(header, position: position)
            }
            position += header.totalSize
            size = position
            expectedOffset = header.nextOffset
        }
        if let last = timeIndex.lastEntry, last.offset >= nextOffset {
            return false
        }
        if size > 0 {
            let first = try readHeader(at: 0, end: size)
            firstBatchTimestamp = first.maxTimestamp >= 0 ? first.maxTimestamp : nil
        }
        return true
    }

    // MARK: Appending

    /// Appends one batch whose header is `header` (offsets already assigned). Blocks (pwrite).
    func append(_ bytes: UnsafeRawBufferPointer, header: RecordBatchHeader) throws(StorageError) {
        let position = size
        try log.write(bytes, at: position)
        size += bytes.count
        try indexBatch(header, position: position)
    }

    /// Updates the in-memory state for a batch now at `position`, and adds index entries when more
    /// than `index.interval.bytes` went by since the last ones (Kafka's `LogSegment.append`).
    private func indexBatch(_ header: RecordBatchHeader, position: Int) throws(StorageError) {
        noteBatch(header, position: position)
        if bytesSinceLastIndexEntry > indexIntervalBytes {
            // Positions are 32-bit; a file grown past that (never by this engine) is just scanned.
            if !offsetIndex.isFull && position <= Int(Int32.max) {
                try offsetIndex.append(offset: header.lastOffset, position: position)
            }
            try timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar)
            bytesSinceLastIndexEntry = 0
        }
        bytesSinceLastIndexEntry += header.totalSize
    }

    private func noteBatch(_ header: RecordBatchHeader, position: Int) {
        if position == 0 {
            firstBatchTimestamp = header.maxTimestamp >= 0 ? header.maxTimestamp : nil
        }
        if header.maxTimestamp > maxTimestampSoFar {
            maxTimestampSoFar = header.maxTimestamp
            offsetOfMaxTimestampSoFar = header.lastOffset
        }
        nextOffset = header.nextOffset
    }

    /// Why the segment should be rolled before a batch is appended to it, or nil (Kafka's
    /// `LogSegment.shouldRoll`): size, age, a full index, or relative offsets that would not fit.
    func rollReason(for header: RecordBatchHeader, config: LogConfig, now: Int64) -> String? {
        if header.baseOffset < baseOffset || header.lastOffset - baseOffset > Int64(Int32.max) {
            return "offset \(header.lastOffset) does not fit a 32-bit offset relative to \(baseOffset)"
        }
        guard size > 0 else { return nil }
        if size > config.segmentBytes - header.totalSize {
            return "segment.bytes \(config.segmentBytes) reached"
        }
        let age = firstBatchTimestamp.map { header.maxTimestamp - $0 } ?? now - createdMs
        if age > config.segmentMs {
            return "segment.ms \(config.segmentMs) reached (age \(age) ms)"
        }
        if offsetIndex.isFull || timeIndex.isFull {
            return "index full (segment.index.bytes \(config.segmentIndexBytes))"
        }
        return nil
    }

    /// Called when a newer segment takes over: the time index gets its final entry. Blocks.
    func onBecomeInactive() throws(StorageError) {
        try timeIndex.maybeAppend(timestamp: maxTimestampSoFar, offset: offsetOfMaxTimestampSoFar, allowWhenFull: true)
        try persistIndexes()
    }

    /// Writes index entries kept in memory since the last call. Blocks (at most two pwrites).
    func persistIndexes() throws(StorageError) {
        try offsetIndex.persist()
        try timeIndex.persist()
    }

    // MARK: Reading

    /// Reads and checks the batch header at `position`: a whole 61-byte header, magic 2, a valid
    /// length, and the batch ending at or before `end`. Throws `.corruptRecord` naming the file and
    /// position otherwise. Blocks (one pread).
    func readHeader(at position: Int, end: Int) throws(StorageError) -> RecordBatchHeader {
        guard end - position >= RecordBatchHeader.size else {
            throw StorageError(.corruptRecord, "incomplete batch header at position \(position) of \(log.path) (\(max(0, end - position)) bytes left)")
        }
        var bytes = (
            UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0)
        )
        let result: Result<RecordBatchHeader, StorageError> = withUnsafeMutableBytes(of: &bytes) { raw in
            let buffer = UnsafeMutableRawBufferPointer(rebasing: raw[0..<RecordBatchHeader.size])
            do {
                let count = try log.read(into: buffer, at: position)
                guard count == RecordBatchHeader.size else {
                    return .failure(StorageError(.corruptRecord, "incomplete batch header at position \(position) of \(log.path)"))
                }
                return .success(try RecordBatchHeader(parsing: UnsafeRawBufferPointer(buffer)))
            } catch let error as StorageError {
                return .failure(error)
            } catch {
                return .failure(StorageError(.corruptRecord, "bad batch header at position \(position) of \(log.path): \(error)"))
            }
        }
        let header = try result.get()
        guard header.length >= RecordBatchHeader.minimumLength, header.lastOffsetDelta >= 0 else {
            throw StorageError(
                .corruptRecord,
                "batch at position \(position) of \(log.path) has length \(header.length) and last offset delta \(header.lastOffsetDelta)")
        }
        guard header.totalSize <= end - position else {
            throw StorageError(
                .corruptRecord,
                "batch at position \(position) of \(log.path) claims \(header.totalSize) bytes but only \(end - position) remain")
        }
        return header
    }

    /// The first batch whose last offset is >= `target` (the batch containing it, or the next one
    /// after a gap), found through the offset index and a walk over headers; nil if there is none.
    /// Blocks (a few preads).
    func findBatch(containing target: Int64) throws(StorageError) -> (position: Int, header: RecordBatchHeader)? {
        var position = offsetIndex.lookup(target).position
        while position < size {
            let header = try readHeader(at: position, end: size)
            if header.lastOffset >= target { return (position, header) }
            position += header.totalSize
        }
        return nil
    }

    /// The first batch, at or after `startingOffset`, whose max timestamp is >= `target`, found
    /// through the time index, the offset index and a walk over headers (Kafka's
    /// `LogSegment.findOffsetByTimestamp`). Blocks.
    func findBatch(timestampAtLeast target: Int64, startingOffset: Int64) throws(StorageError) -> (position: Int, header: RecordBatchHeader)? {
        let indexed = timeIndex.lookup(target)
        var position = offsetIndex.lookup(max(indexed, startingOffset)).position
        while position < size {
            let header = try readHeader(at: position, end: size)
            if header.maxTimestamp >= target && header.lastOffset >= startingOffset { return (position, header) }
            position += header.totalSize
        }
        return nil
    }

    /// Calls `body` with each batch header in order, starting at the batch that contains `offset`
    /// (the first batch by default). Blocks (one pread per batch).
    func forEachBatchHeader(from offset: Int64? = nil, _ body: (RecordBatchHeader) -> Void) throws(StorageError) {
        var position = 0
        if let offset {
            guard let (start, _) = try findBatch(containing: offset) else { return }
            position = start
        }
        while position < size {
            let header = try readHeader(at: position, end: size)
            body(header)
            position += header.totalSize
        }
    }

    /// The newest timestamp in the segment for retention: the largest batch max timestamp, or the
    /// file's modification time when no batch has one (as Kafka's `largestTimestamp`).
    var largestTimestamp: Int64 { maxTimestampSoFar >= 0 ? maxTimestampSoFar : log.lastModifiedMs }

    // MARK: Truncation and recovery

    /// Removes the batch that contains `offset` and everything after it, then rebuilds the indexes
    /// from the remaining batch headers. Returns the bytes removed. Blocks.
    func truncate(to offset: Int64) throws(StorageError) -> Int {
        guard let (position, _) = try findBatch(containing: offset) else { return 0 }
        let removed = size - position
        try log.truncate(to: position)
        _ = try rebuild(fileSize: position, checkCRC: false) { _ in }
        return removed
    }

    /// Empties the segment (file and indexes). Blocks.
    func truncateFully() throws(StorageError) {
        try log.truncate(to: 0)
        _ = try rebuild(fileSize: 0, checkCRC: false) { _ in }
    }

    /// Crash recovery for this segment: re-reads every batch, checking header, length, CRC and
    /// offsets, rebuilds both indexes, hands each valid batch header to `onBatch` (for the leader
    /// epoch cache), and cuts the file at the first invalid byte. Returns the bytes removed; the
    /// removal is logged with the file, position, next offset and reason. Blocks: reads the whole
    /// segment.
    func recover(logger: Logger, onBatch: (RecordBatchHeader) -> Void) throws(StorageError) -> Int {
        let fileSize = try log.size()
        let problem = try rebuild(fileSize: fileSize, checkCRC: true, onBatch: onBatch)
        let removed = fileSize - size
        if removed > 0 {
            logger.warning(
                "Recovery truncated \(log.path) at position \(size) (next offset \(nextOffset)), removing \(removed) bytes: \(problem ?? "invalid data")")
            try log.truncate(to: size)
        }
        try persistIndexes()
        return removed
    }

    /// Empties the indexes and the in-memory state, then walks the batches in [0, fileSize)
    /// indexing each valid one; stops at the first invalid one and returns why it is invalid.
    private func rebuild(fileSize: Int, checkCRC: Bool, onBatch: (RecordBatchHeader) -> Void) throws(StorageError) -> String? {
        try offsetIndex.reset()
        try timeIndex.reset()
        size = 0
        nextOffset = baseOffset
        maxTimestampSoFar = -1
        offsetOfMaxTimestampSoFar = baseOffset
        firstBatchTimestamp = nil
        bytesSinceLastIndexEntry = 0
        var position = 0
        while position < fileSize {
            let header: RecordBatchHeader
            do {
                header = try readHeader(at: position, end: fileSize)
            } catch where error.code == .corruptRecord {
                return error.message
            }
            guard header.baseOffset >= nextOffset else {
                return "batch offset \(header.baseOffset) is below the expected \(nextOffset)"
            }
            guard header.lastOffset - baseOffset <= Int64(Int32.max) else {
                return "batch last offset \(header.lastOffset) is too far above the segment base \(baseOffset)"
            }
            if checkCRC {
                let bytes = try log.read(count: header.totalSize, at: position)
                guard bytes.count == header.totalSize else { return "batch at position \(position) is incomplete" }
                let crc = bytes.withUnsafeBytes { raw in
                    CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[RecordBatchHeader.Offset.attributes...]))
                }
                guard crc == header.crc else {
                    return "batch at offset \(header.baseOffset) failed its CRC check (stored \(header.crc), computed \(crc))"
                }
            }
            size = position + header.totalSize
            try indexBatch(header, position: position)
            onBatch(header)
            position += header.totalSize
        }
        return nil
    }

    // MARK: Durability and deletion

    /// The files to fsync to make this segment durable: the log, plus the indexes when the segment
    /// is no longer written to. Blocks: no.
    func filesToSync(includeIndexes: Bool) -> [LogFile] {
        includeIndexes ? [log, offsetIndex.file, timeIndex.file] : [log]
    }

    /// Renames the three files from `<name><oldSuffix>` to `<name><newSuffix>` (the cleaner's
    /// `.cleaned` → `.swap` → final name), the log file last when a suffix is added and first when
    /// one is removed, so that recovery, which keys on the `.log` file's name, never sees a log
    /// file ahead of its indexes. Blocks (renames).
    func renameFiles(from oldSuffix: String, to newSuffix: String) throws(StorageError) {
        let indexes = [offsetIndex.file, timeIndex.file]
        let files = newSuffix.isEmpty ? [log] + indexes : indexes + [log]
        for file in files {
            let path = file.path
            guard path.hasSuffix(oldSuffix) else {
                throw StorageError(.invalidArgument, "cannot rename \(path): it does not end in \"\(oldSuffix)\"")
            }
            try file.rename(to: String(path.dropLast(oldSuffix.count)) + newSuffix)
        }
    }

    /// Renames the three files to `.deleted`; each is unlinked when its last holder releases it.
    /// Blocks.
    func markDeleted() throws(StorageError) {
        try log.markDeleted()
        try offsetIndex.file.markDeleted()
        try timeIndex.file.markDeleted()
    }
}
