/// The sparse offset index of one segment: `<20-digit base offset>.index` beside its `.log`.
///
/// File format (Kafka's `OffsetIndex`): 8-byte entries, big-endian, no header:
/// ```
/// int32 relativeOffset   offset - segment base offset
/// int32 position         byte position of a batch in the .log file
/// ```
/// Entry (o, p) says "the batch starting at p has last offset base + o". One entry is added each
/// time more than `index.interval.bytes` were appended since the previous one, so entries increase
/// strictly in both fields. A lookup takes the largest entry at or below the target offset and scans
/// batch headers forward from its position.
///
/// Kafka preallocates the file to `segment.index.bytes` and trims it on roll; this engine appends
/// each entry instead, so the file always holds exactly its valid entries.
///
/// Crash recovery: the file has no checksum. When a segment is loaded the index is checked (a whole
/// number of entries, both fields increasing, positions inside the log, the last entry naming a
/// batch with that last offset); a missing or failing index, and the indexes of every segment that
/// recovery scans, are rebuilt from the batches.
///
/// Not thread-safe: owned by a `LogSegment`, used under its `PartitionLog`'s lock.
final class OffsetIndex {
    static let entrySize = 8

    let baseOffset: Int64
    let file: LogFile
    /// Entries the file may hold (`segment.index.bytes` / 8).
    let maxEntries: Int
    private(set) var relativeOffsets: [Int32] = []
    private(set) var positions: [Int32] = []
    /// Entries already in the file. Appends stay in memory until `persist()` (at flush, roll and
    /// close) writes them in one call, as Kafka's memory-mapped index defers them to the page
    /// cache; a crash loses at most unflushed entries, which recovery rebuilds.
    private var persistedCount = 0

    /// Opens (creating if needed) the index at `path` and reads its entries, checking their order.
    /// Throws `.corruptIndex` for a file that cannot be trusted, `.io` if it cannot be read. Blocks.
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
            throw StorageError(.corruptIndex, "offset index \(file.path) has \(size) bytes, not a multiple of \(Self.entrySize)")
        }
        let bytes = try file.read(count: size, at: 0)
        guard bytes.count == size else {
            throw StorageError(.corruptIndex, "offset index \(file.path) is shorter than its size")
        }
        var previousOffset: Int32 = -1
        var previousPosition: Int32 = -1
        bytes.withUnsafeBytes { raw in
            for start in stride(from: 0, to: size, by: Self.entrySize) {
                relativeOffsets.append(raw.loadBigEndian(Int32.self, at: start))
                positions.append(raw.loadBigEndian(Int32.self, at: start + 4))
            }
        }
        persistedCount = relativeOffsets.count
        for entry in 0..<relativeOffsets.count {
            let offset = relativeOffsets[entry]
            let position = positions[entry]
            guard offset > previousOffset, position > previousPosition, offset >= 0 else {
                throw StorageError(
                    .corruptIndex,
                    "offset index \(file.path) entry \(entry) (offset \(baseOffset + Int64(offset)), position \(position)) "
                        + "does not follow the previous one (offset \(baseOffset + Int64(previousOffset)), position \(previousPosition))")
            }
            previousOffset = offset
            previousPosition = position
        }
    }

    var entryCount: Int { relativeOffsets.count }
    var isFull: Bool { relativeOffsets.count >= maxEntries }
    /// The last indexed (offset, position), if any.
    var lastEntry: (offset: Int64, position: Int)? {
        guard let offset = relativeOffsets.last, let position = positions.last else { return nil }
        return (baseOffset + Int64(offset), Int(position))
    }

    /// Adds an entry (the caller keeps offsets and positions increasing). Blocks (one pwrite).
    func append(offset: Int64, position: Int) throws(StorageError) {
        precondition(!isFull && offset >= baseOffset && offset - baseOffset <= Int64(Int32.max) && position <= Int(Int32.max))
        relativeOffsets.append(Int32(offset - baseOffset))
        positions.append(Int32(position))
    }

    /// Writes the entries appended since the last call. Blocks (one pwrite).
    func persist() throws(StorageError) {
        let count = relativeOffsets.count
        guard count > persistedCount else { return }
        var bytes = [UInt8](repeating: 0, count: (count - persistedCount) * Self.entrySize)
        bytes.withUnsafeMutableBytes { raw in
            for (slot, entry) in (persistedCount..<count).enumerated() {
                raw.storeBigEndian(relativeOffsets[entry], at: slot * Self.entrySize)
                raw.storeBigEndian(positions[entry], at: slot * Self.entrySize + 4)
            }
        }
        try file.write(bytes, at: persistedCount * Self.entrySize)
        persistedCount = count
    }

    /// The largest entry with offset <= `target`, or (base offset, 0) when there is none. Blocks: no.
    func lookup(_ target: Int64) -> (offset: Int64, position: Int) {
        guard target >= baseOffset else { return (baseOffset, 0) }
        let relative = target - baseOffset
        // Binary search for the last entry <= relative.
        var low = 0
        var high = relativeOffsets.count
        while low < high {
            let middle = (low + high) / 2
            if Int64(relativeOffsets[middle]) <= relative { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return (baseOffset, 0) }
        return (baseOffset + Int64(relativeOffsets[low - 1]), Int(positions[low - 1]))
    }

    /// Drops every entry; the file becomes empty. Blocks.
    func reset() throws(StorageError) {
        try file.truncate(to: 0)
        persistedCount = 0
        relativeOffsets.removeAll()
        positions.removeAll()
    }
}

extension UnsafeRawBufferPointer {
    func loadBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
