import KafkaModel
import Foundation
import Logging
import Synchronization

/// The logs of a broker across its log directories (`log.dirs`), as Kafka's `LogManager`.
///
/// Each log directory holds partition directories `<topic>-<partition>` and, at its top:
/// - `recovery-point-offset-checkpoint`, `log-start-offset-checkpoint`, `replication-offset-checkpoint`
///   (high watermarks): see `OffsetCheckpointFile`. Written by `writeCheckpoints` and `shutdown`.
/// - `.kafka_cleanshutdown`: an empty marker written after a clean shutdown. When present at
///   startup, the logs of that directory skip the crash-recovery scan; it is removed once they are
///   loaded, so a later crash is not mistaken for a clean stop.
/// - `<topic>-<partition>.<uuid>-delete`: a partition directory being deleted; removed at startup
///   if a crash interrupted the deletion.
///
/// Concurrency: thread-safe; the set of logs is guarded by a `Mutex`. Every method blocks on file
/// I/O (opening logs, fsync, renames): call from a thread pool.
public final class LogManager: Sendable {
    public static let cleanShutdownFileName = ".kafka_cleanshutdown"

    public let logDirectories: [String]
    private let defaultConfig: LogConfig
    private let topicConfig: @Sendable (String) -> LogConfig?
    private let clock: StorageClock
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var logs: [TopicPartition: PartitionLog] = [:]
        var logDirectoryOf: [TopicPartition: String] = [:]
        var isShutDown = false
    }

    /// Opens every partition directory in `logDirectories` (creating missing log directories),
    /// recovering each log as needed (see `LogLoader`), with the offsets from the checkpoint files;
    /// a checkpoint that cannot be parsed is logged and treated as absent. `topicConfig` gives a
    /// topic's settings (nil: `defaultConfig`). Throws if a log cannot be opened or a partition
    /// appears in two directories. Blocks: recovery can read whole segments.
    public init(
        logDirectories: [String],
        defaultConfig: LogConfig = LogConfig(),
        topicConfig: @escaping @Sendable (String) -> LogConfig? = { _ in nil },
        clock: StorageClock = .system,
        logger: Logger
    ) throws(StorageError) {
        guard !logDirectories.isEmpty else {
            throw StorageError(.invalidArgument, "log.dirs is empty")
        }
        try defaultConfig.validate()
        self.logDirectories = logDirectories
        self.defaultConfig = defaultConfig
        self.topicConfig = topicConfig
        self.clock = clock
        self.logger = logger
        var loaded = State()
        for logDirectory in logDirectories {
            try Self.loadLogs(
                in: logDirectory, into: &loaded, defaultConfig: defaultConfig, topicConfig: topicConfig, clock: clock,
                logger: logger)
        }
        state = Mutex(loaded)
    }

    private static func loadLogs(
        in logDirectory: String, into state: inout State, defaultConfig: LogConfig,
        topicConfig: @Sendable (String) -> LogConfig?, clock: StorageClock, logger: Logger
    ) throws(StorageError) {
        try makeDirectory(logDirectory)
        let markerPath = logDirectory + "/" + cleanShutdownFileName
        let cleanShutdown = fileExists(markerPath)
        func readCheckpoint(_ name: String) -> [TopicPartition: Int64] {
            do {
                return try OffsetCheckpointFile(path: logDirectory + "/" + name).read()
            } catch {
                logger.error("Ignoring checkpoint file \(logDirectory)/\(name), which cannot be used: \(error)")
                return [:]
            }
        }
        let recoveryPoints = readCheckpoint(OffsetCheckpointFile.recoveryPointFileName)
        let logStartOffsets = readCheckpoint(OffsetCheckpointFile.logStartOffsetFileName)
        let highWatermarks = readCheckpoint(OffsetCheckpointFile.replicationOffsetFileName)
        logger.info("Loading logs from \(logDirectory) (\(cleanShutdown ? "clean shutdown" : "no clean shutdown marker: recovering"))")

        for name in try directoryEntries(logDirectory) {
            let path = logDirectory + "/" + name
            guard isDirectory(path) else { continue }
            if name.hasSuffix("-delete") {
                logger.info("Removing \(path), whose deletion was interrupted")
                try removeTree(path)
                continue
            }
            guard let topicPartition = TopicPartition(directoryName: name) else {
                logger.warning("Ignoring directory \(path): not a <topic>-<partition> directory")
                continue
            }
            if let other = state.logDirectoryOf[topicPartition] {
                throw StorageError(.invalidArgument, "partition \(topicPartition) has directories in both \(other) and \(logDirectory)")
            }
            let log = try PartitionLog.open(
                directory: path, topicPartition: topicPartition,
                config: topicConfig(topicPartition.topic) ?? defaultConfig,
                recoveryPoint: recoveryPoints[topicPartition] ?? 0,
                logStartOffset: logStartOffsets[topicPartition] ?? 0,
                highWatermark: highWatermarks[topicPartition] ?? 0,
                hadCleanShutdown: cleanShutdown, clock: clock, logger: logger)
            state.logs[topicPartition] = log
            state.logDirectoryOf[topicPartition] = logDirectory
        }
        if cleanShutdown {
            try removeFile(markerPath)
            try syncDirectory(logDirectory)
        }
    }

    // MARK: Logs

    /// The log of a partition, if this broker has it. Blocks: no.
    public func log(for topicPartition: TopicPartition) -> PartitionLog? {
        state.withLock { $0.logs[topicPartition] }
    }

    /// Every log. Blocks: no.
    public var allLogs: [TopicPartition: PartitionLog] {
        state.withLock { $0.logs }
    }

    /// The log directory holding a partition. Blocks: no.
    public func logDirectory(of topicPartition: TopicPartition) -> String? {
        state.withLock { $0.logDirectoryOf[topicPartition] }
    }

    /// The partition's log, created if needed in the log directory that has the fewest partitions.
    /// `config` defaults to the topic's (or the default) settings. Blocks (creates files).
    public func getOrCreateLog(_ topicPartition: TopicPartition, config: LogConfig? = nil) throws(StorageError) -> PartitionLog {
        try state.withLock { state throws(StorageError) -> PartitionLog in
            if let log = state.logs[topicPartition] { return log }
            guard !state.isShutDown else {
                throw StorageError(.logClosed, "cannot create the log of \(topicPartition): the log manager is shut down")
            }
            guard TopicPartition.isLegalTopicName(topicPartition.topic), topicPartition.partition >= 0 else {
                throw StorageError(.invalidArgument, "illegal topic or partition \"\(topicPartition)\"")
            }
            var counts = Dictionary(uniqueKeysWithValues: logDirectories.map { ($0, 0) })
            for directory in state.logDirectoryOf.values { counts[directory, default: 0] += 1 }
            let logDirectory = logDirectories.min { counts[$0]! < counts[$1]! }!
            let log = try PartitionLog.open(
                directory: logDirectory + "/" + topicPartition.directoryName, topicPartition: topicPartition,
                config: config ?? topicConfig(topicPartition.topic) ?? defaultConfig, clock: clock, logger: logger)
            state.logs[topicPartition] = log
            state.logDirectoryOf[topicPartition] = logDirectory
            logger.info("Created log \(topicPartition) in \(logDirectory)")
            return log
        }
    }

    /// Deletes a partition's log: it is closed, its directory renamed to
    /// `<topic>-<partition>.<uuid>-delete` (so a crash cannot leave a half-deleted log that looks
    /// live), then removed. Readers holding its files keep them until they let go. Returns false if
    /// there was no such log. Blocks.
    @discardableResult
    public func deleteLog(_ topicPartition: TopicPartition) throws(StorageError) -> Bool {
        let removed = state.withLock { state -> (PartitionLog, String)? in
            guard let log = state.logs.removeValue(forKey: topicPartition),
                let logDirectory = state.logDirectoryOf.removeValue(forKey: topicPartition)
            else { return nil }
            return (log, logDirectory)
        }
        guard let (log, logDirectory) = removed else { return false }
        log.closeForDeletion()
        let uuid = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let doomed = logDirectory + "/" + topicPartition.directoryName + "." + uuid + "-delete"
        try renameFile(log.directory, to: doomed)
        try syncDirectory(logDirectory)
        try removeTree(doomed)
        logger.info("Deleted log \(topicPartition) from \(logDirectory)")
        return true
    }

    /// Applies new settings to every partition of a topic. Blocks: no.
    public func updateConfig(topic: String, config: LogConfig) throws(StorageError) {
        for (topicPartition, log) in allLogs where topicPartition.topic == topic {
            try log.updateConfig(config)
        }
    }

    // MARK: Background work (called periodically by the broker, on a thread pool)

    /// Runs retention on every log (`PartitionLog.deleteOldSegments`; Kafka runs it every
    /// `log.retention.check.interval.ms`) and forgets idle producers (`removeExpiredProducers`). A failing log is logged and skipped. Returns the number
    /// of segments deleted. Blocks.
    @discardableResult
    public func runRetention(now: Int64? = nil) -> Int {
        let now = now ?? clock.milliseconds()
        var deleted = 0
        for (topicPartition, log) in allLogs.sorted(by: { $0.key < $1.key }) {
            do {
                deleted += try log.deleteOldSegments(now: now)
                log.removeExpiredProducers(now: now)
            } catch {
                logger.error("Retention failed for \(topicPartition): \(error)")
            }
        }
        return deleted
    }

    /// Flushes the logs whose `flush.ms` has passed or that have rolled segments not yet flushed
    /// (`PartitionLog.flushIfDue`). A failing log is logged and skipped. Blocks (fsync).
    public func flushDirtyLogs(now: Int64? = nil) {
        let now = now ?? clock.milliseconds()
        for (topicPartition, log) in allLogs.sorted(by: { $0.key < $1.key }) {
            do {
                try log.flushIfDue(now: now)
            } catch {
                logger.error("Flush failed for \(topicPartition): \(error)")
            }
        }
    }

    /// Writes the recovery points, log start offsets and high watermarks of every log to each log
    /// directory's checkpoint files (Kafka writes them every 60 s and at shutdown), then deletes
    /// producer snapshots older than needed. Blocks (fsync).
    public func writeCheckpoints() throws(StorageError) {
        let (logs, directories) = state.withLock { ($0.logs, $0.logDirectoryOf) }
        var firstError: StorageError?
        for logDirectory in logDirectories {
            var recoveryPoints: [TopicPartition: Int64] = [:]
            var logStartOffsets: [TopicPartition: Int64] = [:]
            var highWatermarks: [TopicPartition: Int64] = [:]
            for (topicPartition, log) in logs where directories[topicPartition] == logDirectory {
                recoveryPoints[topicPartition] = log.recoveryPoint
                logStartOffsets[topicPartition] = log.logStartOffset
                highWatermarks[topicPartition] = log.highWatermark
            }
            for (name, offsets) in [
                (OffsetCheckpointFile.recoveryPointFileName, recoveryPoints),
                (OffsetCheckpointFile.logStartOffsetFileName, logStartOffsets),
                (OffsetCheckpointFile.replicationOffsetFileName, highWatermarks),
            ] {
                do {
                    try OffsetCheckpointFile(path: logDirectory + "/" + name).write(offsets)
                } catch {
                    logger.error("Cannot write \(logDirectory)/\(name): \(error)")
                    firstError = firstError ?? error
                }
            }
        }
        // With the recovery points on disk, older producer snapshots are no longer needed.
        for (topicPartition, log) in logs {
            do {
                try log.deleteOldProducerSnapshots()
            } catch where error.code == .logClosed {
                continue
            } catch {
                logger.error("Cannot delete old producer snapshots of \(topicPartition): \(error)")
            }
        }
        if let firstError { throw firstError }
    }

    /// Clean shutdown: flushes and closes every log, writes the checkpoint files, then writes the
    /// clean-shutdown marker in each log directory whose logs all closed cleanly (the next start
    /// skips their recovery scan). Blocks (fsync).
    public func shutdown() throws(StorageError) {
        let (logs, directories) = state.withLock { state in
            state.isShutDown = true
            return (state.logs, state.logDirectoryOf)
        }
        var firstError: StorageError?
        var failedDirectories: Set<String> = []
        for (topicPartition, log) in logs.sorted(by: { $0.key < $1.key }) {
            do {
                try log.close()
            } catch {
                logger.error("Cannot close \(topicPartition) cleanly: \(error)")
                failedDirectories.insert(directories[topicPartition] ?? "")
                firstError = firstError ?? error
            }
        }
        do {
            try writeCheckpoints()
        } catch {
            failedDirectories.formUnion(logDirectories)
            firstError = firstError ?? error
        }
        for logDirectory in logDirectories where !failedDirectories.contains(logDirectory) {
            do {
                let marker = try LogFile(path: logDirectory + "/" + Self.cleanShutdownFileName, create: true)
                try marker.sync()
                try syncDirectory(logDirectory)
            } catch {
                logger.error("Cannot write the clean shutdown marker in \(logDirectory): \(error)")
                firstError = firstError ?? error
            }
        }
        logger.info("Log manager shut down (\(logs.count) logs)")
        if let firstError { throw firstError }
    }
}
