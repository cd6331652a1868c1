import KafkaCoordination
import KafkaModel
import KafkaStorage
import Synchronization

/// One partition replica on this broker: its log, whether it leads, and the leader's view of the
/// replicas (epoch, ISR, each follower's log end, hence the high watermark).
final class Partition: Sendable {
    struct State: Sendable {
        var leader: Int32 = -1
        var leaderEpoch: Int32 = -1
        var replicas: [Int32] = []
        var isr: [Int32] = []
        var settings = PartitionSettings()
        /// Followers' log end offsets as their fetches report them (the leader's own is the log's).
        var followerEnds: [Int32: Int64] = [:]
    }

    let topicPartition: TopicPartition
    let log: PartitionLog
    let localBroker: Int32
    private let state: Mutex<State>

    init(topicPartition: TopicPartition, log: PartitionLog, localBroker: Int32, settings: PartitionSettings) {
        self.topicPartition = topicPartition
        self.log = log
        self.localBroker = localBroker
        var initial = State()
        initial.settings = settings
        self.state = Mutex(initial)
    }

    var snapshot: State { state.withLock { $0 } }
    var isLeader: Bool { state.withLock { $0.leader == localBroker } }
    var leaderEpoch: Int32 { state.withLock { $0.leaderEpoch } }
    var settings: PartitionSettings { state.withLock { $0.settings } }

    func updateSettings(_ settings: PartitionSettings) { state.withLock { $0.settings = settings } }

    /// Applies the controller's decision. Returns false when it is older than what this replica has
    /// (a lower leader epoch), which Kafka ignores.
    func apply(_ decision: PartitionState) -> Bool {
        state.withLock { state in
            let incoming = decision.leaderAndIsr
            guard incoming.leaderEpoch >= state.leaderEpoch else { return false }
            if incoming.leaderEpoch > state.leaderEpoch || incoming.leader != state.leader { state.followerEnds = [:] }
            state.leader = incoming.leader
            state.leaderEpoch = incoming.leaderEpoch
            state.isr = incoming.isr
            state.replicas = decision.replicas
            return true
        }
    }

    /// Notes how far a follower's log reaches (the offset it fetches from).
    func updateFollowerEnd(_ replica: Int32, offset: Int64) {
        state.withLock { $0.followerEnds[replica] = max($0.followerEnds[replica] ?? 0, offset) }
    }

    /// The high watermark the leader may expose: the smallest log end among the ISR (the leader's
    /// own log end when it is alone). Moves the log's high watermark forward only. Blocks briefly
    /// (a lock in storage, no I/O).
    @discardableResult
    func maybeAdvanceHighWatermark() -> Int64 {
        let (isr, ends) = state.withLock { ($0.isr, $0.followerEnds) }
        var candidate = log.logEndOffset
        for replica in isr where replica != localBroker {
            candidate = min(candidate, ends[replica] ?? 0)
        }
        if candidate > log.highWatermark { return log.updateHighWatermark(candidate) }
        return log.highWatermark
    }
}
