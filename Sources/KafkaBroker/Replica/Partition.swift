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
        /// When each follower last fetched from at or above the leader's log end (Kafka's
        /// lastCaughtUpTimeMs), for ISR shrinking.
        var caughtUpAt: [Int32: ContinuousClock.Instant] = [:]
        /// The leader's log end and the time at each follower's previous fetch.
        var previousFetch: [Int32: (logEnd: Int64, at: ContinuousClock.Instant)] = [:]
        /// The state znode's version and controller epoch, for the leader's compare-and-set ISR writes.
        var zkVersion: Int32 = 0
        var controllerEpoch: Int32 = 0
        /// The log end when this broker became leader: a follower joins the ISR only past it.
        var leaderEpochStartOffset: Int64 = 0
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

    /// What a produce needs, read under one lock: whether this broker leads, the epoch, the ISR size
    /// and the topic settings (the whole `State` holds per-follower maps not worth copying per batch).
    func leaderView() -> (isLeader: Bool, leaderEpoch: Int32, isrCount: Int, settings: PartitionSettings) {
        state.withLock { ($0.leader == localBroker, $0.leaderEpoch, $0.isr.count, $0.settings) }
    }
    var isLeader: Bool { state.withLock { $0.leader == localBroker } }
    var leaderEpoch: Int32 { state.withLock { $0.leaderEpoch } }

    func updateSettings(_ settings: PartitionSettings) { state.withLock { $0.settings = settings } }

    /// Applies the controller's decision. Returns false when it is older than what this replica has
    /// (a lower leader epoch), which Kafka ignores.
    func apply(_ decision: PartitionState) -> Bool {
        state.withLock { state in
            let incoming = decision.leaderAndIsr
            guard incoming.leaderEpoch >= state.leaderEpoch else { return false }
            // Same epoch, older state znode: an ISR change this leader has already replaced.
            if incoming.leaderEpoch == state.leaderEpoch && incoming.leader == state.leader && incoming.zkVersion < state.zkVersion {
                return true
            }
            if incoming.leaderEpoch > state.leaderEpoch || incoming.leader != state.leader {
                state.followerEnds = [:]
                let now = ContinuousClock.now
                state.caughtUpAt = Dictionary(uniqueKeysWithValues: incoming.isr.map { ($0, now) })
                state.leaderEpochStartOffset = log.logEndOffset
            }
            state.zkVersion = incoming.zkVersion
            state.controllerEpoch = incoming.controllerEpoch
            state.leader = incoming.leader
            state.leaderEpoch = incoming.leaderEpoch
            Self.forgetFollowers(leaving: state.isr, for: incoming.isr, in: &state)
            state.isr = incoming.isr
            state.replicas = decision.replicas
            return true
        }
    }

    /// Stops leading without a new leader known yet (controlled shutdown): every later request is
    /// answered NOT_LEADER_OR_FOLLOWER. A LeaderAndIsr with the current epoch or newer still applies.
    func resignLeadership() {
        state.withLock { state in
            if state.leader == localBroker { state.leader = -1 }
        }
    }

    /// Notes how far a follower's log reaches (the offset it fetches from).
    func updateFollowerEnd(_ replica: Int32, offset: Int64) {
        let logEnd = log.logEndOffset
        let now = ContinuousClock.now
        state.withLock { state in
            state.followerEnds[replica] = max(state.followerEnds[replica] ?? 0, offset)
            // Caught up now if it has all, or caught up as of its previous fetch if it now has all that
            // the leader had then (so a follower of a busy partition is not shrunk for being behind
            // by one fetch).
            if offset >= logEnd {
                state.caughtUpAt[replica] = now
            } else if let previous = state.previousFetch[replica], offset >= previous.logEnd {
                state.caughtUpAt[replica] = max(state.caughtUpAt[replica] ?? previous.at, previous.at)
            }
            state.previousFetch[replica] = (logEnd, now)
        }
    }

    /// The ISR the leader should announce: followers that caught up with the high watermark (and
    /// past the start of this leader's epoch) join, followers that have not caught up for `maxLag`
    /// leave. Nil when it stays as it is.
    func proposedIsr(maxLag: Duration) -> [Int32]? {
        guard isLeader else { return nil }
        let highWatermark = log.highWatermark
        return state.withLock { state -> [Int32]? in
            guard state.leader == localBroker else { return nil }
            let now = ContinuousClock.now
            var isr = state.isr.filter { replica in
                replica == localBroker || now - (state.caughtUpAt[replica] ?? now) <= maxLag
            }
            // Only a follower that is fetching joins: its last known end alone may be old (a follower
            // that went silent while caught up would otherwise be taken back at once).
            for replica in state.replicas where !isr.contains(replica) && replica != localBroker {
                if let end = state.followerEnds[replica], end >= highWatermark, end >= state.leaderEpochStartOffset,
                    let lastFetch = state.previousFetch[replica]?.at, now - lastFetch <= maxLag / 2
                {
                    isr.append(replica)
                }
            }
            return Set(isr) == Set(state.isr) ? nil : isr
        }
    }

    /// Records an ISR the leader wrote to ZooKeeper (the znode's new version).
    func applyIsr(_ isr: [Int32], zkVersion: Int32) {
        state.withLock { state in
            Self.forgetFollowers(leaving: state.isr, for: isr, in: &state)
            state.isr = isr
            state.zkVersion = zkVersion
        }
    }

    /// A follower taken out of the ISR (by this leader or by the controller) gets back in only
    /// through a fetch made after that: what it reported before no longer counts.
    private static func forgetFollowers(leaving old: [Int32], for new: [Int32], in state: inout State) {
        for replica in old where !new.contains(replica) {
            state.followerEnds[replica] = nil
            state.previousFetch[replica] = nil
            state.caughtUpAt[replica] = nil
        }
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
