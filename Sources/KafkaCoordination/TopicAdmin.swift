import KafkaModel

// The admin paths that choose replicas themselves (Kafka's AdminZkClient): a topic of N partitions
// spread over the live brokers, and more partitions for an existing topic.
extension KafkaZkClient {
    /// Creates a topic with `partitions` partitions of `replicationFactor` replicas over the live
    /// brokers (rack-aware when they have racks). Returns the assignment written.
    @discardableResult
    public func createTopic(
        _ topic: String, partitions: Int, replicationFactor: Int, config: [String: String] = [:]
    ) async throws -> TopicAssignment {
        let brokers = try await getAllBrokers().values.map { ReplicaAssignment.Broker(id: $0.id, rack: $0.rack) }
        let replicas = try ReplicaAssignment.assign(partitions: partitions, replicationFactor: replicationFactor, brokers: brokers)
        let assignment = TopicAssignment(topicID: Self.randomUUIDBase64(), partitions: replicas)
        try await createTopic(topic, assignment: assignment, config: config)
        return assignment
    }

    /// Grows a topic to `totalPartitions`, placing the new partitions as topic creation would with the
    /// existing replication factor. Refuses to shrink: Kafka cannot remove partitions.
    @discardableResult
    public func addPartitions(_ topic: String, totalPartitions: Int, replicas explicit: [[Int32]]? = nil) async throws -> TopicAssignment {
        guard let (current, version) = try await getAssignment(topic) else {
            throw CoordinationError.invalidRequest("Topic '\(topic)' does not exist.")
        }
        let existing = current.partitions.count
        guard totalPartitions > existing else {
            throw CoordinationError.invalidRequest(
                "Topic currently has \(existing) partitions, \(totalPartitions) would not be an increase.")
        }
        let replicationFactor = current.partitions[0]?.count ?? 1
        var next = current
        if let explicit {
            guard explicit.count == totalPartitions - existing else {
                throw CoordinationError.invalidRequest(
                    "Increasing the number of partitions by \(totalPartitions - existing) but \(explicit.count) assignments provided.")
            }
            for (offset, replicas) in explicit.enumerated() { next.partitions[Int32(existing + offset)] = replicas }
        } else {
            let brokers = try await getAllBrokers().values.map { ReplicaAssignment.Broker(id: $0.id, rack: $0.rack) }
            let added = try ReplicaAssignment.assign(
                partitions: totalPartitions - existing, replicationFactor: replicationFactor, brokers: brokers,
                startPartition: existing)
            next.partitions.merge(added) { old, _ in old }
        }
        try await addPartitions(topic, newAssignment: next, expectedVersion: version)
        return next
    }
}
