import KafkaModel
import KafkaProtocol
import KafkaRecords
import Logging
import NIOCore

extension GroupCoordinator {
    // MARK: OffsetCommit

    /// Commits offsets for a member of the current generation, or for a group without members (a
    /// consumer that assigns partitions itself: generation -1, no member id). Answers once the
    /// commit is in every ISR member of the group's partition.
    func commit(_ request: OffsetCommitRequest, version: Int16) async -> [TopicPartition: KafkaErrorCode] {
        let requested = request.topics.flatMap { topic in
            topic.partitions.map { (TopicPartition(topic: topic.name, partition: $0.partitionIndex), $0) }
        }
        func all(_ error: KafkaErrorCode) -> [TopicPartition: KafkaErrorCode] {
            Dictionary(requested.map { ($0.0, error) }, uniquingKeysWith: { a, _ in a })
        }
        let groupId = request.groupId
        guard !groupId.isEmpty else { return all(.invalidGroupId) }
        if let error = coordinatorError(groupId) { return all(error) }
        let group: ConsumerGroup
        if let existing = groups[groupId] {
            group = existing
        } else {
            guard request.generationIdOrMemberEpoch < 0 else { return all(.illegalGeneration) }
            group = ConsumerGroup(groupId: groupId, partition: partition(for: groupId), now: Self.nowMs())
            groups[groupId] = group
        }
        if group.state == .dead { return all(.coordinatorNotAvailable) }
        let standalone = request.generationIdOrMemberEpoch < 0 && request.memberId.isEmpty && request.groupInstanceId == nil
        if !(standalone && group.state == .empty) {
            if let error = memberError(
                group, memberId: request.memberId, instanceId: request.groupInstanceId, generation: request.generationIdOrMemberEpoch)
            {
                return all(error)
            }
            if group.state == .completingRebalance { return all(.rebalanceInProgress) }
            group.member(request.memberId)?.touch()
        }

        let now = Self.nowMs()
        var results: [TopicPartition: KafkaErrorCode] = [:]
        var accepted: [(TopicPartition, CommittedOffset)] = []
        for (tp, partition) in requested {
            if let metadata = partition.committedMetadata, metadata.utf8.count > settings.offsetMetadataMaxBytes {
                results[tp] = .offsetMetadataTooLarge
                continue
            }
            // v2-4 may ask for a retention of their own (expireTimestamp); v1 carries a commit time.
            let timestamp = version == 1 && partition.commitTimestamp >= 0 ? partition.commitTimestamp : now
            let retention = (2...4).contains(version) && request.retentionTimeMs >= 0 ? request.retentionTimeMs : nil
            accepted.append((tp, CommittedOffset(
                offset: partition.committedOffset, leaderEpoch: version >= 6 ? partition.committedLeaderEpoch : -1,
                metadata: partition.committedMetadata ?? "", commitTimestamp: timestamp,
                expireTimestamp: retention.map { timestamp + $0 })))
        }
        guard !accepted.isEmpty else { return results }
        let error = await write(group.partition, accepted.map { (OffsetsTopicKey.offset(group: groupId, $0.0), GroupRecords.value($0.1)) })
        let answer = Self.commitError(error)
        if answer == .none {
            for (tp, offset) in accepted { group.offsets[tp] = offset }
        }
        for (tp, _) in accepted { results[tp] = answer }
        return results
    }

    /// How Kafka reports a failed write of __consumer_offsets to the committer.
    static func commitError(_ error: KafkaErrorCode) -> KafkaErrorCode {
        switch error {
        case .none: return .none
        case .unknownTopicOrPartition, .notEnoughReplicas, .notEnoughReplicasAfterAppend, .requestTimedOut:
            return .coordinatorNotAvailable
        case .notLeaderOrFollower, .kafkaStorageError: return .notCoordinator
        case .messageTooLarge, .recordListTooLarge, .invalidFetchSize: return .invalidCommitOffsetSize
        default: return error
        }
    }

    // MARK: OffsetFetch

    /// The committed offsets of `groupId` for `partitions` (nil: all it has). A partition without a
    /// commit answers offset -1, as does an unknown group.
    func fetchOffsets(_ groupId: String, _ partitions: [TopicPartition]?) -> (KafkaErrorCode, [(TopicPartition, CommittedOffset?)]) {
        if let error = coordinatorError(groupId) { return (error, []) }
        let offsets = groups[groupId]?.offsets ?? [:]
        let wanted = partitions ?? offsets.keys.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        return (.none, wanted.map { ($0, offsets[$0]) })
    }

    // MARK: DeleteGroups and OffsetDelete

    func deleteGroup(_ groupId: String) async -> KafkaErrorCode {
        if let error = coordinatorError(groupId) { return error }
        guard let group = groups[groupId], group.state != .dead else { return .groupIdNotFound }
        guard group.state == .empty else { return .nonEmptyGroup }
        let tombstones = [OffsetsTopicKey.group(groupId)] + group.offsets.keys.map { OffsetsTopicKey.offset(group: groupId, $0) }
        let error = await write(group.partition, tombstones.map { ($0, nil) })
        guard error == .none else { return Self.commitError(error) }
        group.transition(to: .dead, now: Self.nowMs())
        groups[groupId] = nil
        logger.info("deleted group \(groupId)")
        return .none
    }

    /// Deletes committed offsets of topics the group's members do not subscribe to.
    func deleteOffsets(_ groupId: String, _ partitions: [TopicPartition]) async -> (KafkaErrorCode, [TopicPartition: KafkaErrorCode]) {
        if let error = coordinatorError(groupId) { return (error, [:]) }
        guard let group = groups[groupId], group.state != .dead else { return (.groupIdNotFound, [:]) }
        let subscribed: Set<String>
        if group.isEmpty {
            subscribed = []
        } else if let topics = group.subscribedTopics {
            subscribed = topics
        } else {
            return (.nonEmptyGroup, [:])
        }
        var results: [TopicPartition: KafkaErrorCode] = [:]
        var deleted: [TopicPartition] = []
        for tp in partitions {
            if subscribed.contains(tp.topic) {
                results[tp] = .groupSubscribedToTopic
            } else {
                results[tp] = KafkaErrorCode.none
                if group.offsets[tp] != nil { deleted.append(tp) }
            }
        }
        if !deleted.isEmpty {
            let error = await write(group.partition, deleted.map { (OffsetsTopicKey.offset(group: groupId, $0), nil) })
            guard error == .none else { return (Self.commitError(error), [:]) }
            for tp in deleted { group.offsets[tp] = nil }
        }
        return (.none, results)
    }

    // MARK: Expiry (offsets.retention.minutes)

    /// Drops the offsets of groups without members once they are older than the retention: counted
    /// from when the group became empty, or from the commit for groups that never had members; an
    /// empty group left without offsets is removed.
    func expireOffsets() async {
        let now = Self.nowMs()
        for group in Array(groups.values) where group.state == .empty && owned[group.partition] != nil {
            let expired = group.offsets.filter { _, offset in
                if let expire = offset.expireTimestamp { return now >= expire }
                let since = group.protocolType == nil ? offset.commitTimestamp : max(group.stateTimestamp, offset.commitTimestamp)
                return now - since >= settings.offsetsRetentionMs
            }.map(\.key)
            var tombstones = expired.map { OffsetsTopicKey.offset(group: group.groupId, $0) }
            let removeGroup = group.offsets.count == expired.count
            if removeGroup { tombstones.append(.group(group.groupId)) }
            guard !tombstones.isEmpty else { continue }
            guard await write(group.partition, tombstones.map { ($0, nil) }) == .none else { continue }
            for tp in expired { group.offsets[tp] = nil }
            logger.info("expired \(expired.count) committed offsets of group \(group.groupId)")
            if removeGroup && group.state == .empty && group.offsets.isEmpty {
                group.transition(to: .dead, now: now)
                groups[group.groupId] = nil
            }
        }
    }

    // MARK: Writing __consumer_offsets

    /// Stores a group's generation and members (or, for an empty group, that it is empty).
    func store(_ group: ConsumerGroup) async -> KafkaErrorCode {
        Self.commitError(await write(group.partition, [(.group(group.groupId), GroupRecords.value(group.stored))]))
    }

    /// Appends one batch of (key, value) records (nil: a tombstone) to the group's partition.
    func write(_ partition: Int32, _ records: [(OffsetsTopicKey, [UInt8]?)]) async -> KafkaErrorCode {
        guard case .loaded = owned[partition] else { return .notLeaderOrFollower }
        var builder = RecordBatchBuilder()
        let now = Self.nowMs()
        for (key, value) in records { builder.append(key: GroupRecords.key(key), value: value, timestamp: now) }
        let batch: RecordBatch
        do {
            batch = try builder.build()
        } catch {
            return .unknownServerError
        }
        return await append(TopicPartition(topic: Self.topic, partition: partition), batch.buffer)
    }
}
