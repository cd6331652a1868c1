import KafkaCoordination
import KafkaModel
import Synchronization

/// The cluster as this broker last heard it from the controller (UpdateMetadata): live brokers,
/// the controller, and each partition's leader, replicas and ISR. Answers Metadata requests and
/// tells the other handlers where partitions live.
final class MetadataCache: Sendable {
    private struct State {
        var brokers: [Int32: BrokerInfo] = [:]
        var controllerID: Int32 = -1
        var partitions: [String: [Int32: PartitionState]] = [:]
        var version = 0
    }

    private let state = Mutex(State())

    /// A partition leader during topic deletion (Kafka's `LeaderDuringDelete`).
    static let leaderDuringDelete = LeaderAndIsr.leaderDuringDelete

    func update(controllerID: Int32, liveBrokers: [BrokerInfo], partitions: [PartitionState]) {
        state.withLock { state in
            state.controllerID = controllerID
            state.brokers = Dictionary(liveBrokers.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            for partition in partitions {
                let tp = partition.partition
                if partition.leaderAndIsr.leader == Self.leaderDuringDelete {
                    state.partitions[tp.topic] = nil
                } else {
                    state.partitions[tp.topic, default: [:]][tp.partition] = partition
                }
            }
            state.version += 1
        }
    }

    /// Leaders and ISRs from a LeaderAndIsr this broker accepted: its own Metadata answers name the
    /// new leader at once instead of after the UpdateMetadata that follows. Never goes back to an
    /// older leader epoch.
    func learnLeaders(_ partitions: [PartitionState]) {
        state.withLock { state in
            for partition in partitions {
                let tp = partition.partition
                if let cached = state.partitions[tp.topic]?[tp.partition],
                    cached.leaderAndIsr.leaderEpoch > partition.leaderAndIsr.leaderEpoch
                {
                    continue
                }
                state.partitions[tp.topic, default: [:]][tp.partition] = partition
            }
        }
    }

    /// Whether the controller has sent this broker its view at least once.
    var hasHeardFromController: Bool { state.withLock { $0.version > 0 } }
    var controllerID: Int32 { state.withLock { $0.controllerID } }
    var liveBrokers: [BrokerInfo] { state.withLock { $0.brokers.values.sorted { $0.id < $1.id } } }
    func broker(_ id: Int32) -> BrokerInfo? { state.withLock { $0.brokers[id] } }
    var topics: [String] { state.withLock { $0.partitions.keys.sorted() } }
    func contains(topic: String) -> Bool { state.withLock { $0.partitions[topic] != nil } }
    func partitions(of topic: String) -> [Int32: PartitionState]? { state.withLock { $0.partitions[topic] } }
    func partition(_ tp: TopicPartition) -> PartitionState? { state.withLock { $0.partitions[tp.topic]?[tp.partition] } }

    /// Whether every partition of `topic` has a live leader (for CreateTopics to wait on).
    func hasLeaders(topic: String, partitionCount: Int? = nil) -> Bool {
        state.withLock { state in
            guard let partitions = state.partitions[topic], !partitions.isEmpty else { return false }
            if let partitionCount, partitions.count < partitionCount { return false }
            return partitions.values.allSatisfy { state.brokers[$0.leaderAndIsr.leader] != nil }
        }
    }
}
