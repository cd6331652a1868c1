import KafkaModel
import KafkaProtocol

/// Kafka's group states, named as DescribeGroups and ListGroups report them.
enum GroupState: String, Sendable {
    case empty = "Empty"
    case preparingRebalance = "PreparingRebalance"
    case completingRebalance = "CompletingRebalance"
    case stable = "Stable"
    case dead = "Dead"
}

/// What a SyncGroup waiting for the leader's assignment gets.
struct SyncOutcome: Sendable {
    var error: KafkaErrorCode
    var assignment: [UInt8] = []
}

/// One member of a group. Lives inside the coordinator actor only.
final class GroupMember {
    var memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocolType: String
    var protocols: [(name: String, metadata: [UInt8])]
    var assignment: [UInt8] = []
    /// Set while its JoinGroup waits for the rebalance to complete.
    var joinWaiter: CheckedContinuation<JoinGroupResponse, Never>?
    /// Set while its SyncGroup waits for the leader's assignment.
    var syncWaiter: CheckedContinuation<SyncOutcome, Never>?
    var heartbeatDeadline: ContinuousClock.Instant

    init(
        memberId: String, groupInstanceId: String?, clientId: String, clientHost: String, sessionTimeoutMs: Int32,
        rebalanceTimeoutMs: Int32, protocolType: String, protocols: [(name: String, metadata: [UInt8])]
    ) {
        self.memberId = memberId
        self.groupInstanceId = groupInstanceId
        self.clientId = clientId
        self.clientHost = clientHost
        self.sessionTimeoutMs = sessionTimeoutMs
        self.rebalanceTimeoutMs = rebalanceTimeoutMs
        self.protocolType = protocolType
        self.protocols = protocols
        self.heartbeatDeadline = .now + .milliseconds(sessionTimeoutMs)
    }

    func metadata(for protocolName: String?) -> [UInt8] {
        protocols.first { $0.name == protocolName }?.metadata ?? []
    }

    func sameProtocols(as other: [(name: String, metadata: [UInt8])]) -> Bool {
        protocols.count == other.count && zip(protocols, other).allSatisfy { $0.name == $1.name && $0.metadata == $1.metadata }
    }

    /// A member waiting in JoinGroup or SyncGroup cannot heartbeat; the rebalance's own deadline covers it.
    var isWaiting: Bool { joinWaiter != nil || syncWaiter != nil }

    func touch(now: ContinuousClock.Instant = .now) {
        heartbeatDeadline = now + .milliseconds(sessionTimeoutMs)
    }
}

/// A consumer group: its members and generation while it has members, its committed offsets always.
final class ConsumerGroup {
    let groupId: String
    /// The `__consumer_offsets` partition that stores it.
    let partition: Int32
    var state: GroupState = .empty
    /// Wall-clock time of the last state change (GroupMetadataValue.currentStateTimestamp).
    var stateTimestamp: Int64
    var protocolType: String?
    var protocolName: String?
    var generation: Int32 = 0
    var leaderId: String?
    /// Members in join order: the first one becomes leader when the leader is gone.
    private(set) var memberOrder: [String] = []
    private(set) var members: [String: GroupMember] = [:]
    /// Member ids handed out with MEMBER_ID_REQUIRED, until they join or their session runs out.
    var pendingMembers: [String: ContinuousClock.Instant] = [:]
    /// group.instance.id → member id of the static members.
    var staticMembers: [String: String] = [:]
    var offsets: [TopicPartition: CommittedOffset] = [:]
    /// While preparing a rebalance: when it completes even if not every member rejoined.
    var rebalanceDeadline: ContinuousClock.Instant?
    /// A new group's first rebalance waits this long for more members (group.initial.rebalance.delay.ms).
    var initialDelayUntil: ContinuousClock.Instant?

    init(groupId: String, partition: Int32, now: Int64) {
        self.groupId = groupId
        self.partition = partition
        self.stateTimestamp = now
    }

    var isEmpty: Bool { members.isEmpty }
    var allMembers: [GroupMember] { memberOrder.compactMap { members[$0] } }
    func member(_ id: String) -> GroupMember? { members[id] }

    func add(_ member: GroupMember) {
        if members[member.memberId] == nil { memberOrder.append(member.memberId) }
        members[member.memberId] = member
        if let instance = member.groupInstanceId { staticMembers[instance] = member.memberId }
        if leaderId == nil { leaderId = member.memberId }
        if protocolType == nil || members.count == 1 { protocolType = member.protocolType }
    }

    func remove(_ memberId: String) {
        guard let member = members.removeValue(forKey: memberId) else { return }
        memberOrder.removeAll { $0 == memberId }
        if let instance = member.groupInstanceId, staticMembers[instance] == memberId { staticMembers[instance] = nil }
        if leaderId == memberId { leaderId = memberOrder.first }
    }

    /// A static member that rejoined with a new member id takes the old one's place.
    func replace(_ oldId: String, with member: GroupMember) {
        guard let index = memberOrder.firstIndex(of: oldId) else { return add(member) }
        members[oldId] = nil
        memberOrder[index] = member.memberId
        members[member.memberId] = member
        if let instance = member.groupInstanceId { staticMembers[instance] = member.memberId }
        if leaderId == oldId { leaderId = member.memberId }
    }

    func transition(to state: GroupState, now: Int64) {
        self.state = state
        stateTimestamp = now
    }

    /// Protocols every member supports.
    var candidateProtocols: [String] {
        guard let first = allMembers.first else { return [] }
        return first.protocols.map(\.name).filter { name in allMembers.allSatisfy { $0.protocols.contains { $0.name == name } } }
    }

    /// Whether a member with these protocols may join (Kafka's `supportsProtocols`).
    func accepts(protocolType: String, protocols: [String]) -> Bool {
        if isEmpty { return !protocolType.isEmpty && !protocols.isEmpty }
        return protocolType == self.protocolType && candidateProtocols.contains { protocols.contains($0) }
    }

    /// Each member votes for its most preferred candidate; the most votes wins (ties: the first
    /// member's preference order).
    func selectProtocol() -> String? {
        let candidates = candidateProtocols
        var votes: [String: Int] = [:]
        for member in allMembers {
            if let choice = member.protocols.first(where: { candidates.contains($0.name) })?.name { votes[choice, default: 0] += 1 }
        }
        return candidates.max { (votes[$0] ?? 0) < (votes[$1] ?? 0) }
    }

    var allMembersJoined: Bool { pendingMembers.isEmpty && members.values.allSatisfy { $0.joinWaiter != nil } }

    /// The topics its consumer-protocol members subscribe to (for OffsetDelete).
    var subscribedTopics: Set<String>? {
        guard protocolType == "consumer" else { return nil }
        var topics = Set<String>()
        for member in allMembers {
            guard let subscribed = GroupRecords.subscribedTopics(member.metadata(for: protocolName)) else { return nil }
            topics.formUnion(subscribed)
        }
        return topics
    }

    var stored: StoredGroup {
        StoredGroup(
            protocolType: protocolType ?? "", generation: generation, protocolName: protocolName, leader: leaderId,
            currentStateTimestamp: stateTimestamp,
            members: allMembers.map { member in
                StoredGroup.Member(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, rebalanceTimeoutMs: member.rebalanceTimeoutMs,
                    sessionTimeoutMs: member.sessionTimeoutMs, subscription: member.metadata(for: protocolName),
                    assignment: member.assignment)
            })
    }
}
