import KafkaModel
import KafkaProtocol
import KafkaRecords
import KafkaStorage
import Logging
import NIOCore

extension GroupCoordinator {
    /// Follows this broker's leadership of `__consumer_offsets`: loads the groups of every partition
    /// it now leads (at a new leader epoch: another leader may have written meanwhile) and drops the
    /// groups of those it no longer leads. Called after every controller request and periodically.
    func reconcile(partitionCount topicPartitions: Int?) {
        if let topicPartitions, topicPartitions > 0 { partitionCount = topicPartitions }
        for index in 0..<Int32(partitionCount) {
            let tp = TopicPartition(topic: Self.topic, partition: index)
            let local = replicas.partition(tp)
            let leading = local?.isLeader == true
            if leading, let local {
                let epoch = local.leaderEpoch
                if owned[index]?.epoch == epoch { continue }
                if owned[index] != nil { unload(index) }
                owned[index] = .loading(epoch: epoch)
                let log = local.log
                Task { await self.load(index, epoch: epoch, log: log) }
            } else if owned[index] != nil {
                unload(index)
            }
        }
    }

    /// Drops the groups of a partition this broker stopped leading; waiting requests learn that
    /// their coordinator moved.
    func unload(_ partition: Int32) {
        owned[partition] = nil
        for group in groups.values where group.partition == partition {
            for member in group.allMembers {
                member.joinWaiter?.resume(returning: .init(errorCode: KafkaErrorCode.notCoordinator.rawValue, protocolName: "", memberId: member.memberId))
                member.joinWaiter = nil
                member.syncWaiter?.resume(returning: SyncOutcome(error: .notCoordinator))
                member.syncWaiter = nil
            }
            groups[group.groupId] = nil
        }
        logger.info("no longer coordinator for \(Self.topic)-\(partition)")
    }

    /// Reads the partition from its start to its end and rebuilds its groups and offsets; until it
    /// is done the groups' requests answer COORDINATOR_LOAD_IN_PROGRESS.
    func load(_ partition: Int32, epoch: Int32, log: PartitionLog) async {
        let started = ContinuousClock.now
        let state: LoadedState
        do {
            state = try await replicas.io.run { try Self.readGroups(log) }
        } catch {
            logger.error("cannot load \(Self.topic)-\(partition): \(error)")
            if case .loading(let current) = owned[partition], current == epoch { owned[partition] = nil }
            return
        }
        guard case .loading(let current) = owned[partition], current == epoch else { return }
        let now = Self.nowMs()
        for groupId in Set(state.offsets.keys).union(state.groups.keys) {
            let group = ConsumerGroup(groupId: groupId, partition: partition, now: now)
            group.offsets = state.offsets[groupId] ?? [:]
            if let stored = state.groups[groupId] {
                group.protocolType = stored.protocolType.isEmpty ? nil : stored.protocolType
                group.generation = stored.generation
                group.protocolName = stored.protocolName
                group.stateTimestamp = stored.currentStateTimestamp >= 0 ? stored.currentStateTimestamp : now
                for saved in stored.members {
                    let member = GroupMember(
                        memberId: saved.memberId, groupInstanceId: saved.groupInstanceId, clientId: saved.clientId,
                        clientHost: saved.clientHost, sessionTimeoutMs: saved.sessionTimeoutMs,
                        rebalanceTimeoutMs: saved.rebalanceTimeoutMs, protocolType: stored.protocolType,
                        protocols: [(name: stored.protocolName ?? "", metadata: saved.subscription)])
                    member.assignment = saved.assignment
                    group.add(member)
                }
                group.leaderId = stored.leader.flatMap { group.member($0) != nil ? $0 : nil } ?? group.allMembers.first?.memberId
                // Members get a full session from now to find their new coordinator.
                group.state = group.isEmpty ? .empty : .stable
            }
            groups[groupId] = group
        }
        owned[partition] = .loaded(epoch: epoch)
        let took = ContinuousClock.now - started
        logger.info("loaded \(state.groups.count) groups and \(state.offsets.values.map(\.count).reduce(0, +)) offsets from \(Self.topic)-\(partition) at epoch \(epoch) in \(took)")
    }

    struct LoadedState: Sendable {
        var offsets: [String: [TopicPartition: CommittedOffset]] = [:]
        var groups: [String: StoredGroup] = [:]
    }

    /// Replays a `__consumer_offsets` partition: the last record for each key wins, a tombstone
    /// removes. Records it cannot read are skipped (and counted), never fatal.
    static func readGroups(_ log: PartitionLog) throws -> LoadedState {
        var state = LoadedState()
        var offset = log.logStartOffset
        let end = log.logEndOffset
        while offset < end {
            let bytes = try log.readBatches(from: offset, maxBytes: 1 << 20, maxOffset: end)
            let (batches, _) = try RecordBatch.split(bytes)
            guard let last = batches.last else { break }
            for batch in batches where !batch.header.isControl {
                for record in try batch.records() {
                    guard let keyBytes = record.key, let key = try? GroupRecords.decodeKey(keyBytes) else { continue }
                    switch key {
                    case .offset(let group, let tp):
                        if let value = record.value, let committed = try? GroupRecords.decodeOffset(value) {
                            state.offsets[group, default: [:]][tp] = committed
                        } else {
                            state.offsets[group]?[tp] = nil
                            if state.offsets[group]?.isEmpty == true { state.offsets[group] = nil }
                        }
                    case .group(let group):
                        if let value = record.value, let stored = try? GroupRecords.decodeGroup(value) {
                            state.groups[group] = stored
                        } else {
                            state.groups[group] = nil  // its offsets have tombstones of their own
                        }
                    }
                }
            }
            offset = last.header.nextOffset
        }
        return state
    }
}
