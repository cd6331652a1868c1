import Logging
import KafkaCoordination
import KafkaModel
import KafkaProtocol

extension KafkaServer {
    /// Whether this broker is the active controller, which alone answers topic administration
    /// (others answer NOT_CONTROLLER and clients retry at the controller the metadata names).
    private func isController() async -> Bool {
        guard let coordinator else { return false }
        return await coordinator.controller.isActive
    }

    /// CreateTopics: checks each topic, writes it to ZooKeeper (config, then assignment), and waits
    /// up to the request's timeout for its leaders, as Kafka does.
    func createTopics(_ request: CreateTopicsRequest, _ context: RequestContext) async -> CreateTopicsResponse {
        let controller = await isController()
        var results: [CreateTopicsResponse.CreatableTopicResult] = []
        var created: [(String, Int)] = []
        var seen: [String: Int] = [:]
        for topic in request.topics { seen[topic.name, default: 0] += 1 }
        for topic in request.topics {
            var result = CreateTopicsResponse.CreatableTopicResult(name: topic.name)
            func fail(_ code: KafkaErrorCode, _ message: String) {
                result.errorCode = code.rawValue
                result.errorMessage = message
            }
            let partitions = topic.numPartitions == -1 ? settings.numPartitions : Int(topic.numPartitions)
            let replicationFactor = topic.replicationFactor == -1 ? settings.defaultReplicationFactor : Int(topic.replicationFactor)
            let liveBrokers = metadata.liveBrokers.map(\.id)
            if !controller {
                fail(.notController, "This is not the correct controller for this cluster.")
            } else if seen[topic.name, default: 0] > 1 {
                fail(.invalidRequest, "Create topics request from client contains a duplicate topic: \(topic.name)")
            } else if !TopicPartition.isLegalTopicName(topic.name) {
                fail(.invalidTopicException, "Topic name \"\(topic.name)\" is illegal: it must be 1 to 249 characters of ASCII letters, digits, '.', '_' and '-', and not '.' or '..'.")
            } else if await topicExists(topic.name) {
                fail(.topicAlreadyExists, "Topic '\(topic.name)' already exists.")
            } else if !topic.assignments.isEmpty && (topic.numPartitions != -1 || topic.replicationFactor != -1) {
                fail(.invalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
            } else if topic.assignments.isEmpty && partitions <= 0 {
                fail(.invalidPartitions, "Number of partitions must be larger than 0.")
            } else if topic.assignments.isEmpty && replicationFactor <= 0 {
                fail(.invalidReplicationFactor, "Replication factor must be larger than 0.")
            } else if topic.assignments.isEmpty && replicationFactor > liveBrokers.count {
                fail(.invalidReplicationFactor, "Replication factor: \(replicationFactor) larger than available brokers: \(liveBrokers.count).")
            } else if let problem = explicitAssignmentProblem(topic.assignments, liveBrokers: Set(liveBrokers)) {
                fail(.invalidReplicaAssignment, problem)
            } else {
                let overrides = Dictionary(topic.configs.compactMap { config in config.value.map { (config.name, $0) } }, uniquingKeysWith: { $1 })
                do {
                    do {
                        _ = try settings.resolveTopicConfig(overrides)
                    } catch {
                        throw InvalidTopicConfig(message: "\(error)")
                    }
                    if !request.validateOnly {
                        if topic.assignments.isEmpty {
                            try await zk.createTopic(topic.name, partitions: partitions, replicationFactor: replicationFactor, config: overrides)
                        } else {
                            let assignment = TopicAssignment(
                                topicID: KafkaZkClient.randomUUIDBase64(),
                                partitions: Dictionary(uniqueKeysWithValues: topic.assignments.map { ($0.partitionIndex, $0.brokerIds) }))
                            try await zk.createTopic(topic.name, assignment: assignment, config: overrides)
                        }
                        created.append((topic.name, topic.assignments.isEmpty ? partitions : topic.assignments.count))
                        logger.info("created topic \(topic.name)")
                    }
                    result.numPartitions = Int32(topic.assignments.isEmpty ? partitions : topic.assignments.count)
                    result.replicationFactor = Int16(topic.assignments.first?.brokerIds.count ?? replicationFactor)
                } catch let error as InvalidTopicConfig {
                    fail(.invalidConfig, error.message)
                } catch let error as CoordinationError {
                    fail(.invalidRequest, "\(error)")
                } catch {
                    fail(.unknownServerError, "\(error)")
                }
            }
            results.append(result)
        }
        // Kafka answers once the new topics have leaders, or with REQUEST_TIMED_OUT at the timeout.
        let waitingFor = created
        let ready = await waitUntil(timeoutMs: request.timeoutMs) {
            waitingFor.allSatisfy { self.metadata.hasLeaders(topic: $0.0, partitionCount: $0.1) } && self.interBroker.isIdle
        }
        if !ready {
            for index in results.indices where results[index].errorCode == 0 && created.contains(where: { $0.0 == results[index].name }) {
                if !metadata.hasLeaders(topic: results[index].name) {
                    results[index].errorCode = KafkaErrorCode.requestTimedOut.rawValue
                    results[index].errorMessage = "Topic creation was accepted but its leaders were not elected within the timeout."
                }
            }
        }
        return CreateTopicsResponse(topics: results)
    }

    private func topicExists(_ name: String) async -> Bool {
        if metadata.contains(topic: name) { return true }
        return ((try? await zk.getAssignment(name)) ?? nil) != nil
    }

    private func explicitAssignmentProblem(_ assignments: [CreateTopicsRequest.CreatableReplicaAssignment], liveBrokers: Set<Int32>) -> String? {
        guard !assignments.isEmpty else { return nil }
        let indexes = assignments.map(\.partitionIndex).sorted()
        guard indexes == Array(0..<Int32(assignments.count)) else {
            return "Partitions should be a consecutive 0-based integer sequence, but got \(indexes)."
        }
        let factor = assignments[0].brokerIds.count
        for assignment in assignments {
            if assignment.brokerIds.isEmpty { return "Replica assignment for partition \(assignment.partitionIndex) is empty." }
            if assignment.brokerIds.count != factor { return "All partitions should have the same number of replicas." }
            if Set(assignment.brokerIds).count != assignment.brokerIds.count {
                return "Duplicate brokers not allowed in replica assignment: \(assignment.brokerIds) for partition \(assignment.partitionIndex)."
            }
            if let unknown = assignment.brokerIds.first(where: { !liveBrokers.contains($0) }) {
                return "Unknown broker \(unknown) in replica assignment for partition \(assignment.partitionIndex)."
            }
        }
        return nil
    }

    /// DeleteTopics: queues each topic under `/admin/delete_topics` for the controller and waits up
    /// to the timeout for it to disappear.
    func deleteTopics(_ request: DeleteTopicsRequest, _ context: RequestContext) async -> DeleteTopicsResponse {
        let controller = await isController()
        let names = context.version >= 6 ? request.topics.compactMap(\.name) : request.topicNames
        var results: [DeleteTopicsResponse.DeletableTopicResult] = []
        var queued: [String] = []
        for name in names {
            var result = DeleteTopicsResponse.DeletableTopicResult(name: name)
            if !controller {
                result.errorCode = KafkaErrorCode.notController.rawValue
            } else if !settings.deleteTopicEnable {
                result.errorCode = KafkaErrorCode.topicDeletionDisabled.rawValue
                result.errorMessage = "Topic deletion is disabled (delete.topic.enable=false)."
            } else if (try? await zk.getAssignment(name)) == nil {
                result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                result.errorMessage = "This server does not host this topic-partition."
            } else {
                do {
                    try await zk.markTopicForDeletion(name)
                    queued.append(name)
                    logger.info("topic \(name) queued for deletion")
                } catch {
                    result.errorCode = KafkaErrorCode.unknownServerError.rawValue
                    result.errorMessage = "\(error)"
                }
            }
            results.append(result)
        }
        let deleting = queued
        let done = await waitUntil(timeoutMs: request.timeoutMs) {
            deleting.allSatisfy { !self.metadata.contains(topic: $0) } && self.interBroker.isIdle
        }
        if !done {
            for index in results.indices where queued.contains(results[index].name ?? "") && metadata.contains(topic: results[index].name ?? "") {
                results[index].errorCode = KafkaErrorCode.requestTimedOut.rawValue
            }
        }
        return DeleteTopicsResponse(responses: results)
    }

    /// CreatePartitions: grows topics (never shrinks them) and waits for the new partitions' leaders.
    func createPartitions(_ request: CreatePartitionsRequest, _ context: RequestContext) async -> CreatePartitionsResponse {
        let controller = await isController()
        var results: [CreatePartitionsResponse.CreatePartitionsTopicResult] = []
        var grown: [(String, Int)] = []
        for topic in request.topics {
            var result = CreatePartitionsResponse.CreatePartitionsTopicResult(name: topic.name, errorCode: 0)
            guard controller else {
                result.errorCode = KafkaErrorCode.notController.rawValue
                results.append(result)
                continue
            }
            do {
                guard let (current, _) = try await zk.getAssignment(topic.name) else {
                    result.errorCode = KafkaErrorCode.unknownTopicOrPartition.rawValue
                    result.errorMessage = "The topic '\(topic.name)' does not exist."
                    results.append(result)
                    continue
                }
                let existing = current.partitions.count
                if Int(topic.count) <= existing {
                    result.errorCode = KafkaErrorCode.invalidPartitions.rawValue
                    result.errorMessage = Int(topic.count) == existing
                        ? "Topic already has \(existing) partitions."
                        : "Topic currently has \(existing) partitions, which is higher than the requested \(topic.count)."
                } else if !request.validateOnly {
                    try await zk.addPartitions(topic.name, totalPartitions: Int(topic.count), replicas: topic.assignments?.map(\.brokerIds))
                    grown.append((topic.name, Int(topic.count)))
                    logger.info("topic \(topic.name) grows to \(topic.count) partitions")
                }
            } catch let error as CoordinationError {
                result.errorCode = KafkaErrorCode.invalidReplicaAssignment.rawValue
                result.errorMessage = "\(error)"
            } catch {
                result.errorCode = KafkaErrorCode.unknownServerError.rawValue
                result.errorMessage = "\(error)"
            }
            results.append(result)
        }
        let growing = grown
        _ = await waitUntil(timeoutMs: request.timeoutMs) {
            growing.allSatisfy { self.metadata.hasLeaders(topic: $0.0, partitionCount: $0.1) } && self.interBroker.isIdle
        }
        return CreatePartitionsResponse(results: results)
    }

    /// Polls `condition` every 20 ms until it holds or `timeoutMs` passes; true when it held.
    func waitUntil(timeoutMs: Int32, _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(max(timeoutMs, 0)))
        while !condition() {
            if ContinuousClock.now >= deadline || isShutDown { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}

private struct InvalidTopicConfig: Error {
    var message: String
}
