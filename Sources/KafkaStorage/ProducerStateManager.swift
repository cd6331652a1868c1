import KafkaModel
import KafkaRecords
import Logging

/// One appended batch of an idempotent producer (Kafka's `BatchMetadata`).
public struct ProducerBatchMetadata: Sendable, Hashable {
    public let firstSequence: Int32
    public let lastSequence: Int32
    public let firstOffset: Int64
    public let lastOffset: Int64
    /// The batch's max timestamp (the broker's time for a `LogAppendTime` log).
    public let maxTimestamp: Int64

    public init(firstSequence: Int32, lastSequence: Int32, firstOffset: Int64, lastOffset: Int64, maxTimestamp: Int64) {
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.maxTimestamp = maxTimestamp
    }

    /// `lastOffset - firstOffset`, the snapshot's `offset_delta`.
    public var offsetDelta: Int32 { Int32(truncatingIfNeeded: lastOffset - firstOffset) }
}

/// What a partition knows about one producer id (Kafka's `ProducerStateEntry`): its epoch and its
/// last `retainedBatches` batches, oldest first.
public struct ProducerStateEntry: Sendable, Hashable {
    /// Kafka's `NUM_BATCHES_TO_RETAIN`: the Java producer keeps at most 5 requests in flight.
    public static let retainedBatches = 5

    public let producerId: Int64
    public internal(set) var producerEpoch: Int16
    public internal(set) var batches: [ProducerBatchMetadata]
    /// The max timestamp of the last batch; expiry counts from it.
    public internal(set) var lastTimestamp: Int64
    /// Transactions are not supported: always -1 (written as such to snapshots).
    public internal(set) var coordinatorEpoch: Int32
    /// Transactions are not supported: always nil (-1 in snapshots).
    public internal(set) var currentTxnFirstOffset: Int64?

    public init(
        producerId: Int64, producerEpoch: Int16, batches: [ProducerBatchMetadata] = [], lastTimestamp: Int64 = -1,
        coordinatorEpoch: Int32 = -1, currentTxnFirstOffset: Int64? = nil
    ) {
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.batches = batches
        self.lastTimestamp = lastTimestamp
        self.coordinatorEpoch = coordinatorEpoch
        self.currentTxnFirstOffset = currentTxnFirstOffset
    }

    /// The last sequence appended, -1 if none is known.
    public var lastSequence: Int32 { batches.last?.lastSequence ?? -1 }
    /// The last offset appended, -1 if none is known.
    public var lastOffset: Int64 { batches.last?.lastOffset ?? -1 }

    /// Records a batch; a new epoch forgets the old epoch's batches.
    mutating func add(_ batch: ProducerBatchMetadata, epoch: Int16) {
        if epoch != producerEpoch {
            producerEpoch = epoch
            batches.removeAll()
        }
        if batches.count == Self.retainedBatches { batches.removeFirst() }
        batches.append(batch)
        lastTimestamp = batch.maxTimestamp
    }

    /// The retained batch with exactly this epoch and sequence range, if any.
    func duplicate(of header: RecordBatchHeader) -> ProducerBatchMetadata? {
        guard header.producerEpoch == producerEpoch else { return nil }
        let last = header.lastSequence
        return batches.first { $0.firstSequence == header.baseSequence && $0.lastSequence == last }
    }
}

/// The idempotent producers' state of one partition (Kafka's `ProducerStateManager`), and its
/// snapshot files. Not thread-safe: owned by a `PartitionLog` and used under its lock.
///
/// Leader appends are validated against it (`checkLeaderAppend`), as Kafka 3.8 does for a client's
/// produce: a batch equal to a retained one is a duplicate; an older epoch is fenced
/// (INVALID_PRODUCER_EPOCH); a newer epoch must start at sequence 0 and the same epoch must continue
/// at last sequence + 1 (wrapping from `Int32.max` to 0), else OUT_OF_ORDER_SEQUENCE_NUMBER. An
/// unknown producer id (or one whose state expired or was truncated away) is accepted at any
/// sequence: Kafka's leader no longer answers UNKNOWN_PRODUCER_ID since KIP-360.
///
/// Snapshots: `<20-digit offset>.snapshot` holds the state as of that offset (everything below it
/// applied), in Kafka's format (see `encodeSnapshot`). Only each producer's last batch is stored,
/// as in Kafka, so after a reload from a snapshot only that batch is recognized as a duplicate.
struct ProducerStateManager {
    static let snapshotSuffix = ".snapshot"
    static let snapshotVersion: Int16 = 1
    /// version int16 + crc uint32 (the CRC covers everything after it).
    static let entriesStart = 6
    static let entrySize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8

    let directory: String
    let topicPartition: TopicPartition
    var expirationMs: Int64
    let logger: Logger
    private(set) var producers: [Int64: ProducerStateEntry] = [:]
    /// Offsets of the snapshot files in the directory, ascending.
    private(set) var snapshotOffsets: [Int64] = []

    init(directory: String, topicPartition: TopicPartition, expirationMs: Int64, logger: Logger) {
        self.directory = directory
        self.topicPartition = topicPartition
        self.expirationMs = expirationMs
        self.logger = logger
    }

    func snapshotPath(_ offset: Int64) -> String {
        LogSegment.path(directory: directory, baseOffset: offset, suffix: Self.snapshotSuffix)
    }

    // MARK: Validation and updates

    /// Checks a leader append of a batch whose offsets are assigned. Returns the original batch if
    /// this one is a retry of a retained one (nothing must be appended), nil if it may be appended.
    /// Throws `.invalidProducerEpoch` or `.outOfOrderSequence`. Batches without a producer id pass.
    func checkLeaderAppend(_ header: RecordBatchHeader) throws(StorageError) -> ProducerBatchMetadata? {
        guard header.hasProducerId else { return nil }
        let entry = producers[header.producerId]
        if let entry, let original = entry.duplicate(of: header) { return original }
        let currentEpoch = entry?.producerEpoch ?? -1
        let described = "producer \(header.producerId) at offset \(header.baseOffset) of \(topicPartition)"
        if header.producerEpoch < currentEpoch {
            throw StorageError(
                .invalidProducerEpoch,
                "epoch of \(described) is \(header.producerEpoch), smaller than the last seen epoch \(currentEpoch)")
        }
        // Control batches (transaction markers) carry no sequence to check.
        guard !header.isControl else { return nil }
        guard header.baseSequence >= 0 else {
            throw StorageError(.corruptRecord, "batch of \(described) has no base sequence")
        }
        // No known epoch (new, expired or truncated-away producer): any sequence is accepted.
        guard let entry, currentEpoch != -1 else { return nil }
        if header.producerEpoch != currentEpoch {
            if header.baseSequence != 0 {
                throw StorageError(
                    .outOfOrderSequence,
                    "\(described) starts new epoch \(header.producerEpoch) (current \(currentEpoch)) at sequence \(header.baseSequence), not 0")
            }
        } else if !Self.inSequence(last: entry.lastSequence, next: header.baseSequence) {
            throw StorageError(
                .outOfOrderSequence,
                "\(described) sends sequence \(header.baseSequence) after \(entry.lastSequence) (epoch \(currentEpoch))")
        }
        return nil
    }

    static func inSequence(last: Int32, next: Int32) -> Bool {
        Int64(next) == Int64(last) + 1 || (next == 0 && last == Int32.max)
    }

    /// Records an appended batch (leader, follower or log scan), without validation.
    mutating func update(_ header: RecordBatchHeader) {
        guard header.hasProducerId else { return }
        var entry = producers[header.producerId] ?? ProducerStateEntry(producerId: header.producerId, producerEpoch: -1)
        if header.isControl {
            // A transaction marker: only the epoch and time move (transactions are not tracked).
            if entry.producerEpoch != header.producerEpoch {
                entry.producerEpoch = header.producerEpoch
                entry.batches.removeAll()
            }
            entry.lastTimestamp = header.maxTimestamp
        } else {
            let batch = ProducerBatchMetadata(
                firstSequence: header.baseSequence, lastSequence: header.lastSequence, firstOffset: header.baseOffset,
                lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp)
            entry.add(batch, epoch: header.producerEpoch)
        }
        producers[header.producerId] = entry
    }

    /// Forgets producers whose last batch is at least `producer.id.expiration.ms` old (Kafka's
    /// `removeExpiredProducers`). Returns how many went.
    @discardableResult
    mutating func removeExpired(now: Int64) -> Int {
        let before = producers.count
        producers = producers.filter { !isExpired($0.value, now: now) }
        return before - producers.count
    }

    private func isExpired(_ entry: ProducerStateEntry, now: Int64) -> Bool {
        entry.currentTxnFirstOffset == nil && now - entry.lastTimestamp >= expirationMs
    }

    // MARK: Loading and truncation

    /// Rebuilds the state for a log whose segments end at `logEndOffset` (opening, or after a
    /// truncation): snapshots above the log end or below the log start are deleted, the latest
    /// remaining one is read (a corrupt one is deleted and the next older tried), then the batch
    /// headers after it are applied. Without any snapshot the whole log is read, except leading
    /// segments whose newest timestamp is already past the expiry (their producers would be expired;
    /// starting with them unknown is safe, as unknown producers are accepted at any sequence).
    /// Blocks (reads headers).
    mutating func reload(segments: [LogSegment], logStartOffset: Int64, logEndOffset: Int64, now: Int64) throws(StorageError) {
        producers = [:]
        snapshotOffsets = try listSnapshots()
        for offset in snapshotOffsets where offset > logEndOffset || offset < logStartOffset {
            try deleteSnapshot(offset)
        }
        var from = logStartOffset
        var loaded = false
        while let latest = snapshotOffsets.last {
            do {
                let entries = try Self.decodeSnapshot(try readFile(snapshotPath(latest)), path: snapshotPath(latest))
                for entry in entries where !isExpired(entry, now: now) { producers[entry.producerId] = entry }
                from = latest
                loaded = true
                logger.info("Loaded producer state of \(topicPartition) from \(snapshotPath(latest)): \(producers.count) producers")
                break
            } catch where error.code == .corruptCheckpoint {
                logger.warning("\(error.message); deleting it")
                try deleteSnapshot(latest)
            }
        }
        var skipping = !loaded
        var applied = 0
        for segment in segments where segment.nextOffset > from && segment.baseOffset < logEndOffset {
            if skipping && segment !== segments.last && now - segment.largestTimestamp >= expirationMs { continue }
            skipping = false
            try segment.forEachBatchHeader(from: from) { header in
                guard header.lastOffset >= from, header.baseOffset < logEndOffset else { return }
                update(header)
                applied += 1
            }
        }
        removeExpired(now: now)
        if applied > 0 {
            logger.info(
                "Rebuilt producer state of \(topicPartition) from offset \(from) to \(logEndOffset) (\(applied) batches): \(producers.count) producers")
        }
    }

    /// After the log was cut to end at `logEndOffset`: snapshots above it go and the state is
    /// rebuilt (`reload`). With no producer known the scan is skipped, as in Kafka: removing batches
    /// cannot bring back producers that were not there. Blocks.
    mutating func truncateAndReload(
        segments: [LogSegment], logStartOffset: Int64, logEndOffset: Int64, now: Int64
    ) throws(StorageError) {
        guard producers.isEmpty else {
            try reload(segments: segments, logStartOffset: logStartOffset, logEndOffset: logEndOffset, now: now)
            return
        }
        for offset in snapshotOffsets where offset > logEndOffset { try deleteSnapshot(offset) }
    }

    /// Forgets every producer and deletes every snapshot (the log was emptied). Blocks.
    mutating func truncateFully() throws(StorageError) {
        producers = [:]
        for offset in snapshotOffsets { try deleteSnapshot(offset) }
    }

    // MARK: Snapshot files

    /// Writes the current state as the snapshot at `offset` (which must be the log end, or the base
    /// of a segment about to be rolled with nothing appended since the log end), unless one exists:
    /// the state at an offset never changes. Expired producers are dropped first. Blocks (fsync).
    mutating func takeSnapshot(at offset: Int64, now: Int64) throws(StorageError) {
        removeExpired(now: now)
        guard !snapshotOffsets.contains(offset) else { return }
        let bytes = Self.encodeSnapshot(producers.values.sorted { $0.producerId < $1.producerId })
        let file = try LogFile(path: snapshotPath(offset), create: true)
        try file.truncate(to: 0)
        try file.write(bytes, at: 0)
        try file.sync()
        snapshotOffsets.append(offset)
        snapshotOffsets.sort()
    }

    /// Deletes the snapshots below `offset` (Kafka's `deleteSnapshotsBefore`). Blocks.
    mutating func deleteSnapshots(below offset: Int64) throws(StorageError) {
        for snapshot in snapshotOffsets where snapshot < offset { try deleteSnapshot(snapshot) }
    }

    private mutating func deleteSnapshot(_ offset: Int64) throws(StorageError) {
        try removeFile(snapshotPath(offset))
        snapshotOffsets.removeAll { $0 == offset }
    }

    private func listSnapshots() throws(StorageError) -> [Int64] {
        try directoryEntries(directory).compactMap { LogSegment.baseOffset(fileName: $0, suffix: Self.snapshotSuffix) }.sorted()
    }

    private func readFile(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        // A snapshot holds one 46-byte entry per producer; anything this large is not one.
        guard size <= CheckpointFile.maximumSize else {
            throw StorageError(.corruptCheckpoint, "producer snapshot \(path) is \(size) bytes, too large")
        }
        return try file.read(count: size, at: 0)
    }

    // MARK: Format

    /// Kafka's producer snapshot, version 1 (big-endian):
    /// ```
    /// version            int16   1
    /// crc                uint32  CRC-32C of every byte after this field
    /// producer_entries   int32 count, then per producer:
    ///   producer_id int64, epoch int16, last_sequence int32, last_offset int64, offset_delta int32,
    ///   timestamp int64, coordinator_epoch int32, current_txn_first_offset int64
    /// ```
    /// A producer with no known batch has last_sequence -1, last_offset -1 and offset_delta 0.
    static func encodeSnapshot(_ entries: [ProducerStateEntry]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entriesStart + 4 + entries.count * entrySize)
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        put(snapshotVersion)
        put(UInt32(0))
        put(Int32(entries.count))
        for entry in entries {
            let last = entry.batches.last
            put(entry.producerId)
            put(entry.producerEpoch)
            put(last?.lastSequence ?? -1)
            put(last?.lastOffset ?? -1)
            put(last?.offsetDelta ?? 0)
            put(entry.lastTimestamp)
            put(entry.coordinatorEpoch)
            put(entry.currentTxnFirstOffset ?? -1)
        }
        let crc = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[entriesStart...])) }
        withUnsafeBytes(of: crc.bigEndian) { bytes.replaceSubrange(2..<6, with: $0) }
        return bytes
    }

    /// Parses a snapshot; throws `.corruptCheckpoint` naming `path` if the version, CRC or layout is
    /// wrong.
    static func decodeSnapshot(_ bytes: [UInt8], path: String) throws(StorageError) -> [ProducerStateEntry] {
        func corrupt(_ why: String) -> StorageError {
            StorageError(.corruptCheckpoint, "producer snapshot \(path) is corrupt: \(why)")
        }
        guard bytes.count >= entriesStart + 4 else { throw corrupt("only \(bytes.count) bytes") }
        var position = 0
        func get<T: FixedWidthInteger>(_: T.Type) -> T {
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[position..<position + MemoryLayout<T>.size]) }
            position += MemoryLayout<T>.size
            return T(bigEndian: value)
        }
        let version = get(Int16.self)
        guard version == snapshotVersion else { throw corrupt("unknown version \(version)") }
        let stored = get(UInt32.self)
        let computed = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[entriesStart...])) }
        guard stored == computed else { throw corrupt("stored CRC \(stored), computed \(computed)") }
        let count = get(Int32.self)
        guard count >= 0, Int(count) * entrySize == bytes.count - position else {
            throw corrupt("\(count) entries do not fill the \(bytes.count - position) bytes after the header")
        }
        var entries: [ProducerStateEntry] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            let producerId = get(Int64.self)
            let epoch = get(Int16.self)
            let lastSequence = get(Int32.self)
            let lastOffset = get(Int64.self)
            let offsetDelta = get(Int32.self)
            let timestamp = get(Int64.self)
            let coordinatorEpoch = get(Int32.self)
            let txnFirstOffset = get(Int64.self)
            var batches: [ProducerBatchMetadata] = []
            if lastOffset >= 0 {
                batches.append(
                    ProducerBatchMetadata(
                        firstSequence: decrementSequence(lastSequence, by: offsetDelta), lastSequence: lastSequence,
                        firstOffset: lastOffset - Int64(offsetDelta), lastOffset: lastOffset, maxTimestamp: timestamp))
            }
            entries.append(
                ProducerStateEntry(
                    producerId: producerId, producerEpoch: epoch, batches: batches, lastTimestamp: timestamp,
                    coordinatorEpoch: coordinatorEpoch, currentTxnFirstOffset: txnFirstOffset >= 0 ? txnFirstOffset : nil))
        }
        return entries
    }

    /// The sequence `decrement` before `sequence`, wrapping below 0 to `Int32.max`
    /// (Kafka's `DefaultRecordBatch.decrementSequence`).
    static func decrementSequence(_ sequence: Int32, by decrement: Int32) -> Int32 {
        if sequence < decrement { return Int32(Int64(Int32.max) - Int64(decrement) + Int64(sequence) + 1) }
        return sequence - decrement
    }
}
