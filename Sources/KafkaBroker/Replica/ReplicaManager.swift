import KafkaCoordination
import KafkaModel
import KafkaRecords
import KafkaStorage
import Logging
import NIOCore
import Synchronization

/// The partitions this broker holds and the operations on them: leading or following as the
/// controller decides, appends from producers, reads for consumers, offsets by time, deletion of
/// records. Storage calls run on the blocking pool.
final class ReplicaManager: Sendable {
    /// A topic's log config and broker-side settings, from its overrides in ZooKeeper over the
    /// broker's defaults.
    typealias TopicSettingsLoader = @Sendable (String) async -> (LogConfig, PartitionSettings)

    let localBroker: Int32
    let logManager: LogManager
    let io: BlockingIO
    let arrival = DataArrival()
    private let loadSettings: TopicSettingsLoader
    private let partitions = Mutex<[TopicPartition: Partition]>([:])
    private let controllerEpoch = Mutex<Int32>(-1)
    /// Set while a controlled shutdown asks the controller to move this broker's leaderships:
    /// writes to partitions with another ISR member wait (a write acknowledged in between would be
    /// truncated away by the new leader with acks=1).
    private let handingOver = Mutex(false)
    var isHandingOver: Bool { handingOver.withLock { $0 } }
    private let logger: Logger

    init(localBroker: Int32, logManager: LogManager, io: BlockingIO, loadSettings: @escaping TopicSettingsLoader, logger: Logger) {
        self.localBroker = localBroker
        self.logManager = logManager
        self.io = io
        self.loadSettings = loadSettings
        self.logger = logger
    }

    func partition(_ tp: TopicPartition) -> Partition? { partitions.withLock { $0[tp] } }
    var allPartitions: [Partition] { partitions.withLock { Array($0.values) } }

    // MARK: Controller requests

    /// Refuses a request from a controller older than the newest one seen (STALE_CONTROLLER_EPOCH).
    func acceptControllerEpoch(_ epoch: Int32) -> Bool {
        controllerEpoch.withLock { current in
            guard epoch >= current else { return false }
            current = epoch
            return true
        }
    }

    /// LeaderAndIsr: opens (or creates) the log of every partition this broker replicates and makes
    /// it leader or follower. A new leader starts its epoch at its log end (KIP-101). Returns the
    /// error of each partition (NONE, or STALE_CONTROLLER_EPOCH-like refusals as Kafka reports them).
    func becomeLeaderOrFollower(_ states: [PartitionState]) async -> [TopicPartition: KafkaErrorCode] {
        var results: [TopicPartition: KafkaErrorCode] = [:]
        for decision in states where decision.replicas.contains(localBroker) {
            let tp = decision.partition
            do {
                let partition = try await openPartition(tp)
                guard partition.apply(decision) else {
                    results[tp] = .staleControllerEpoch
                    continue
                }
                if decision.leaderAndIsr.leader == localBroker {
                    let epoch = decision.leaderAndIsr.leaderEpoch
                    let log = partition.log
                    try await io.run {
                        if (log.latestEpoch ?? -1) < epoch {
                            try log.assignEpochStartOffset(epoch: epoch, startOffset: log.logEndOffset)
                        }
                    }
                    partition.maybeAdvanceHighWatermark()
                    logger.info("leading \(tp) at epoch \(epoch), ISR \(decision.leaderAndIsr.isr)")
                } else {
                    logger.info("following \(tp) (leader \(decision.leaderAndIsr.leader), epoch \(decision.leaderAndIsr.leaderEpoch))")
                }
                arrival.notify(tp)
                results[tp] = KafkaErrorCode.none
            } catch {
                logger.error("cannot open \(tp): \(error)")
                results[tp] = .kafkaStorageError
            }
        }
        return results
    }

    private func openPartition(_ tp: TopicPartition) async throws -> Partition {
        if let existing = partition(tp) { return existing }
        let (config, settings) = await loadSettings(tp.topic)
        let logManager = self.logManager
        let log = try await io.run {
            let log = try logManager.getOrCreateLog(tp, config: config)
            if log.config != config { try log.updateConfig(config) }  // a log found on disk at start-up
            return log
        }
        return partitions.withLock { partitions in
            if let existing = partitions[tp] { return existing }
            let partition = Partition(topicPartition: tp, log: log, localBroker: localBroker, settings: settings)
            partitions[tp] = partition
            return partition
        }
    }

    /// Starts or ends a hand-over; writes held by it wake up when it ends.
    func setHandingOver(_ value: Bool) {
        handingOver.withLock { $0 = value }
        if !value { for partition in allPartitions { arrival.notify(partition.topicPartition) } }
    }

    /// After a controlled shutdown: this broker leads none of its partitions but `kept` any more.
    /// Waiting acks=all produces and long polls wake and see it.
    func resignLeadership(except kept: Set<TopicPartition>) {
        for partition in allPartitions where partition.isLeader && !kept.contains(partition.topicPartition) {
            partition.resignLeadership()
            arrival.notify(partition.topicPartition)
        }
    }

    /// StopReplica: stops serving these partitions, deleting their logs when asked (topic deletion).
    func stopReplicas(_ tps: [TopicPartition], delete: Bool) async {
        for tp in tps {
            let removed = partitions.withLock { $0.removeValue(forKey: tp) }
            arrival.notify(tp)
            guard delete else { continue }
            let logManager = self.logManager
            do {
                _ = try await io.run { try logManager.deleteLog(tp) }
                logger.info("deleted the log of \(tp)")
            } catch {
                logger.error("cannot delete the log of \(tp): \(error)")
            }
            _ = removed
        }
    }

    /// Applies changed topic configs to the partitions of `topic` this broker holds.
    func reloadSettings(topic: String) async {
        let local = allPartitions.filter { $0.topicPartition.topic == topic }
        guard !local.isEmpty else { return }
        let (config, settings) = await loadSettings(topic)
        for partition in local {
            partition.updateSettings(settings)
            let log = partition.log
            do {
                try await io.run { try log.updateConfig(config) }
            } catch {
                logger.error("cannot apply the new config of \(partition.topicPartition): \(error)")
            }
        }
    }
}
