import KafkaCoordination
import KafkaModel
import KafkaProtocol
import Logging
import NIOCore

/// The consumer group APIs: the wire side of `GroupCoordinator`.
extension KafkaServer {
    /// FindCoordinator: the leader of the group's `__consumer_offsets` partition. The first request
    /// creates that topic (compacted, `offsets.topic.*`); until its leaders are elected, and when
    /// fewer brokers are alive than its replication factor, COORDINATOR_NOT_AVAILABLE.
    func findCoordinator(_ request: FindCoordinatorRequest, _ context: RequestContext) async -> FindCoordinatorResponse {
        func unavailable(_ error: KafkaErrorCode, _ message: String) -> FindCoordinatorResponse {
            FindCoordinatorResponse(errorCode: error.rawValue, errorMessage: message, nodeId: -1, host: "", port: -1)
        }
        guard request.keyType == 0 else {
            return unavailable(.coordinatorNotAvailable, "This broker has no transaction coordinator.")
        }
        guard let partitions = metadata.partitions(of: GroupCoordinator.topic) else {
            await createOffsetsTopic()
            return unavailable(.coordinatorNotAvailable, "The coordinator is not available.")
        }
        let index = GroupRecords.partition(for: request.key, partitions: partitions.count)
        guard let leader = partitions[index]?.leaderAndIsr.leader, leader >= 0,
            let broker = metadata.broker(leader), let endpoint = broker.endpoints.first
        else {
            return unavailable(.coordinatorNotAvailable, "The coordinator is not available.")
        }
        return FindCoordinatorResponse(errorCode: 0, errorMessage: nil, nodeId: leader, host: endpoint.host, port: endpoint.port)
    }

    /// Creates `__consumer_offsets` as Kafka does: `offsets.topic.num.partitions` partitions,
    /// `offsets.topic.replication.factor` replicas (refused while fewer brokers are alive), compacted.
    func createOffsetsTopic() async {
        let groups = settings.groups
        let alive = metadata.liveBrokers.count
        guard alive >= groups.offsetsTopicReplicationFactor else {
            logger.error("Number of alive brokers '\(alive)' does not meet the required replication factor '\(groups.offsetsTopicReplicationFactor)' for the offsets topic (configured via 'offsets.topic.replication.factor'). This error can be ignored if the cluster is starting up and not all brokers are up yet.")
            return
        }
        do {
            _ = try await zk.createTopic(
                GroupCoordinator.topic, partitions: groups.offsetsTopicPartitions,
                replicationFactor: groups.offsetsTopicReplicationFactor,
                config: ["cleanup.policy": "compact", "compression.type": "producer",
                         "segment.bytes": "\(groups.offsetsTopicSegmentBytes)"])
            logger.info("created \(GroupCoordinator.topic) with \(groups.offsetsTopicPartitions) partitions, replication factor \(groups.offsetsTopicReplicationFactor)")
        } catch {
            logger.debug("creating \(GroupCoordinator.topic): \(error)")  // most often: another broker created it first
        }
    }

    /// After the controller changed what this broker leads: the coordinator loads or drops groups.
    func followOffsetsTopic() async {
        await groupCoordinator.reconcile(partitionCount: metadata.partitions(of: GroupCoordinator.topic)?.count)
    }

    /// Kafka names a member's host "/address".
    static func clientHost(_ context: RequestContext) -> String { "/" + context.connection.host }

    func joinGroup(_ request: JoinGroupRequest, _ context: RequestContext) async -> JoinGroupResponse {
        await groupCoordinator.join(
            request, version: context.version, clientId: context.header.clientId ?? "", clientHost: Self.clientHost(context))
    }

    func syncGroup(_ request: SyncGroupRequest, _ context: RequestContext) async -> SyncGroupResponse {
        await groupCoordinator.sync(request)
    }

    func heartbeat(_ request: HeartbeatRequest, _ context: RequestContext) async -> HeartbeatResponse {
        HeartbeatResponse(errorCode: await groupCoordinator.heartbeat(request).rawValue)
    }

    func leaveGroup(_ request: LeaveGroupRequest, _ context: RequestContext) async -> LeaveGroupResponse {
        await groupCoordinator.leave(request, version: context.version)
    }

    func offsetCommit(_ request: OffsetCommitRequest, _ context: RequestContext) async -> OffsetCommitResponse {
        let results = await groupCoordinator.commit(request, version: context.version)
        return OffsetCommitResponse(topics: request.topics.map { topic in
            OffsetCommitResponse.OffsetCommitResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                return OffsetCommitResponse.OffsetCommitResponsePartition(
                    partitionIndex: partition.partitionIndex, errorCode: (results[tp] ?? .unknownServerError).rawValue)
            })
        })
    }

    func offsetFetch(_ request: OffsetFetchRequest, _ context: RequestContext) async -> OffsetFetchResponse {
        let wanted = request.topics.map { topics in
            topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic: topic.name, partition: $0) } }
        }
        let (error, offsets) = await groupCoordinator.fetchOffsets(request.groupId, wanted)
        if error != .none && context.version < 2 {
            // Before v2 there is no top-level error: every partition carries it.
            return OffsetFetchResponse(topics: Self.offsetTopics((wanted ?? []).map { ($0, nil) }, error: error))
        }
        return OffsetFetchResponse(topics: Self.offsetTopics(offsets, error: .none), errorCode: error.rawValue)
    }

    private static func offsetTopics(_ offsets: [(TopicPartition, CommittedOffset?)], error: KafkaErrorCode) -> [OffsetFetchResponse.OffsetFetchResponseTopic] {
        var order: [String] = []
        var byTopic: [String: [OffsetFetchResponse.OffsetFetchResponsePartition]] = [:]
        for (tp, offset) in offsets {
            if byTopic[tp.topic] == nil { order.append(tp.topic) }
            byTopic[tp.topic, default: []].append(OffsetFetchResponse.OffsetFetchResponsePartition(
                partitionIndex: tp.partition, committedOffset: offset?.offset ?? -1,
                committedLeaderEpoch: offset?.leaderEpoch ?? -1, metadata: offset?.metadata ?? "", errorCode: error.rawValue))
        }
        return order.map { OffsetFetchResponse.OffsetFetchResponseTopic(name: $0, partitions: byTopic[$0]!) }
    }

    func listGroups(_ request: ListGroupsRequest, _ context: RequestContext) async -> ListGroupsResponse {
        let (error, groups) = await groupCoordinator.listGroups()
        return ListGroupsResponse(errorCode: error.rawValue, groups: groups)
    }

    func describeGroups(_ request: DescribeGroupsRequest, _ context: RequestContext) async -> DescribeGroupsResponse {
        var described: [DescribeGroupsResponse.DescribedGroup] = []
        for groupId in request.groups { described.append(await groupCoordinator.describe(groupId)) }
        return DescribeGroupsResponse(groups: described)
    }

    func deleteGroups(_ request: DeleteGroupsRequest, _ context: RequestContext) async -> DeleteGroupsResponse {
        var results: [DeleteGroupsResponse.DeletableGroupResult] = []
        for groupId in request.groupsNames {
            let error = await groupCoordinator.deleteGroup(groupId)
            results.append(DeleteGroupsResponse.DeletableGroupResult(groupId: groupId, errorCode: error.rawValue))
        }
        return DeleteGroupsResponse(results: results)
    }

    func offsetDelete(_ request: OffsetDeleteRequest, _ context: RequestContext) async -> OffsetDeleteResponse {
        let partitions = request.topics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.name, partition: $0.partitionIndex) } }
        let (error, results) = await groupCoordinator.deleteOffsets(request.groupId, partitions)
        guard error == .none else { return OffsetDeleteResponse(errorCode: error.rawValue) }
        return OffsetDeleteResponse(topics: request.topics.map { topic in
            OffsetDeleteResponse.OffsetDeleteResponseTopic(name: topic.name, partitions: topic.partitions.map { partition in
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                return OffsetDeleteResponse.OffsetDeleteResponsePartition(
                    partitionIndex: partition.partitionIndex, errorCode: (results[tp] ?? KafkaErrorCode.none).rawValue)
            })
        })
    }
}
