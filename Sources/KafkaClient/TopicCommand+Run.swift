import KafkaModel
import KafkaProtocol

extension TopicCommand {
    /// Runs a validated command against the cluster, printing through `output` (one call per line).
    public static func run(
        _ options: Options,
        admin: KafkaAdmin,
        output: (String) -> Void
    ) async throws(Failure) {
        do {
            if options.create {
                try await create(options, admin: admin, output: output)
            } else if options.alter {
                try await alter(options, admin: admin)
            } else if options.list {
                output(try await topics(matching: options.topic, excludeInternal: options.excludeInternal, admin: admin)
                    .joined(separator: "\n"))
            } else if options.describe {
                try await describe(options, admin: admin, output: output)
            } else if options.delete {
                try await delete(options, admin: admin)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .execution("\(error)")
        }
    }

    // MARK: Actions

    static func create(_ options: Options, admin: KafkaAdmin, output: (String) -> Void) async throws {
        let name = options.topic ?? ""
        if name.contains(".") || name.contains("_") { output(collisionWarning) }
        if let factor = options.replicationFactor, factor < 1 || factor > Int(Int16.max) {
            throw Failure.execution("The replication factor must be between 1 and \(Int16.max) inclusive")
        }
        if let partitions = options.partitions, partitions < 1 {
            throw Failure.execution("The partitions must be greater than 0")
        }
        let assignment = try options.replicaAssignment.flatMap { $0.isEmpty ? nil : try parseReplicaAssignment($0) }
        var topic = CreateTopicsRequest.CreatableTopic(
            name: name,
            numPartitions: Int32(clamping: options.partitions ?? -1),
            replicationFactor: Int16(clamping: options.replicationFactor ?? -1),
            configs: try parseConfigs(options.configs).map { .init(name: $0.name, value: $0.value) })
        if let assignment {
            topic.numPartitions = -1
            topic.replicationFactor = -1
            topic.assignments = assignment.enumerated().map { .init(partitionIndex: Int32($0.offset), brokerIds: $0.element) }
        }
        let response = try await admin.createTopics([topic])
        guard let result = response.topics.first(where: { $0.name == name }) ?? response.topics.first else {
            throw Failure.execution("the controller did not answer for topic \(name)")
        }
        let code = KafkaErrorCode(rawValue: result.errorCode)
        if code == .none {
            output("Created topic \(name).")
        } else if code == .topicAlreadyExists && options.ifNotExists {
            return
        } else if code == .topicAlreadyExists && (result.errorMessage ?? "").isEmpty {
            throw Failure.execution("Topic '\(name)' already exists.")
        } else {
            throw KafkaClientError.kafka(code, result.errorMessage)
        }
    }

    static func alter(_ options: Options, admin: KafkaAdmin) async throws {
        let topics = try await topics(matching: options.topic, excludeInternal: options.excludeInternal, admin: admin)
        try ensureExists(topics, requested: options.topic, required: !options.ifExists)
        guard !topics.isEmpty, let count = options.partitions else { return }
        let assignment = try options.replicaAssignment.flatMap { $0.isEmpty ? nil : try parseReplicaAssignment($0) }
        var current: [String: Int] = [:]
        if assignment != nil {
            for topic in try await admin.metadata(topics: topics).topics {
                current[topic.name ?? ""] = topic.partitions.count
            }
        }
        let request = topics.map { name in
            // With --replica-assignment, the entries for partitions that exist already are skipped.
            CreatePartitionsRequest.CreatePartitionsTopic(
                name: name, count: Int32(clamping: count),
                assignments: assignment.map {
                    $0.dropFirst(current[name] ?? 0).map { .init(brokerIds: $0) }
                })
        }
        let response = try await admin.createPartitions(request)
        for name in topics {
            guard let result = response.results.first(where: { $0.name == name }) else { continue }
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code != .none { throw KafkaClientError.kafka(code, result.errorMessage) }
        }
    }

    static func delete(_ options: Options, admin: KafkaAdmin) async throws {
        let topics = try await topics(matching: options.topic, excludeInternal: options.excludeInternal, admin: admin)
        try ensureExists(topics, requested: options.topic, required: !options.ifExists)
        guard !topics.isEmpty else { return }
        let response = try await admin.deleteTopics(topics)
        for name in topics {
            guard let result = response.responses.first(where: { $0.name == name }) else { continue }
            let code = KafkaErrorCode(rawValue: result.errorCode)
            if code != .none { throw KafkaClientError.kafka(code, result.errorMessage) }
        }
    }

    static func describe(_ options: Options, admin: KafkaAdmin, output: (String) -> Void) async throws {
        var topics: [String]
        if let id = options.topicId.flatMap(KafkaUUID.init), id != .zero {
            // By id: the one topic whose Metadata id matches (brokers without ids match nothing).
            let all = try await admin.metadata(topics: nil).topics
            topics = all.filter { $0.topicId == id && !(options.excludeInternal && isInternal($0)) }.compactMap(\.name)
            if topics.isEmpty && !options.ifExists { throw Failure.execution("TopicId '\(id)' does not exist as expected") }
        } else {
            topics = try await self.topics(matching: options.topic, excludeInternal: options.excludeInternal, admin: admin)
            try ensureExists(topics, requested: options.topic, required: !options.ifExists)
        }
        guard !topics.isEmpty else { return }

        let metadata = try await describedMetadata(topics, admin: admin)
        let configs = try await admin.describeTopicConfigs(topics)
        let liveBrokers = Set(metadata.brokers.map(\.nodeId))
        let reportPartitions =
            options.underReplicatedPartitions || options.underMinIsrPartitions || options.atMinIsrPartitions
            || options.unavailablePartitions
        let describeConfigs = !reportPartitions
        let describePartitions = !options.topicsWithOverrides

        // Kafka's admin client hands the descriptions back in a HashMap sized for the topic count.
        for name in javaHashMapOrder(topics, initialCapacity: topics.count) {
            guard let topic = metadata.topics.first(where: { $0.name == name }) else { continue }
            guard let config = configs[name] else {
                throw Failure.execution("the broker did not describe the configs of topic \(name)")
            }
            let configCode = KafkaErrorCode(rawValue: config.errorCode)
            if configCode != .none { throw KafkaClientError.kafka(configCode, config.errorMessage) }
            let partitions = topic.partitions
                .sorted { $0.partitionIndex < $1.partitionIndex }
                .map {
                    PartitionDescription(
                        partition: $0.partitionIndex, leader: $0.leaderId, replicas: $0.replicaNodes, isr: $0.isrNodes)
                }
            if describeConfigs, let first = partitions.first {
                let hasOverride = config.configs.contains { !$0.isDefault }
                if !options.topicsWithOverrides || hasOverride {
                    output(
                        topicLine(
                            topic: name, topicId: topic.topicId, partitionCount: partitions.count,
                            replicationFactor: first.replicas.count, configs: configsColumn(config.configs)))
                }
            }
            guard describePartitions else { continue }
            let minIsr = config.configs.first { $0.name == "min.insync.replicas" }?.value.flatMap { Int($0) } ?? 1
            for partition in partitions {
                let show =
                    describeConfigs
                    || (options.underReplicatedPartitions && partition.isUnderReplicated)
                    || (options.unavailablePartitions && partition.isUnavailable(liveBrokers: liveBrokers))
                    || (options.underMinIsrPartitions && partition.isUnderMinIsr(minIsr))
                    || (options.atMinIsrPartitions && partition.isAtMinIsr(minIsr))
                if show { output(partitionLine(topic: name, partition)) }
            }
        }
    }

    // MARK: Helpers

    /// Every topic name, sorted, without internal ones when asked, filtered by `--topic` as a regex.
    static func topics(matching pattern: String?, excludeInternal: Bool, admin: KafkaAdmin) async throws -> [String] {
        let all = try await admin.metadata(topics: nil).topics
        let names = all.filter { !(excludeInternal && isInternal($0)) }.compactMap(\.name).sorted()
        guard let pattern else { return names }
        let filter = try TopicFilter(pattern)
        return names.filter(filter.allows)
    }

    static func isInternal(_ topic: MetadataResponse.MetadataResponseTopic) -> Bool {
        topic.isInternal || isInternalTopicName(topic.name ?? "")
    }

    static func ensureExists(_ found: [String], requested: String?, required: Bool) throws {
        if let requested, !requested.isEmpty, required, found.isEmpty {
            throw Failure.execution("Topic '\(requested)' does not exist as expected")
        }
    }

    /// Metadata for the topics to describe. A topic still being set up answers LEADER_NOT_AVAILABLE for a
    /// moment, which Kafka's admin client retries; other topic errors fail the command.
    static func describedMetadata(_ topics: [String], admin: KafkaAdmin) async throws -> MetadataResponse {
        var attempt = 0
        while true {
            attempt += 1
            let metadata = try await admin.metadata(topics: topics)
            let failed = metadata.topics.first { $0.errorCode != KafkaErrorCode.none.rawValue }
            guard let failed else { return metadata }
            let code = KafkaErrorCode(rawValue: failed.errorCode)
            guard code == .leaderNotAvailable, attempt < 20 else { throw KafkaClientError.kafka(code, nil) }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
