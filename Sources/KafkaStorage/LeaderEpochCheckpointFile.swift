/// A partition's leader epoch cache on disk: `<topic>-<partition>/leader-epoch-checkpoint`.
/// Kafka's format (`LeaderEpochCheckpointFile`), see `CheckpointFile`:
/// ```
/// 0            version
/// 3            number of entries
/// 0 0          "epoch startOffset", epochs and offsets increasing
/// 2 1534
/// 5 99210
/// ```
/// Written atomically (temp file, fsync, rename, fsync of the directory) every time the cache
/// changes. After a crash the file holds the last complete write; one that cannot be parsed, or whose
/// entries are not increasing, throws `.corruptCheckpoint`, and the log rebuilds the cache from its
/// batch headers instead.
public struct LeaderEpochCheckpointFile: Sendable {
    public static let fileName = "leader-epoch-checkpoint"

    public let path: String
    private var file: CheckpointFile { CheckpointFile(path: path, version: 0) }

    public init(path: String) {
        self.path = path
    }

    /// Writes the entries atomically. Blocks: two fsyncs.
    public func write(_ entries: [LeaderEpochCache.Entry]) throws(StorageError) {
        try file.write(entries.map { "\($0.epoch) \($0.startOffset)" })
    }

    /// The entries; nil if the file does not exist. Throws `.corruptCheckpoint` if it cannot be
    /// parsed. Blocks.
    public func read() throws(StorageError) -> [LeaderEpochCache.Entry]? {
        guard let lines = try file.read() else { return nil }
        var entries: [LeaderEpochCache.Entry] = []
        for (index, fields) in lines.enumerated() {
            guard fields.count == 2, let epoch = Int32(fields[0]), epoch >= 0, let offset = Int64(fields[1]), offset >= 0 else {
                throw file.malformed(entry: index, fields, expected: "<epoch> <startOffset>")
            }
            if let last = entries.last, epoch <= last.epoch || offset < last.startOffset {
                throw file.malformed(entry: index, fields, expected: "an epoch and start offset above the previous line's")
            }
            entries.append(LeaderEpochCache.Entry(epoch: epoch, startOffset: offset))
        }
        return entries
    }
}
