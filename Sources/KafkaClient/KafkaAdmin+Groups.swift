import KafkaModel
import KafkaProtocol

/// The consumer-group calls of Kafka's `Admin` client: FindCoordinator at any broker, ListGroups at
/// every broker, and DescribeGroups, OffsetFetch, OffsetCommit and DeleteGroups at the group's
/// coordinator. A coordinator that is still loading, has moved or is not there yet is asked again until
/// `timeout` has passed, as Kafka's admin client retries those errors.
extension KafkaAdmin {
    /// Where a group lives.
    public struct GroupCoordinator: Sendable, Equatable {
        public var id: Int32
        public var address: BrokerAddress

        public init(id: Int32, address: BrokerAddress) {
            self.id = id
            self.address = address
        }
    }

    /// Errors that mean "ask again shortly": the coordinator is loading, moving or not yet elected.
    public static func isRetriableGroupError(_ code: KafkaErrorCode) -> Bool {
        code == .coordinatorLoadInProgress || code == .coordinatorNotAvailable || code == .notCoordinator
    }

    /// FindCoordinator for `group` (key type 0).
    public func findCoordinator(group: String, timeout: Duration = .seconds(5)) async throws -> GroupCoordinator {
        try await retryingGroupErrors(timeout: timeout) {
            let response = try await anyConnection().send(FindCoordinatorRequest(key: group, keyType: 0))
            let code = KafkaErrorCode(rawValue: response.errorCode)
            guard code == .none else { return .failure(code, response.errorMessage) }
            return .success(
                GroupCoordinator(id: response.nodeId, address: BrokerAddress(host: response.host, port: Int(response.port))))
        }
    }

    /// The groups every broker coordinates (ListGroups at each broker in Metadata).
    public func listGroups() async throws -> [ListGroupsResponse.ListedGroup] {
        let metadata = try await metadata(topics: [])
        var groups: [ListGroupsResponse.ListedGroup] = []
        for broker in metadata.brokers.sorted(by: { $0.nodeId < $1.nodeId }) {
            let response = try await connection(toBroker: broker.nodeId).send(ListGroupsRequest())
            let code = KafkaErrorCode(rawValue: response.errorCode)
            guard code == .none else { throw KafkaClientError.kafka(code, nil, context: "ListGroups") }
            groups += response.groups
        }
        return groups
    }

    /// DescribeGroups for one group at its coordinator. An unknown group is described as state "Dead".
    public func describeGroup(
        _ group: String,
        timeout: Duration = .seconds(5)
    ) async throws -> (GroupCoordinator, DescribeGroupsResponse.DescribedGroup) {
        try await retryingGroupErrors(timeout: timeout) {
            let coordinator = try await findCoordinator(group: group, timeout: timeout)
            let response = try await connection(toBroker: coordinator.id).send(DescribeGroupsRequest(groups: [group]))
            guard let described = response.groups.first(where: { $0.groupId == group }) ?? response.groups.first else {
                return .failure(.unknownServerError, "the coordinator did not describe group \(group)")
            }
            let code = KafkaErrorCode(rawValue: described.errorCode)
            guard code == .none else { return .failure(code, nil) }
            return .success((coordinator, described))
        }
    }

    /// The group's committed offsets (OffsetFetch with every topic), without partitions that have none.
    public func fetchOffsets(group: String, timeout: Duration = .seconds(5)) async throws -> [TopicPartition: Int64] {
        try await retryingGroupErrors(timeout: timeout) {
            let coordinator = try await findCoordinator(group: group, timeout: timeout)
            let response = try await connection(toBroker: coordinator.id)
                .send(OffsetFetchRequest(groupId: group, topics: nil), versions: 2...7)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            guard code == .none else { return .failure(code, nil) }
            var offsets: [TopicPartition: Int64] = [:]
            for topic in response.topics {
                for partition in topic.partitions where partition.committedOffset >= 0 {
                    let partitionCode = KafkaErrorCode(rawValue: partition.errorCode)
                    guard partitionCode == .none else { return .failure(partitionCode, nil) }
                    offsets[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition.committedOffset
                }
            }
            return .success(offsets)
        }
    }

    /// OffsetCommit as an admin (no member, generation -1): the group must have no active members.
    public func commitOffsets(
        group: String,
        _ offsets: [TopicPartition: Int64],
        timeout: Duration = .seconds(5)
    ) async throws {
        let topics = Dictionary(grouping: offsets.keys, by: \.topic).sorted { $0.key < $1.key }.map { topic, parts in
            OffsetCommitRequest.OffsetCommitRequestTopic(
                name: topic,
                partitions: parts.sorted().map {
                    OffsetCommitRequest.OffsetCommitRequestPartition(
                        partitionIndex: $0.partition, committedOffset: offsets[$0] ?? 0, committedLeaderEpoch: -1,
                        commitTimestamp: -1, committedMetadata: "")
                })
        }
        let _: Void = try await retryingGroupErrors(timeout: timeout) {
            let coordinator = try await findCoordinator(group: group, timeout: timeout)
            let response = try await connection(toBroker: coordinator.id)
                .send(OffsetCommitRequest(groupId: group, generationIdOrMemberEpoch: -1, memberId: "", topics: topics))
            for topic in response.topics {
                for partition in topic.partitions where partition.errorCode != KafkaErrorCode.none.rawValue {
                    return .failure(KafkaErrorCode(rawValue: partition.errorCode), nil)
                }
            }
            return .success(())
        }
    }

    /// DeleteGroups for one group at its coordinator: the group's error code (NONE when deleted).
    public func deleteGroup(_ group: String, timeout: Duration = .seconds(5)) async throws -> KafkaErrorCode {
        try await retryingGroupErrors(timeout: timeout) {
            let coordinator = try await findCoordinator(group: group, timeout: timeout)
            let response = try await connection(toBroker: coordinator.id).send(DeleteGroupsRequest(groupsNames: [group]))
            let code = KafkaErrorCode(rawValue: response.results.first { $0.groupId == group }?.errorCode ?? 0)
            if Self.isRetriableGroupError(code) { return .failure(code, nil) }
            return .success(code)
        }
    }

    /// OffsetDelete at the coordinator: the group's error code and each partition's.
    public func deleteOffsets(
        group: String,
        _ partitions: [TopicPartition],
        timeout: Duration = .seconds(5)
    ) async throws -> (KafkaErrorCode, [TopicPartition: KafkaErrorCode]) {
        let topics = Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.map { topic, parts in
            OffsetDeleteRequest.OffsetDeleteRequestTopic(
                name: topic, partitions: parts.sorted().map { .init(partitionIndex: $0.partition) })
        }
        return try await retryingGroupErrors(timeout: timeout) {
            let coordinator = try await findCoordinator(group: group, timeout: timeout)
            let response = try await connection(toBroker: coordinator.id)
                .send(OffsetDeleteRequest(groupId: group, topics: topics))
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if Self.isRetriableGroupError(code) { return .failure(code, nil) }
            var results: [TopicPartition: KafkaErrorCode] = [:]
            for topic in response.topics {
                for partition in topic.partitions {
                    results[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] =
                        KafkaErrorCode(rawValue: partition.errorCode)
                }
            }
            return .success((code, results))
        }
    }

    /// One attempt's outcome for `retryingGroupErrors`.
    enum GroupAttempt<Value> {
        case success(Value)
        case failure(KafkaErrorCode, String?)
    }

    /// Runs `attempt` until it succeeds, fails with a non-retriable code, or `timeout` passes.
    private func retryingGroupErrors<Value>(
        timeout: Duration,
        _ attempt: () async throws -> GroupAttempt<Value>
    ) async throws -> Value {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            switch try await attempt() {
            case .success(let value):
                return value
            case .failure(let code, let message):
                guard Self.isRetriableGroupError(code), clock.now < deadline else {
                    throw KafkaClientError.kafka(code, message)
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
