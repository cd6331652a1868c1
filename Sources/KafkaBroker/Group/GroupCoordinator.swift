import Foundation
import KafkaCoordination
import KafkaModel
import KafkaProtocol
import Logging
import NIOCore

/// Kafka's group coordinator: the leader of partition `partitionFor(group)` of `__consumer_offsets`
/// runs the group's membership protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and keeps its
/// committed offsets, writing both to that partition so the next leader resumes them.
///
/// One actor for all groups this broker coordinates: every decision about a group is serialised.
/// Requests that wait (a JoinGroup until the rebalance completes, a SyncGroup until the leader's
/// assignment) park a continuation in their member; a tick every 100 ms handles the deadlines.
actor GroupCoordinator {
    static let topic = "__consumer_offsets"

    /// Appends records to a `__consumer_offsets` partition this broker leads and waits until the
    /// ISR has them (acks=all); answers the produce error.
    typealias Append = @Sendable (TopicPartition, ByteBuffer) async -> KafkaErrorCode

    enum Ownership {
        case loading(epoch: Int32)
        case loaded(epoch: Int32)
        var epoch: Int32 {
            switch self {
            case .loading(let epoch), .loaded(let epoch): return epoch
            }
        }
    }

    let settings: GroupSettings
    let replicas: ReplicaManager
    let metadata: MetadataCache
    let append: Append
    let logger: Logger
    /// Partitions of `__consumer_offsets` this broker leads, by the leader epoch it loaded them at.
    var owned: [Int32: Ownership] = [:]
    var groups: [String: ConsumerGroup] = [:]
    /// The partition count of `__consumer_offsets` (the topic's, once it exists).
    var partitionCount: Int
    private var ticker: Task<Void, Never>?
    var lastExpiryCheck = ContinuousClock.now

    init(settings: GroupSettings, replicas: ReplicaManager, metadata: MetadataCache, append: @escaping Append, logger: Logger) {
        self.settings = settings
        self.replicas = replicas
        self.metadata = metadata
        self.append = append
        self.logger = logger
        self.partitionCount = settings.offsetsTopicPartitions
    }

    func start() {
        ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                await self?.tick()
            }
        }
    }

    func stop() {
        ticker?.cancel()
        for partition in Array(owned.keys) { unload(partition) }
    }

    static func nowMs() -> Int64 { ReplicaManager.nowMs() }

    func partition(for groupId: String) -> Int32 {
        GroupRecords.partition(for: groupId, partitions: partitionCount)
    }

    /// Why this broker cannot answer for `groupId` right now, if it cannot. A partition this broker
    /// leads (or, by the controller's metadata, is about to lead) but has not loaded yet answers
    /// COORDINATOR_LOAD_IN_PROGRESS, which clients retry, rather than sending them elsewhere.
    func coordinatorError(_ groupId: String) -> KafkaErrorCode? {
        let index = partition(for: groupId)
        switch owned[index] {
        case .loading: return .coordinatorLoadInProgress
        case .loaded: return nil
        case nil:
            let tp = TopicPartition(topic: Self.topic, partition: index)
            if replicas.partition(tp)?.isLeader == true {
                reconcile(partitionCount: nil)
                return .coordinatorLoadInProgress
            }
            return metadata.partition(tp)?.leaderAndIsr.leader == replicas.localBroker ? .coordinatorLoadInProgress : .notCoordinator
        }
    }

    // MARK: JoinGroup

    func join(_ request: JoinGroupRequest, version: Int16, clientId: String, clientHost: String) async -> JoinGroupResponse {
        func fail(_ error: KafkaErrorCode, memberId: String = request.memberId) -> JoinGroupResponse {
            JoinGroupResponse(errorCode: error.rawValue, generationId: -1, protocolName: "", leader: "", memberId: memberId)
        }
        let groupId = request.groupId
        guard !groupId.isEmpty else { return fail(.invalidGroupId) }
        if let error = coordinatorError(groupId) { return fail(error) }
        guard (settings.minSessionTimeoutMs...settings.maxSessionTimeoutMs).contains(Int(request.sessionTimeoutMs)) else {
            return fail(.invalidSessionTimeout)
        }
        let protocols = request.protocols.map { (name: $0.name, metadata: $0.metadata) }
        let rebalanceTimeout = request.rebalanceTimeoutMs > 0 ? request.rebalanceTimeoutMs : request.sessionTimeoutMs
        let isUnknown = request.memberId.isEmpty
        let group: ConsumerGroup
        if let existing = groups[groupId] {
            group = existing
        } else {
            guard isUnknown else { return fail(.unknownMemberId) }
            group = ConsumerGroup(groupId: groupId, partition: partition(for: groupId), now: Self.nowMs())
            groups[groupId] = group
        }
        guard group.state != .dead else { return fail(.coordinatorNotAvailable) }
        guard group.accepts(protocolType: request.protocolType, protocols: protocols.map(\.name)) else {
            return fail(.inconsistentGroupProtocol)
        }
        let instanceId = request.groupInstanceId

        if isUnknown {
            let memberId = "\(clientId)-\(UUID().uuidString.lowercased())"
            if let instanceId, let oldId = group.staticMembers[instanceId], let old = group.member(oldId) {
                return await rejoinStatic(
                    group, old: old, newId: memberId, protocols: protocols, sessionTimeout: request.sessionTimeoutMs,
                    rebalanceTimeout: rebalanceTimeout)
            }
            guard group.allMembers.count + group.pendingMembers.count < settings.maxSize else {
                return fail(.groupMaxSizeReached, memberId: "")
            }
            if instanceId == nil && version >= 4 {
                // KIP-394: the member learns its id first and joins with it, so a retried first join
                // does not leave a ghost member behind.
                group.pendingMembers[memberId] = .now + .milliseconds(request.sessionTimeoutMs)
                return fail(.memberIdRequired, memberId: memberId)
            }
            let member = GroupMember(
                memberId: memberId, groupInstanceId: instanceId, clientId: clientId, clientHost: clientHost,
                sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeout,
                protocolType: request.protocolType, protocols: protocols)
            return await addAndAwaitJoin(group, member, reason: "member \(memberId) joined")
        }

        let memberId = request.memberId
        if group.pendingMembers.removeValue(forKey: memberId) != nil {
            let member = GroupMember(
                memberId: memberId, groupInstanceId: instanceId, clientId: clientId, clientHost: clientHost,
                sessionTimeoutMs: request.sessionTimeoutMs, rebalanceTimeoutMs: rebalanceTimeout,
                protocolType: request.protocolType, protocols: protocols)
            return await addAndAwaitJoin(group, member, reason: "member \(memberId) joined")
        }
        if let instanceId, let current = group.staticMembers[instanceId], current != memberId { return fail(.fencedInstanceId) }
        guard let member = group.member(memberId) else { return fail(.unknownMemberId) }
        switch group.state {
        case .empty, .dead:
            return fail(.unknownMemberId)
        case .preparingRebalance:
            update(member, protocols: protocols, sessionTimeout: request.sessionTimeoutMs, rebalanceTimeout: rebalanceTimeout)
            return await awaitJoin(group, member)
        case .completingRebalance, .stable:
            if group.state == .stable && group.leaderId != memberId && member.sameProtocols(as: protocols) {
                member.touch()
                return joinResponse(group, for: member)  // nothing changed: the current generation stands
            }
            if group.state == .completingRebalance && member.sameProtocols(as: protocols) {
                return joinResponse(group, for: member)  // a retried join while the leader assigns
            }
            update(member, protocols: protocols, sessionTimeout: request.sessionTimeoutMs, rebalanceTimeout: rebalanceTimeout)
            prepareRebalance(group, reason: "member \(memberId) rejoined with new metadata or as leader")
            return await awaitJoin(group, member)
        }
    }

    private func update(_ member: GroupMember, protocols: [(name: String, metadata: [UInt8])], sessionTimeout: Int32, rebalanceTimeout: Int32) {
        member.protocols = protocols
        member.sessionTimeoutMs = sessionTimeout
        member.rebalanceTimeoutMs = rebalanceTimeout
    }

    private func addAndAwaitJoin(_ group: ConsumerGroup, _ member: GroupMember, reason: String) async -> JoinGroupResponse {
        group.add(member)
        if let until = group.initialDelayUntil, group.state == .preparingRebalance {
            // Members still arriving during a new group's first rebalance push it back, within its timeout.
            let extended = ContinuousClock.now + .milliseconds(settings.initialRebalanceDelayMs)
            group.initialDelayUntil = min(max(until, extended), group.rebalanceDeadline ?? extended)
        }
        if group.state != .preparingRebalance { prepareRebalance(group, reason: reason) }
        return await awaitJoin(group, member)
    }

    private func awaitJoin(_ group: ConsumerGroup, _ member: GroupMember) async -> JoinGroupResponse {
        member.joinWaiter?.resume(returning: JoinGroupResponse(
            errorCode: KafkaErrorCode.unknownMemberId.rawValue, protocolName: "", memberId: member.memberId))
        return await withCheckedContinuation { continuation in
            member.joinWaiter = continuation
            maybeCompleteJoin(group)
        }
    }

    /// A static member (group.instance.id) restarted and joined without its member id: it takes its
    /// old place under a new id. In a stable group with unchanged metadata that is all: no rebalance.
    private func rejoinStatic(
        _ group: ConsumerGroup, old: GroupMember, newId: String, protocols: [(name: String, metadata: [UInt8])],
        sessionTimeout: Int32, rebalanceTimeout: Int32
    ) async -> JoinGroupResponse {
        let fenced = JoinGroupResponse(errorCode: KafkaErrorCode.fencedInstanceId.rawValue, protocolName: "", memberId: old.memberId)
        old.joinWaiter?.resume(returning: fenced)
        old.joinWaiter = nil
        old.syncWaiter?.resume(returning: SyncOutcome(error: .fencedInstanceId))
        old.syncWaiter = nil
        let unchanged = old.sameProtocols(as: protocols)
        let oldId = old.memberId
        old.memberId = newId
        update(old, protocols: protocols, sessionTimeout: sessionTimeout, rebalanceTimeout: rebalanceTimeout)
        group.replace(oldId, with: old)
        old.touch()
        logger.info("static member \(old.groupInstanceId ?? "") of group \(group.groupId) rejoined as \(newId) (was \(oldId))")
        if group.state == .stable && unchanged {
            let error = await store(group)
            guard error == .none else { return JoinGroupResponse(errorCode: error.rawValue, protocolName: "", memberId: newId) }
            return joinResponse(group, for: old)
        }
        if group.state != .preparingRebalance { prepareRebalance(group, reason: "static member \(newId) rejoined with new metadata") }
        return await awaitJoin(group, old)
    }

    /// The JoinGroup answer of the current generation; the leader also gets every member's metadata.
    func joinResponse(_ group: ConsumerGroup, for member: GroupMember) -> JoinGroupResponse {
        let isLeader = group.leaderId == member.memberId
        return JoinGroupResponse(
            errorCode: 0, generationId: group.generation, protocolType: group.protocolType,
            protocolName: group.protocolName ?? "", leader: group.leaderId ?? "", memberId: member.memberId,
            members: isLeader
                ? group.allMembers.map {
                    JoinGroupResponse.JoinGroupResponseMember(
                        memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, metadata: $0.metadata(for: group.protocolName))
                } : [])
    }

    // MARK: Rebalance

    func prepareRebalance(_ group: ConsumerGroup, reason: String) {
        if group.state == .completingRebalance {
            for member in group.allMembers {
                member.assignment = []
                member.syncWaiter?.resume(returning: SyncOutcome(error: .rebalanceInProgress))
                member.syncWaiter = nil
            }
        }
        let wasEmpty = group.state == .empty
        let timeout = group.allMembers.map(\.rebalanceTimeoutMs).max() ?? 0
        let now = ContinuousClock.now
        group.rebalanceDeadline = now + .milliseconds(timeout)
        group.initialDelayUntil = wasEmpty && settings.initialRebalanceDelayMs > 0
            ? min(now + .milliseconds(settings.initialRebalanceDelayMs), now + .milliseconds(timeout)) : nil
        logger.info("preparing to rebalance group \(group.groupId) (generation \(group.generation)): \(reason)")
        group.transition(to: .preparingRebalance, now: Self.nowMs())
    }

    /// Completes the join phase once every member has rejoined (after a new group's initial delay),
    /// or at the rebalance deadline without the ones that did not.
    func maybeCompleteJoin(_ group: ConsumerGroup, now: ContinuousClock.Instant = .now) {
        guard group.state == .preparingRebalance else { return }
        if let until = group.initialDelayUntil, now < until { return }
        let overdue = group.rebalanceDeadline.map { now >= $0 } ?? true
        guard group.allMembersJoined || overdue else { return }
        for member in group.allMembers where member.joinWaiter == nil {
            logger.info("member \(member.memberId) of group \(group.groupId) did not rejoin in time; removing it")
            group.remove(member.memberId)
        }
        group.pendingMembers.removeAll()
        group.initialDelayUntil = nil
        group.rebalanceDeadline = nil
        group.generation += 1
        if group.isEmpty {
            group.protocolName = nil
            group.transition(to: .empty, now: Self.nowMs())
            Task { _ = await self.store(group) }
            logger.info("group \(group.groupId) is empty at generation \(group.generation)")
            return
        }
        group.protocolName = group.selectProtocol()
        group.transition(to: .completingRebalance, now: Self.nowMs())
        logger.info("group \(group.groupId) generation \(group.generation): \(group.allMembers.count) members, protocol \(group.protocolName ?? "-"), leader \(group.leaderId ?? "-")")
        for member in group.allMembers {
            let answer = joinResponse(group, for: member)
            member.joinWaiter?.resume(returning: answer)
            member.joinWaiter = nil
            member.touch(now: now)
        }
    }

    // MARK: SyncGroup

    func sync(_ request: SyncGroupRequest) async -> SyncGroupResponse {
        func answer(_ outcome: SyncOutcome) -> SyncGroupResponse {
            SyncGroupResponse(errorCode: outcome.error.rawValue, assignment: outcome.assignment)
        }
        if let error = coordinatorError(request.groupId) { return answer(SyncOutcome(error: error)) }
        guard let group = groups[request.groupId] else { return answer(SyncOutcome(error: .unknownMemberId)) }
        if let error = memberError(group, memberId: request.memberId, instanceId: request.groupInstanceId, generation: request.generationId) {
            return answer(SyncOutcome(error: error))
        }
        let member = group.member(request.memberId)!
        switch group.state {
        case .empty, .dead:
            return answer(SyncOutcome(error: .unknownMemberId))
        case .preparingRebalance:
            return answer(SyncOutcome(error: .rebalanceInProgress))
        case .stable:
            member.touch()
            return answer(SyncOutcome(error: .none, assignment: member.assignment))
        case .completingRebalance:
            let outcome = await withCheckedContinuation { continuation in
                member.syncWaiter?.resume(returning: SyncOutcome(error: .rebalanceInProgress))
                member.syncWaiter = continuation
                if group.leaderId == member.memberId {
                    let assignments = Dictionary(request.assignments.map { ($0.memberId, $0.assignment) }, uniquingKeysWith: { a, _ in a })
                    Task { await self.completeSync(group, generation: group.generation, assignments: assignments) }
                }
            }
            member.touch()
            return answer(outcome)
        }
    }

    /// The leader's assignment: stored with the generation, then handed to every waiting member.
    private func completeSync(_ group: ConsumerGroup, generation: Int32, assignments: [String: [UInt8]]) async {
        guard group.state == .completingRebalance, group.generation == generation else { return }
        for member in group.allMembers { member.assignment = assignments[member.memberId] ?? [] }
        let error = await store(group)
        guard group.state == .completingRebalance, group.generation == generation else { return }
        guard error == .none else {
            logger.warning("storing generation \(generation) of group \(group.groupId) failed (\(error)); rebalancing again")
            for member in group.allMembers {
                member.assignment = []
                member.syncWaiter?.resume(returning: SyncOutcome(error: error))
                member.syncWaiter = nil
            }
            prepareRebalance(group, reason: "storing the assignment failed")
            return
        }
        group.transition(to: .stable, now: Self.nowMs())
        logger.info("group \(group.groupId) is stable at generation \(generation)")
        for member in group.allMembers {
            member.syncWaiter?.resume(returning: SyncOutcome(error: .none, assignment: member.assignment))
            member.syncWaiter = nil
            member.touch()
        }
    }

    /// The checks every member request shares: static fencing, membership, generation.
    func memberError(_ group: ConsumerGroup, memberId: String, instanceId: String?, generation: Int32) -> KafkaErrorCode? {
        if group.state == .dead { return .coordinatorNotAvailable }
        if let instanceId, let current = group.staticMembers[instanceId], current != memberId { return .fencedInstanceId }
        guard group.member(memberId) != nil else { return .unknownMemberId }
        if generation != group.generation { return .illegalGeneration }
        return nil
    }

    // MARK: Heartbeat and LeaveGroup

    func heartbeat(_ request: HeartbeatRequest) -> KafkaErrorCode {
        if let error = coordinatorError(request.groupId) { return error }
        guard let group = groups[request.groupId] else { return .unknownMemberId }
        if group.state == .empty { return .unknownMemberId }
        if let error = memberError(group, memberId: request.memberId, instanceId: request.groupInstanceId, generation: request.generationId) {
            return error
        }
        group.member(request.memberId)?.touch()
        return group.state == .preparingRebalance ? .rebalanceInProgress : .none
    }

    /// LeaveGroup: v0-2 name one member, v3+ a batch (by member id, or by instance id alone).
    func leave(_ request: LeaveGroupRequest, version: Int16) -> LeaveGroupResponse {
        if let error = coordinatorError(request.groupId) { return LeaveGroupResponse(errorCode: error.rawValue) }
        let identities = version >= 3
            ? request.members : [LeaveGroupRequest.MemberIdentity(memberId: request.memberId, groupInstanceId: nil)]
        guard let group = groups[request.groupId] else {
            return version >= 3
                ? LeaveGroupResponse(members: identities.map {
                    LeaveGroupResponse.MemberResponse(
                        memberId: $0.memberId, groupInstanceId: $0.groupInstanceId, errorCode: KafkaErrorCode.unknownMemberId.rawValue)
                })
                : LeaveGroupResponse(errorCode: KafkaErrorCode.unknownMemberId.rawValue)
        }
        var results: [LeaveGroupResponse.MemberResponse] = []
        for identity in identities {
            var memberId = identity.memberId
            if let instance = identity.groupInstanceId {
                guard let current = group.staticMembers[instance], memberId.isEmpty || memberId == current else {
                    results.append(.init(memberId: memberId, groupInstanceId: instance, errorCode: KafkaErrorCode.unknownMemberId.rawValue))
                    continue
                }
                memberId = current
            }
            if group.pendingMembers.removeValue(forKey: memberId) != nil {
                results.append(.init(memberId: memberId, groupInstanceId: identity.groupInstanceId, errorCode: 0))
                maybeCompleteJoin(group)
                continue
            }
            guard group.member(memberId) != nil else {
                results.append(.init(memberId: memberId, groupInstanceId: identity.groupInstanceId, errorCode: KafkaErrorCode.unknownMemberId.rawValue))
                continue
            }
            removeMember(group, memberId, reason: "member \(memberId) left")
            results.append(.init(memberId: memberId, groupInstanceId: identity.groupInstanceId, errorCode: 0))
        }
        if version >= 3 { return LeaveGroupResponse(members: results) }
        return LeaveGroupResponse(errorCode: results.first?.errorCode ?? 0)
    }

    /// Takes a member out (it left, or its session ran out) and rebalances the rest.
    func removeMember(_ group: ConsumerGroup, _ memberId: String, reason: String) {
        guard let member = group.member(memberId) else { return }
        member.joinWaiter?.resume(returning: JoinGroupResponse(
            errorCode: KafkaErrorCode.unknownMemberId.rawValue, protocolName: "", memberId: memberId))
        member.joinWaiter = nil
        member.syncWaiter?.resume(returning: SyncOutcome(error: .unknownMemberId))
        member.syncWaiter = nil
        group.remove(memberId)
        switch group.state {
        case .stable, .completingRebalance: prepareRebalance(group, reason: reason)
        case .preparingRebalance: maybeCompleteJoin(group)
        case .empty, .dead: break
        }
    }

    // MARK: Deadlines

    func tick() async {
        let now = ContinuousClock.now
        for group in Array(groups.values) {
            for (id, expiry) in group.pendingMembers where now >= expiry {
                group.pendingMembers[id] = nil
            }
            for member in group.allMembers where !member.isWaiting && now >= member.heartbeatDeadline {
                logger.info("member \(member.memberId) of group \(group.groupId) sent no heartbeat within \(member.sessionTimeoutMs) ms; removing it")
                removeMember(group, member.memberId, reason: "member \(member.memberId) session expired")
            }
            maybeCompleteJoin(group, now: now)
        }
        if now - lastExpiryCheck >= .milliseconds(settings.offsetsRetentionCheckIntervalMs) {
            lastExpiryCheck = now
            await expireOffsets()
        }
    }

    // MARK: Describing

    func listGroups() -> (KafkaErrorCode, [ListGroupsResponse.ListedGroup]) {
        let loading = owned.values.contains { if case .loading = $0 { return true } else { return false } }
        let listed = groups.values.filter { $0.state != .dead }.sorted { $0.groupId < $1.groupId }.map {
            ListGroupsResponse.ListedGroup(groupId: $0.groupId, protocolType: $0.protocolType ?? "", groupState: $0.state.rawValue)
        }
        return (loading ? .coordinatorLoadInProgress : .none, listed)
    }

    func describe(_ groupId: String) -> DescribeGroupsResponse.DescribedGroup {
        if let error = coordinatorError(groupId) {
            return DescribeGroupsResponse.DescribedGroup(errorCode: error.rawValue, groupId: groupId, groupState: "")
        }
        guard let group = groups[groupId] else {
            return DescribeGroupsResponse.DescribedGroup(groupId: groupId, groupState: GroupState.dead.rawValue)
        }
        // As Kafka: metadata and assignments only once the group is stable.
        let stable = group.state == .stable
        return DescribeGroupsResponse.DescribedGroup(
            groupId: groupId, groupState: group.state.rawValue, protocolType: group.protocolType ?? "",
            protocolData: stable ? group.protocolName ?? "" : "",
            members: group.allMembers.map { member in
                DescribeGroupsResponse.DescribedGroupMember(
                    memberId: member.memberId, groupInstanceId: member.groupInstanceId, clientId: member.clientId,
                    clientHost: member.clientHost, memberMetadata: stable ? member.metadata(for: group.protocolName) : [],
                    memberAssignment: stable ? member.assignment : [])
            })
    }
}
