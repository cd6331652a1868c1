import KafkaModel

/// An offset per partition, in one of the checkpoint files at the top of a log directory:
/// `recovery-point-offset-checkpoint`, `replication-offset-checkpoint` (high watermarks),
/// `log-start-offset-checkpoint` and `cleaner-offset-checkpoint`. Kafka's format (`OffsetCheckpointFile`), see `CheckpointFile`:
/// ```
/// 0
/// 2
/// orders 0 1534
/// orders 1 99210
/// ```
/// Written atomically (temp file, fsync, rename, fsync of the directory). After a crash the file
/// holds the last complete write; one that cannot be parsed throws `.corruptCheckpoint`, and the
/// `LogManager` logs it and carries on as if it were absent (recovery from offset 0, high
/// watermarks at the log start, log starts at the first segment).
public struct OffsetCheckpointFile: Sendable {
    public static let recoveryPointFileName = "recovery-point-offset-checkpoint"
    public static let replicationOffsetFileName = "replication-offset-checkpoint"
    public static let logStartOffsetFileName = "log-start-offset-checkpoint"
    /// The log cleaner's progress: the first offset not yet compacted of each compacted partition.
    public static let cleanerOffsetFileName = "cleaner-offset-checkpoint"

    public let path: String
    private var file: CheckpointFile { CheckpointFile(path: path, version: 0) }

    public init(path: String) {
        self.path = path
    }

    /// Writes the offsets atomically, partitions in sorted order. Blocks: two fsyncs.
    public func write(_ offsets: [TopicPartition: Int64]) throws(StorageError) {
        try file.write(offsets.sorted { $0.key < $1.key }.map { "\($0.key.topic) \($0.key.partition) \($0.value)" })
    }

    /// The offsets; empty if the file does not exist. Throws `.corruptCheckpoint` if it cannot be
    /// parsed. Blocks.
    public func read() throws(StorageError) -> [TopicPartition: Int64] {
        guard let entries = try file.read() else { return [:] }
        var offsets: [TopicPartition: Int64] = [:]
        for (index, fields) in entries.enumerated() {
            guard fields.count == 3, TopicPartition.isLegalTopicName(String(fields[0])),
                let partition = Int32(fields[1]), partition >= 0, let offset = Int64(fields[2])
            else {
                throw file.malformed(entry: index, fields, expected: "<topic> <partition> <offset>")
            }
            offsets[TopicPartition(topic: String(fields[0]), partition: partition)] = offset
        }
        return offsets
    }
}
