import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Kafka's config resource types (`ConfigResource.Type`).
public enum ConfigResourceType: Int8, Sendable {
    case unknown = 0
    case topic = 2
    case broker = 4
    case brokerLogger = 8
}

/// Kafka's config sources (`DescribeConfigsResponse.ConfigSource`), as DescribeConfigs v1+ reports them.
public enum ConfigSource: Int8, Sendable {
    case unknown = 0
    case dynamicTopicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
    case dynamicBrokerLoggerConfig = 6
}

/// IncrementalAlterConfigs operations (`AlterConfigOp.OpType`).
public enum AlterConfigOperation: Int8, Sendable {
    case set = 0
    case delete = 1
    case append = 2
    case subtract = 3
}

/// The admin calls of Kafka's `Admin` client that Odradek's tools need, over a list of bootstrap servers.
/// Connections are made on first use and kept: one to any broker for metadata and configs, one to the
/// controller for topic changes (re-found when the controller moves), one to each partition leader for
/// ListOffsets. Results are the protocol's response structs; per-topic error codes are the caller's to read.
public actor KafkaAdmin {
    public let bootstrapServers: [BrokerAddress]
    public let options: KafkaConnection.Options
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger?
    private var connections: [BrokerAddress: KafkaConnection] = [:]
    /// Broker addresses by id, from the last Metadata answer.
    public private(set) var brokers: [Int32: BrokerAddress] = [:]
    /// The controller id from the last Metadata answer (-1: none known).
    public private(set) var controllerId: Int32 = -1
    private var isClosed = false

    public init(
        bootstrapServers: [BrokerAddress],
        options: KafkaConnection.Options = KafkaConnection.Options(clientId: "odradek-admin"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil
    ) {
        self.bootstrapServers = bootstrapServers
        self.options = options
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// `bootstrapServers` as Kafka's `bootstrap.servers`: "host:port[,host:port...]".
    public init(
        bootstrapServers: String,
        options: KafkaConnection.Options = KafkaConnection.Options(clientId: "odradek-admin"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil
    ) throws {
        self.init(
            bootstrapServers: try BrokerAddress.parseList(bootstrapServers), options: options,
            eventLoopGroup: eventLoopGroup, logger: logger)
    }

    // MARK: Connections

    /// A connection to `address`, reused while it stays open.
    public func connection(to address: BrokerAddress) async throws -> KafkaConnection {
        guard !isClosed else { throw KafkaClientError(.closed, "the admin client is closed") }
        if let existing = connections[address], existing.isActive { return existing }
        let connection = try await KafkaConnection.connect(
            host: address.host, port: address.port, options: options, eventLoopGroup: eventLoopGroup, logger: logger)
        // Another call may have connected meanwhile (actor reentrancy); keep one.
        if let existing = connections[address], existing.isActive {
            await connection.close()
            return existing
        }
        connections[address] = connection
        return connection
    }

    /// A connection to any broker: an open one if there is one, else the bootstrap servers in order.
    public func anyConnection() async throws -> KafkaConnection {
        if let open = connections.values.first(where: { $0.isActive }) { return open }
        var failures: [KafkaClientError] = []
        for address in bootstrapServers + brokers.values.filter({ !bootstrapServers.contains($0) }) {
            do {
                return try await connection(to: address)
            } catch let error as KafkaClientError {
                if error.kind == .closed { throw error }
                failures.append(error)
            }
        }
        if failures.count == 1 { throw failures[0] }
        throw KafkaClientError(
            .noBrokerAvailable,
            "no bootstrap server could be reached: " + failures.map(\.message).joined(separator: "; "))
    }

    /// A connection to broker `id`, by its address in the last Metadata answer.
    public func connection(toBroker id: Int32) async throws -> KafkaConnection {
        if brokers[id] == nil { _ = try await metadata(topics: []) }
        guard let address = brokers[id] else {
            throw KafkaClientError(.noBrokerAvailable, "broker \(id) is not in the cluster's metadata")
        }
        return try await connection(to: address)
    }

    /// Broker `id`'s connection, or any broker's for nil.
    private func connection(forBroker id: Int32?) async throws -> KafkaConnection {
        if let id { return try await connection(toBroker: id) }
        return try await anyConnection()
    }

    /// A connection to the active controller (Metadata's controller_id).
    public func controllerConnection() async throws -> KafkaConnection {
        let metadata = try await metadata(topics: [])
        guard metadata.controllerId >= 0 else {
            throw KafkaClientError(
                .noBrokerAvailable, "the cluster has no active controller at the moment; try again shortly")
        }
        return try await connection(toBroker: metadata.controllerId)
    }

    /// Closes every connection; later calls fail.
    public func close() async {
        isClosed = true
        for connection in connections.values { await connection.close() }
        connections = [:]
    }

    // MARK: Metadata

    /// Metadata for `topics` (nil: all topics; empty: brokers and controller only), never creating topics.
    /// Remembers the brokers and the controller.
    public func metadata(topics: [String]? = nil) async throws -> MetadataResponse {
        let connection = try await anyConnection()
        // v4+ can say "do not auto-create"; v1+ tells the controller and null-for-all.
        let version = try connection.version(for: MetadataRequest.self)
        var request = MetadataRequest(
            topics: topics.map { $0.map { MetadataRequest.MetadataRequestTopic(topicId: .zero, name: $0) } },
            allowAutoTopicCreation: false)
        if version == 0 {
            // v0 has no null: an empty list asks for every topic, so "brokers only" cannot be said.
            request.topics = request.topics ?? []
        }
        let response = try await connection.send(request, version: version)
        var known: [Int32: BrokerAddress] = [:]
        for broker in response.brokers {
            known[broker.nodeId] = BrokerAddress(host: broker.host, port: Int(broker.port))
        }
        brokers = known
        controllerId = response.controllerId
        return response
    }

    // MARK: Topics (sent to the controller)

    /// CreateTopics at the controller. `timeoutMs` is how long the controller waits for the topics to
    /// have leaders. Results come back per topic; check their error codes.
    public func createTopics(
        _ topics: [CreateTopicsRequest.CreatableTopic],
        timeoutMs: Int32 = 30_000,
        validateOnly: Bool = false
    ) async throws -> CreateTopicsResponse {
        try await sendToController(
            CreateTopicsRequest(topics: topics, timeoutMs: timeoutMs, validateOnly: validateOnly),
            notController: { $0.topics.contains { $0.errorCode == KafkaErrorCode.notController.rawValue } })
    }

    /// DeleteTopics (by name) at the controller.
    public func deleteTopics(_ names: [String], timeoutMs: Int32 = 30_000) async throws -> DeleteTopicsResponse {
        let request = DeleteTopicsRequest(
            topics: names.map { DeleteTopicsRequest.DeleteTopicState(name: $0, topicId: .zero) },
            topicNames: names, timeoutMs: timeoutMs)
        return try await sendToController(
            request,
            notController: { $0.responses.contains { $0.errorCode == KafkaErrorCode.notController.rawValue } })
    }

    /// CreatePartitions at the controller: grows each topic to `count` partitions.
    public func createPartitions(
        _ topics: [CreatePartitionsRequest.CreatePartitionsTopic],
        timeoutMs: Int32 = 30_000,
        validateOnly: Bool = false
    ) async throws -> CreatePartitionsResponse {
        try await sendToController(
            CreatePartitionsRequest(topics: topics, timeoutMs: timeoutMs, validateOnly: validateOnly),
            notController: { $0.results.contains { $0.errorCode == KafkaErrorCode.notController.rawValue } })
    }

    /// Sends to the controller; when the answer says NOT_CONTROLLER (the controller moved), finds the
    /// controller again and resends, a few times.
    private func sendToController<Request: KafkaRequest>(
        _ request: Request,
        notController: (Request.Response) -> Bool
    ) async throws -> Request.Response {
        var attempt = 0
        while true {
            attempt += 1
            let controller = try await controllerConnection()
            let response = try await controller.send(request)
            guard notController(response), attempt < 5 else { return response }
            logger?.debug("NOT_CONTROLLER from \(controller.endpoint); finding the controller again")
            try await Task.sleep(for: .milliseconds(100 * attempt))
        }
    }

    // MARK: Configs

    /// DescribeConfigs: topic resources at any broker, a broker's own resources at that broker.
    public func describeConfigs(
        _ resources: [DescribeConfigsRequest.DescribeConfigsResource],
        includeSynonyms: Bool = false,
        includeDocumentation: Bool = false
    ) async throws -> DescribeConfigsResponse {
        var results: [DescribeConfigsResponse.DescribeConfigsResult] = []
        var throttle: Int32 = 0
        for (broker, group) in Self.groupByTargetBroker(resources, type: \.resourceType, name: \.resourceName) {
            let connection = try await connection(forBroker: broker)
            let version = try connection.version(for: DescribeConfigsRequest.self)
            var response = try await connection.send(
                DescribeConfigsRequest(
                    resources: group, includeSynonyms: includeSynonyms, includeDocumentation: includeDocumentation),
                version: version)
            Self.normalizeDefaults(&response, version: version)
            results += response.results
            throttle = max(throttle, response.throttleTimeMs)
        }
        return DescribeConfigsResponse(throttleTimeMs: throttle, results: results)
    }

    /// v0 says `is_default`, v1+ `config_source`; fill in the other so callers can read either
    /// (Kafka's `ConfigEntry.isDefault()` is `source == DEFAULT_CONFIG`).
    static func normalizeDefaults(_ response: inout DescribeConfigsResponse, version: Int16) {
        for resource in response.results.indices {
            for config in response.results[resource].configs.indices {
                if version == 0 {
                    let isDefault = response.results[resource].configs[config].isDefault
                    response.results[resource].configs[config].configSource =
                        isDefault ? ConfigSource.defaultConfig.rawValue : ConfigSource.unknown.rawValue
                } else {
                    response.results[resource].configs[config].isDefault =
                        response.results[resource].configs[config].configSource == ConfigSource.defaultConfig.rawValue
                }
            }
        }
    }

    /// The configs of each topic, keyed by topic name (DescribeConfigs with every key).
    public func describeTopicConfigs(_ topics: [String]) async throws -> [String: DescribeConfigsResponse.DescribeConfigsResult] {
        let response = try await describeConfigs(
            topics.map {
                DescribeConfigsRequest.DescribeConfigsResource(
                    resourceType: ConfigResourceType.topic.rawValue, resourceName: $0, configurationKeys: nil)
            },
            includeSynonyms: false)
        return Dictionary(response.results.map { ($0.resourceName, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// AlterConfigs (whole-set replacement: keys not given return to their defaults).
    public func alterConfigs(
        _ resources: [AlterConfigsRequest.AlterConfigsResource],
        validateOnly: Bool = false
    ) async throws -> AlterConfigsResponse {
        var responses: [AlterConfigsResponse.AlterConfigsResourceResponse] = []
        for (broker, group) in Self.groupByTargetBroker(resources, type: \.resourceType, name: \.resourceName) {
            let connection = try await connection(forBroker: broker)
            let response = try await connection.send(AlterConfigsRequest(resources: group, validateOnly: validateOnly))
            responses += response.responses
        }
        return AlterConfigsResponse(responses: responses)
    }

    /// IncrementalAlterConfigs (set, delete, append, subtract per key).
    public func incrementalAlterConfigs(
        _ resources: [IncrementalAlterConfigsRequest.AlterConfigsResource],
        validateOnly: Bool = false
    ) async throws -> IncrementalAlterConfigsResponse {
        var responses: [IncrementalAlterConfigsResponse.AlterConfigsResourceResponse] = []
        for (broker, group) in Self.groupByTargetBroker(resources, type: \.resourceType, name: \.resourceName) {
            let connection = try await connection(forBroker: broker)
            let response = try await connection.send(
                IncrementalAlterConfigsRequest(resources: group, validateOnly: validateOnly))
            responses += response.responses
        }
        return IncrementalAlterConfigsResponse(responses: responses)
    }

    /// Broker resources with a numeric name go to that broker (as Kafka's admin client does); the rest
    /// (topics, the cluster-wide broker default "") to any broker, marked by a nil key.
    static func groupByTargetBroker<Resource>(
        _ resources: [Resource],
        type: KeyPath<Resource, Int8>,
        name: KeyPath<Resource, String>
    ) -> [(Int32?, [Resource])] {
        var groups: [(Int32?, [Resource])] = []
        for resource in resources {
            let isBroker =
                resource[keyPath: type] == ConfigResourceType.broker.rawValue
                || resource[keyPath: type] == ConfigResourceType.brokerLogger.rawValue
            let target = isBroker ? Int32(resource[keyPath: name]) : nil
            if let index = groups.firstIndex(where: { $0.0 == target }) {
                groups[index].1.append(resource)
            } else {
                groups.append((target, [resource]))
            }
        }
        return groups
    }

    // MARK: Offsets

    /// ListOffsets timestamps: the next offset to be written, the first offset kept.
    public static let latestTimestamp: Int64 = -1
    public static let earliestTimestamp: Int64 = -2

    /// The offset for `timestamp` (or `latestTimestamp` / `earliestTimestamp`) of each partition, asked
    /// of each partition's leader. A partition without a leader answers LEADER_NOT_AVAILABLE.
    public func listOffsets(
        _ partitions: [TopicPartition],
        timestamp: Int64 = KafkaAdmin.latestTimestamp,
        isolationLevel: Int8 = 0
    ) async throws -> [TopicPartition: ListOffsetsResponse.ListOffsetsPartitionResponse] {
        let topics = Array(Set(partitions.map(\.topic))).sorted()
        let metadata = try await metadata(topics: topics)
        var leaders: [TopicPartition: Int32] = [:]
        for topic in metadata.topics {
            for partition in topic.partitions {
                leaders[TopicPartition(topic: topic.name ?? "", partition: partition.partitionIndex)] = partition.leaderId
            }
        }
        var results: [TopicPartition: ListOffsetsResponse.ListOffsetsPartitionResponse] = [:]
        var byLeader: [Int32: [TopicPartition]] = [:]
        for partition in partitions {
            guard let leader = leaders[partition], leader >= 0 else {
                let code: KafkaErrorCode = leaders[partition] == nil ? .unknownTopicOrPartition : .leaderNotAvailable
                results[partition] = ListOffsetsResponse.ListOffsetsPartitionResponse(
                    partitionIndex: partition.partition, errorCode: code.rawValue, timestamp: -1, offset: -1)
                continue
            }
            byLeader[leader, default: []].append(partition)
        }
        for (leader, group) in byLeader.sorted(by: { $0.key < $1.key }) {
            let connection = try await connection(toBroker: leader)
            let request = ListOffsetsRequest(
                replicaId: -1, isolationLevel: isolationLevel,
                topics: Dictionary(grouping: group, by: \.topic).sorted { $0.key < $1.key }.map { topic, parts in
                    ListOffsetsRequest.ListOffsetsTopic(
                        name: topic,
                        partitions: parts.map {
                            ListOffsetsRequest.ListOffsetsPartition(
                                partitionIndex: $0.partition, currentLeaderEpoch: -1, timestamp: timestamp,
                                maxNumOffsets: 1)
                        })
                })
            let version = try connection.version(for: ListOffsetsRequest.self)
            let response = try await connection.send(request, version: version)
            for topic in response.topics {
                for var partition in topic.partitions {
                    // v0 answers a list of offsets; give it the v1+ shape.
                    if version == 0 { partition.offset = partition.oldStyleOffsets.first ?? -1 }
                    results[TopicPartition(topic: topic.name, partition: partition.partitionIndex)] = partition
                }
            }
        }
        return results
    }
}
