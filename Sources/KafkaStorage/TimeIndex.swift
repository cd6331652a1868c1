/// The sparse time index of one segment: `<20-digit base offset>.timeindex` beside its `.log`.
///
/// File format (Kafka's `TimeIndex`): 12-byte entries, big-endian, no header:
/// ```
/// int64 timestamp        the largest batch max timestamp seen so far in the segment
/// int32 relativeOffset   offset - segment base offset: last offset of the batch that had it
/// ```
/// Entries are added alongside offset index entries, and once more when the segment stops being
/// the active one, but only when the timestamp grew: timestamps increase strictly and offsets never
/// decrease. A lookup for time T takes the largest entry with timestamp <= T; every batch holding a
/// timestamp >= T is at or after that entry's offset.
///
/// Like the offset index, the file is appended to entry by entry and holds exactly its valid entries.
///
/// Crash recovery: checked on load (a whole number of entries, increasing, offsets inside the
/// segment); a missing or failing index, and those of every segment recovery scans, are rebuilt.
///
/// Not thread-safe: owned by a `LogSegment`, used under its `PartitionLog`'s lock.
final class TimeIndex {
    static let entrySize = 12

    let baseOffset: Int64
    let file: LogFile
    /// Entries the file may hold (`segment.index.bytes` / 12).
    let maxEntries: Int
    private(set) var timestamps: [Int64] = []
    private(set) var relativeOffsets: [Int32] = []
    /// Entries already in the file (see `OffsetIndex.persist`).
    private var persistedCount = 0

    /// Opens (creating if needed) the time index at `path` and reads its entries, checking their
    /// order. Throws `.corruptIndex` for a file that cannot be trusted. Blocks.
    /// `reset` empties the file first (for an index about to be rebuilt).
    init(path: String, baseOffset: Int64, maxIndexSize: Int, reset: Bool = false) throws(StorageError) {
        self.baseOffset = baseOffset
        self.maxEntries = max(1, maxIndexSize / Self.entrySize)
        self.file = try LogFile(path: path, create: true)
        if reset { try file.truncate(to: 0) }
        try load()
    }

    private func load() throws(StorageError) {
        let size = try file.size()
        guard size % Self.entrySize == 0 else {
            throw StorageError(.corruptIndex, "time index \(file.path) has \(size) bytes, not a multiple of \(Self.entrySize)")
        }
        let bytes = try file.read(count: size, at: 0)
        guard bytes.count == size else {
            throw StorageError(.corruptIndex, "time index \(file.path) is shorter than its size")
        }
        bytes.withUnsafeBytes { raw in
            for start in stride(from: 0, to: size, by: Self.entrySize) {
                timestamps.append(raw.loadBigEndian(Int64.self, at: start))
                relativeOffsets.append(raw.loadBigEndian(Int32.self, at: start + 8))
            }
        }
        persistedCount = timestamps.count
        for entry in 0..<timestamps.count {
            let ordered = entry == 0 || (timestamps[entry] > timestamps[entry - 1] && relativeOffsets[entry] >= relativeOffsets[entry - 1])
            guard ordered, relativeOffsets[entry] >= 0, timestamps[entry] >= 0 else {
                throw StorageError(
                    .corruptIndex,
                    "time index \(file.path) entry \(entry) (timestamp \(timestamps[entry]), offset "
                        + "\(baseOffset + Int64(relativeOffsets[entry]))) is out of order or negative")
            }
        }
    }

    var entryCount: Int { timestamps.count }
    var isFull: Bool { timestamps.count >= maxEntries }
    var lastEntry: (timestamp: Int64, offset: Int64)? {
        guard let timestamp = timestamps.last, let offset = relativeOffsets.last else { return nil }
        return (timestamp, baseOffset + Int64(offset))
    }

    /// Adds (timestamp, offset) if the timestamp is larger than the last entry's. `allowWhenFull`
    /// is for the final entry written when the segment stops being active (as Kafka's
    /// `skipFullCheck`). Blocks (one pwrite).
    func maybeAppend(timestamp: Int64, offset: Int64, allowWhenFull: Bool = false) throws(StorageError) {
        guard timestamp >= 0, timestamp > (timestamps.last ?? -1), allowWhenFull || !isFull else { return }
        precondition(offset >= baseOffset && offset - baseOffset <= Int64(Int32.max))
        timestamps.append(timestamp)
        relativeOffsets.append(Int32(offset - baseOffset))
    }

    /// Writes the entries appended since the last call (see `OffsetIndex.persist`). Blocks.
    func persist() throws(StorageError) {
        let count = timestamps.count
        guard count > persistedCount else { return }
        var bytes = [UInt8](repeating: 0, count: (count - persistedCount) * Self.entrySize)
        bytes.withUnsafeMutableBytes { raw in
            for (slot, entry) in (persistedCount..<count).enumerated() {
                raw.storeBigEndian(timestamps[entry], at: slot * Self.entrySize)
                raw.storeBigEndian(relativeOffsets[entry], at: slot * Self.entrySize + 8)
            }
        }
        try file.write(bytes, at: persistedCount * Self.entrySize)
        persistedCount = count
    }

    /// The offset of the largest entry with timestamp <= `target`, or the base offset when there is
    /// none. Blocks: no.
    func lookup(_ target: Int64) -> Int64 {
        var low = 0
        var high = timestamps.count
        while low < high {
            let middle = (low + high) / 2
            if timestamps[middle] <= target { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return baseOffset }
        return baseOffset + Int64(relativeOffsets[low - 1])
    }

    /// Drops every entry; the file becomes empty. Blocks.
    func reset() throws(StorageError) {
        try file.truncate(to: 0)
        persistedCount = 0
        timestamps.removeAll()
        relativeOffsets.removeAll()
    }
}
