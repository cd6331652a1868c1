import Synchronization
import KafkaCoordination
import KafkaStorage
import Logging
import ZooKeeperClient

extension KafkaServer {
    /// The broker's periodic work: retention, log cleaning, scheduled flushes, checkpoints, and topic config changes
    /// announced under `/config/changes`.
    func startBackgroundWork() {
        let io = replicas.io
        let logManager = self.logManager
        let logger = self.logger
        let retention = settings.retentionCheckIntervalMs
        var tasks: [Task<Void, Never>] = []
        tasks.append(Self.every(milliseconds: retention) {
            let deleted = (try? await io.run { logManager.runRetention() }) ?? 0
            if deleted > 0 { logger.info("retention deleted \(deleted) segments") }
        })
        if settings.flushSchedulerIntervalMs < Int64(Int32.max) {
            tasks.append(Self.every(milliseconds: settings.flushSchedulerIntervalMs) {
                _ = try? await io.run { logManager.flushDirtyLogs() }
            })
        }
        // Compaction of logs whose cleanup.policy includes compact: one pass at a time, on the
        // storage thread pool (a pass blocks on file I/O for as long as it takes).
        if settings.logCleanerEnable && settings.logCleanerThreads > 0 {
            let cleaner = LogCleaner(
                logManager: logManager, dedupeBufferSize: settings.logCleanerDedupeBufferSize,
                threads: settings.logCleanerThreads, logger: logger)
            tasks.append(Self.every(milliseconds: settings.logCleanerBackoffMs) {
                _ = try? await io.run { cleaner.runOnce() }
            })
        }
        // The recovery point and high watermark checkpoints (Kafka writes them every 5 s and 60 s).
        tasks.append(Self.every(milliseconds: 5_000) {
            do {
                try await io.run { try logManager.writeCheckpoints() }
            } catch {
                logger.error("writing checkpoints failed: \(error)")
            }
        })
        tasks.append(Task { [weak self] in await self?.followConfigChanges() })
        // Every 200 ms: an expansion matters quickly (acks=all waits on the ISR); a shrink is due only
        // after replica.lag.time.max.ms, which `proposedIsr` checks.
        tasks.append(Self.every(milliseconds: 200) { [weak self] in
            await self?.updateIsrs()
        })
        // The group coordinator follows this broker's leadership of __consumer_offsets (also told
        // directly after each LeaderAndIsr; this catches resignations and missed changes).
        tasks.append(Self.every(milliseconds: 1_000) { [weak self] in
            await self?.followOffsetsTopic()
        })
        if settings.autoLeaderRebalance {
            tasks.append(Self.every(milliseconds: settings.leaderImbalanceCheckIntervalSeconds * 1000) { [weak self] in
                await self?.coordinator?.controller.checkLeaderBalance()
            })
        }
        background.withLock { $0.append(contentsOf: tasks) }
    }

    private static func every(milliseconds: Int64, _ body: @escaping @Sendable () async -> Void) -> Task<Void, Never> {
        Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(max(milliseconds, 10)))
                if Task.isCancelled { return }
                await body()
            }
        }
    }

    /// Reloads the settings of topics whose config changed. Kafka's notifications name the entity
    /// (`topics/<name>`); every new one since the last look is applied.
    private func followConfigChanges() async {
        var seen: Set<String> = []
        var first = true
        for await children in zk.zooKeeper.childrenUpdates(ConfigChangeNotificationZNode.parent) {
            guard let children else { continue }
            let fresh = children.filter { !seen.contains($0) }
            seen = Set(children)
            if first {
                first = false
                continue
            }
            for child in fresh.sorted() {
                let path = "\(ConfigChangeNotificationZNode.parent)/\(child)"
                guard let (data, _) = try? await zk.read(path),
                    let entity = try? ConfigChangeNotificationZNode.decode(data, path: path)
                else { continue }
                if entity.hasPrefix("topics/") {
                    await replicas.reloadSettings(topic: String(entity.dropFirst("topics/".count)))
                }
            }
        }
    }
}
