import Foundation
import KafkaModel
import Logging
import ZooKeeperClient

/// Kafka's reads and writes of ZooKeeper (Kafka's `KafkaZkClient` and `AdminZkClient`), over the
/// znode types of ZNodes.swift. Every method is async and non-blocking.
public final class KafkaZkClient: Sendable {
    public let zooKeeper: ZooKeeper
    /// ACL for the znodes Odradek creates: open, or (`zookeeper.set.acl=true`) writable only by the
    /// authenticated creator and readable by all, as Kafka does.
    public let acl: [ACL]
    let logger: Logger

    public init(zooKeeper: ZooKeeper, secureACLs: Bool = false, logger: Logger) {
        self.zooKeeper = zooKeeper
        self.acl = secureACLs ? ACL.creatorAll + ACL.readUnsafe : ACL.openUnsafe
        self.logger = logger
    }

    // MARK: Paths

    /// Creates `path` and its missing parents, each empty; an existing znode is fine.
    public func createRecursive(_ path: String, data: [UInt8] = []) async throws {
        do {
            try await zooKeeper.create(path, data: data, acl: acl)
        } catch ZooKeeperError.nodeExists {
            return
        } catch ZooKeeperError.noNode {
            let parent = String(path[..<path.lastIndex(of: "/")!])
            if !parent.isEmpty { try await createRecursive(parent) }
            do { try await zooKeeper.create(path, data: data, acl: acl) } catch ZooKeeperError.nodeExists {}
        }
    }

    public func createTopLevelPaths() async throws {
        for path in PersistentZNodes.paths { try await createRecursive(path) }
    }

    /// Data and version of a znode, or nil if it does not exist.
    public func read(_ path: String) async throws -> (data: [UInt8], stat: Stat)? {
        do {
            let (data, stat, _) = try await zooKeeper.getData(path)
            return (data, stat)
        } catch ZooKeeperError.noNode {
            return nil
        }
    }

    public func children(_ path: String) async throws -> [String] {
        do { return try await zooKeeper.getChildren(path).children } catch ZooKeeperError.noNode { return [] }
    }

    // MARK: Cluster and broker ids

    /// The cluster id, created by the first broker to ask (`createOrGetClusterId`).
    public func getOrCreateClusterID() async throws -> String {
        if let existing = try await read(ClusterIdZNode.path) { return try ClusterIdZNode.decode(existing.data) }
        let id = Self.randomUUIDBase64()
        do {
            try await createRecursive("/cluster")
            try await zooKeeper.create(ClusterIdZNode.path, data: ClusterIdZNode.encode(id), acl: acl)
            return id
        } catch ZooKeeperError.nodeExists {
            return try ClusterIdZNode.decode(try await zooKeeper.getData(ClusterIdZNode.path).data)
        }
    }

    /// A fresh broker id for `broker.id=-1`: the new version of `/brokers/seqid` plus
    /// `reserved.broker.max.id` (`generateBrokerSequenceId`).
    public func generateBrokerID(reservedMax: Int32 = 1000) async throws -> Int32 {
        try await createRecursive(BrokerSequenceIdZNode.path)
        let stat = try await zooKeeper.setData(BrokerSequenceIdZNode.path, data: [], version: -1)
        return stat.version + reservedMax
    }

    /// A topic id as Kafka prints one: 16 random bytes, URL-safe base64 without padding.
    public static func randomUUIDBase64() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    // MARK: Brokers

    public func getBroker(_ id: Int32) async throws -> BrokerInfo? {
        guard let (data, stat) = try await read(BrokerIdZNode.path(id)) else { return nil }
        return try BrokerIdZNode.decode(id: id, data, epoch: stat.czxid)
    }

    /// Every registered broker, with its epoch (the czxid of its registration).
    public func getAllBrokers() async throws -> [Int32: BrokerInfo] {
        let ids = try await children(BrokerIdZNode.parent).compactMap(Int32.init)
        return try await withThrowingTaskGroup(of: BrokerInfo?.self) { group in
            for id in ids { group.addTask { try await self.getBroker(id) } }
            var result: [Int32: BrokerInfo] = [:]
            for try await info in group { if let info { result[info.id] = info } }
            return result
        }
    }

    // MARK: Topics

    public func getTopics() async throws -> [String] { try await children(TopicZNode.parent) }

    public func getAssignment(_ topic: String) async throws -> (assignment: TopicAssignment, version: Int32)? {
        guard let (data, stat) = try await read(TopicZNode.path(topic)) else { return nil }
        return (try TopicZNode.decode(topic: topic, data), stat.version)
    }

    public func getPartitionState(_ tp: TopicPartition) async throws -> LeaderAndIsr? {
        guard let (data, stat) = try await read(TopicPartitionStateZNode.path(tp)) else { return nil }
        return try TopicPartitionStateZNode.decode(tp, data, zkVersion: stat.version)
    }

    /// Reads many state znodes at once; the requests are pipelined on the session.
    public func getPartitionStates(_ partitions: [TopicPartition]) async throws -> [TopicPartition: LeaderAndIsr] {
        try await withThrowingTaskGroup(of: (TopicPartition, LeaderAndIsr?).self) { group in
            for tp in partitions { group.addTask { (tp, try await self.getPartitionState(tp)) } }
            var result: [TopicPartition: LeaderAndIsr] = [:]
            for try await (tp, state) in group { if let state { result[tp] = state } }
            return result
        }
    }

    public func getTopicConfig(_ topic: String) async throws -> [String: String] {
        let path = ConfigEntityZNode.topicPath(topic)
        guard let (data, _) = try await read(path) else { return [:] }
        return try ConfigEntityZNode.decode(data, path: path)
    }

    public func getEntityConfig(type: String, name: String) async throws -> [String: String] {
        let path = ConfigEntityZNode.path(type: type, name: name)
        guard let (data, _) = try await read(path) else { return [:] }
        return try ConfigEntityZNode.decode(data, path: path)
    }

    /// Writes an entity's config overrides and announces the change under `/config/changes`.
    public func setEntityConfig(type: String, name: String, config: [String: String]) async throws {
        let path = ConfigEntityZNode.path(type: type, name: name)
        do {
            try await zooKeeper.setData(path, data: ConfigEntityZNode.encode(config))
        } catch ZooKeeperError.noNode {
            try await createRecursive(path, data: ConfigEntityZNode.encode(config))
        }
        try await zooKeeper.create(
            ConfigChangeNotificationZNode.prefix, data: ConfigChangeNotificationZNode.encode(entityPath: "\(type)/\(name)"),
            acl: acl, mode: .persistentSequential)
    }

    /// Creates a topic as `AdminZkClient.createTopicWithAssignment` does: its config first, then its
    /// assignment, whose appearance the controller reacts to.
    public func createTopic(_ topic: String, assignment: TopicAssignment, config: [String: String]) async throws {
        guard TopicPartition.isLegalTopicName(topic) else {
            throw CoordinationError.invalidRequest(
                "Topic name '\(topic)' is illegal: it must be 1 to 249 characters of ASCII letters, digits, '.', '_' and '-', and not '.' or '..'")
        }
        if try await zooKeeper.exists(TopicZNode.path(topic)).stat != nil {
            throw CoordinationError.invalidRequest("Topic '\(topic)' already exists.")
        }
        let configPath = ConfigEntityZNode.topicPath(topic)
        do {
            try await zooKeeper.setData(configPath, data: ConfigEntityZNode.encode(config))
        } catch ZooKeeperError.noNode {
            try await createRecursive(configPath, data: ConfigEntityZNode.encode(config))
        }
        do {
            try await zooKeeper.create(TopicZNode.path(topic), data: TopicZNode.encode(assignment), acl: acl)
        } catch ZooKeeperError.nodeExists {
            throw CoordinationError.invalidRequest("Topic '\(topic)' already exists.")
        }
    }

    /// Adds partitions to a topic (never removes any), with compare-and-set on the assignment.
    public func addPartitions(_ topic: String, newAssignment: TopicAssignment, expectedVersion: Int32) async throws {
        try await zooKeeper.setData(TopicZNode.path(topic), data: TopicZNode.encode(newAssignment), version: expectedVersion)
    }

    /// Queues a topic for deletion by the controller.
    public func markTopicForDeletion(_ topic: String) async throws {
        do {
            try await zooKeeper.create(DeleteTopicsZNode.path(topic), acl: acl)
        } catch ZooKeeperError.nodeExists {}
    }

    /// Announces partitions whose ISR the leader changed (`/isr_change_notification`).
    public func writeIsrChangeNotification(_ partitions: [TopicPartition]) async throws {
        try await zooKeeper.create(
            IsrChangeNotificationZNode.prefix, data: IsrChangeNotificationZNode.encode(partitions), acl: acl,
            mode: .persistentSequential)
    }

    /// Takes the next block of producer ids with compare-and-set on `/latest_producer_id_block`.
    public func allocateProducerIdBlock(brokerID: Int32) async throws -> ProducerIdBlock {
        for _ in 0..<100 {
            try await createRecursive(ProducerIdBlockZNode.path)
            let (data, stat, _) = try await zooKeeper.getData(ProducerIdBlockZNode.path)
            let start = try ProducerIdBlockZNode.decode(data).map { $0.end + 1 } ?? 0
            let block = ProducerIdBlock(brokerID: brokerID, start: start, end: start + ProducerIdBlockZNode.blockSize - 1)
            do {
                try await zooKeeper.setData(ProducerIdBlockZNode.path, data: ProducerIdBlockZNode.encode(block), version: stat.version)
                return block
            } catch ZooKeeperError.badVersion {
                continue  // another broker took this block; read again
            }
        }
        throw CoordinationError.invalidRequest("could not allocate a producer id block after 100 attempts")
    }
}
