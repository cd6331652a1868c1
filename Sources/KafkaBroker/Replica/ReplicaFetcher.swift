import KafkaClient
import KafkaCoordination
import KafkaModel
import KafkaProtocol
import KafkaRecords
import KafkaStorage
import Logging
import NIOCore
import Synchronization

/// Follows the partitions one leader broker leads for this broker: one connection and one fetch
/// loop per leader, serving many partitions (Kafka's ReplicaFetcherThread). Before a partition's
/// first fetch the follower asks the leader where its own last epoch ends (OffsetForLeaderEpoch,
/// KIP-101) and truncates there, so its log never keeps records the new leader does not have.
final class ReplicaFetcher: Sendable {
    let leader: Int32
    private let server: KafkaServerRef
    private let partitions = Mutex<[TopicPartition: FetchState]>([:])
    private let task = Mutex<Task<Void, Never>?>(nil)
    private let logger: Logger

    struct FetchState: Sendable {
        var leaderEpoch: Int32
        var truncated = false
    }

    init(leader: Int32, server: KafkaServerRef, logger: Logger) {
        self.leader = leader
        self.server = server
        self.logger = logger
    }

    func add(_ tp: TopicPartition, leaderEpoch: Int32) {
        partitions.withLock { $0[tp] = FetchState(leaderEpoch: leaderEpoch) }
        task.withLock { task in
            if task == nil { task = Task { await self.run() } }
        }
    }

    func remove(_ tp: TopicPartition) { partitions.withLock { _ = $0.removeValue(forKey: tp) } }
    var isEmpty: Bool { partitions.withLock { $0.isEmpty } }

    /// Stops fetching and waits until the connection is closed (before the event loops stop).
    func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        await running?.value
    }

    private func run() async {
        var connection: KafkaConnection?
        var failures = 0
        while !Task.isCancelled {
            guard let server = server.value, !isEmpty else {
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            do {
                if connection == nil || connection?.isActive == false {
                    guard let info = try await server.zk.getBroker(leader), let endpoint = info.endpoints.first else {
                        throw KafkaClientError(.noBrokerAvailable, "leader \(leader) is not registered")
                    }
                    var options = KafkaConnection.Options(clientId: "replica-fetcher-\(server.brokerID)", requestTimeout: .seconds(30))
                    options.negotiateApiVersions = false
                    connection = try await KafkaConnection.connect(
                        host: endpoint.host, port: Int(endpoint.port), options: options, eventLoopGroup: server.eventLoopGroup)
                }
                try await truncatePending(over: connection!, server: server)
                try await fetchOnce(over: connection!, server: server)
                failures = 0
            } catch {
                failures += 1
                if failures % 20 == 1 { logger.warning("fetching from leader \(leader) failed: \(error)") }
                await connection?.close()
                connection = nil
                try? await Task.sleep(for: .milliseconds(min(100 * failures, 1000)))
            }
        }
        await connection?.close()
    }

    /// OffsetForLeaderEpoch for partitions not yet truncated: each log keeps only what the leader
    /// has for the follower's latest epoch.
    private func truncatePending(over connection: KafkaConnection, server: KafkaServer) async throws {
        let pending = partitions.withLock { $0.filter { !$0.value.truncated } }
        guard !pending.isEmpty else { return }
        var topics: [String: [OffsetForLeaderEpochRequest.OffsetForLeaderPartition]] = [:]
        var logs: [TopicPartition: PartitionLog] = [:]
        for (tp, state) in pending {
            guard let partition = server.replicas.partition(tp) else { continue }
            logs[tp] = partition.log
            topics[tp.topic, default: []].append(.init(
                partition: tp.partition, currentLeaderEpoch: state.leaderEpoch, leaderEpoch: partition.log.latestEpoch ?? -1))
        }
        let request = OffsetForLeaderEpochRequest(
            replicaId: server.brokerID, topics: topics.map { .init(topic: $0.key, partitions: $0.value) })
        let response = try await connection.send(request, version: 3)
        for topic in response.topics {
            for answer in topic.partitions {
                let tp = TopicPartition(topic: topic.topic, partition: answer.partition)
                guard let log = logs[tp], answer.errorCode == 0 else { continue }
                let target = answer.endOffset >= 0 && answer.leaderEpoch >= 0 ? answer.endOffset : log.highWatermark
                try await server.replicas.io.run {
                    if target < log.logEndOffset { _ = try log.truncate(to: target) }
                }
                partitions.withLock { $0[tp]?.truncated = true }
                if target < log.logEndOffset { logger.info("truncated \(tp) to \(target) before following leader \(leader)") }
            }
        }
    }

    private func fetchOnce(over connection: KafkaConnection, server: KafkaServer) async throws {
        let ready = partitions.withLock { $0.filter(\.value.truncated) }
        guard !ready.isEmpty else {
            try await Task.sleep(for: .milliseconds(50))
            return
        }
        var topics: [String: [FetchRequest.FetchPartition]] = [:]
        for (tp, state) in ready {
            guard let partition = server.replicas.partition(tp) else { continue }
            topics[tp.topic, default: []].append(.init(
                partition: tp.partition, currentLeaderEpoch: state.leaderEpoch, fetchOffset: partition.log.logEndOffset,
                logStartOffset: partition.log.logStartOffset, partitionMaxBytes: 1_048_576))
        }
        let request = FetchRequest(
            replicaId: server.brokerID, maxWaitMs: 500, minBytes: 1, maxBytes: 10_485_760, isolationLevel: 0,
            sessionId: 0, sessionEpoch: -1, topics: topics.map { .init(topic: $0.key, partitions: $0.value) })
        let response = try await connection.send(request, version: 11)
        for topic in response.responses {
            for data in topic.partitions {
                let tp = TopicPartition(topic: topic.topic, partition: data.partitionIndex)
                guard let partition = server.replicas.partition(tp) else { continue }
                let error = KafkaErrorCode(rawValue: data.errorCode)
                switch error {
                case .none:
                    try await server.replicas.appendAsFollower(partition, records: data.records, leaderHighWatermark: data.highWatermark)
                case .offsetOutOfRange:
                    // The leader no longer has our log end: start again at its log start.
                    let log = partition.log
                    let start = data.logStartOffset
                    if start > log.logEndOffset {
                        try await server.replicas.io.run { try log.truncateFully(startingAt: start) }
                    } else {
                        partitions.withLock { $0[tp]?.truncated = false }
                    }
                default:
                    // Not the leader any more, or a newer epoch: wait for the controller's decision.
                    logger.debug("leader \(leader) answered \(error.name) for \(tp)")
                }
            }
        }
    }
}

/// A weak reference to the server, so fetchers do not keep a stopped broker alive.
struct KafkaServerRef: Sendable {
    weak var value: KafkaServer?
}

extension ReplicaManager {
    /// Appends what the leader sent and moves the follower's high watermark to the leader's, bounded
    /// by its own log end.
    func appendAsFollower(_ partition: Partition, records: ByteBuffer?, leaderHighWatermark: Int64) async throws {
        let log = partition.log
        if let records, records.readableBytes > 0 {
            let (batches, _) = try RecordBatch.split(records)
            if !batches.isEmpty {
                _ = try await io.run { try log.appendAsFollower(batches) }
            }
        }
        _ = log.updateHighWatermark(min(leaderHighWatermark, log.logEndOffset))
        arrival.notify(partition.topicPartition)
    }
}
