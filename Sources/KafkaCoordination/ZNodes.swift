import Foundation
import KafkaModel

// Kafka's znode layout (ZkData.scala), one type per znode family: its path, and how its content is
// encoded and decoded. Paths are relative to the chroot in `zookeeper.connect`.

/// Persistent paths every broker creates at start-up (`ZkData.PersistentZkPaths`).
public enum PersistentZNodes {
    public static let paths = [
        "/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics", "/brokers/seqid",
        "/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification",
        "/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips",
    ]
}

/// `/cluster/id`: `{"version":"1","id":"<22-char base64 uuid>"}` (version is a string, as Kafka writes it).
public enum ClusterIdZNode {
    public static let path = "/cluster/id"
    public static func encode(_ id: String) -> [UInt8] { ZNodeJSON.encode(["version": "1", "id": id]) }
    public static func decode(_ bytes: [UInt8]) throws -> String {
        guard let id = try ZNodeJSON.decode(bytes, path: path).string("id") else {
            throw CoordinationError.malformed(path: path, detail: "no id")
        }
        return id
    }
}

/// `/controller` (ephemeral): `{"version":1,"brokerid":1,"timestamp":"1650000000000"}`.
public enum ControllerZNode {
    public static let path = "/controller"
    public static func encode(brokerID: Int32, timestamp: Int64) -> [UInt8] {
        ZNodeJSON.encode(["version": 1, "brokerid": Int(brokerID), "timestamp": String(timestamp)])
    }
    public static func decode(_ bytes: [UInt8]) throws -> Int32 {
        guard let id = try ZNodeJSON.decode(bytes, path: path).int("brokerid") else {
            throw CoordinationError.malformed(path: path, detail: "no brokerid")
        }
        return Int32(id)
    }
}

/// `/controller_epoch`: the epoch as plain decimal text, e.g. `12`.
public enum ControllerEpochZNode {
    public static let path = "/controller_epoch"
    public static func encode(_ epoch: Int32) -> [UInt8] { Array(String(epoch).utf8) }
    public static func decode(_ bytes: [UInt8]) throws -> Int32 {
        guard let epoch = Int32(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)) else {
            throw CoordinationError.malformed(path: path, detail: "not a number")
        }
        return epoch
    }
}

/// A listener a broker serves: `LISTENER_NAME://host:port` with its security protocol.
public struct BrokerEndpoint: Sendable, Hashable {
    public var listenerName: String
    public var host: String
    public var port: Int32
    public var securityProtocol: String

    public init(listenerName: String, host: String, port: Int32, securityProtocol: String = "PLAINTEXT") {
        self.listenerName = listenerName
        self.host = host
        self.port = port
        self.securityProtocol = securityProtocol
    }

    public var connectionString: String { "\(listenerName)://\(host):\(port)" }
}

/// What a broker registers about itself.
public struct BrokerInfo: Sendable, Hashable {
    public var id: Int32
    public var endpoints: [BrokerEndpoint]
    public var rack: String?
    public var timestamp: Int64
    /// The czxid of the registration znode: the broker epoch (KIP-380). 0 until registered.
    public var epoch: Int64 = 0

    public init(id: Int32, endpoints: [BrokerEndpoint], rack: String? = nil, timestamp: Int64, epoch: Int64 = 0) {
        self.id = id
        self.endpoints = endpoints
        self.rack = rack
        self.timestamp = timestamp
        self.epoch = epoch
    }
}

/// `/brokers/ids/<id>` (ephemeral), registration JSON version 5.
public enum BrokerIdZNode {
    public static let parent = "/brokers/ids"
    public static func path(_ id: Int32) -> String { "\(parent)/\(id)" }

    public static func encode(_ info: BrokerInfo) -> [UInt8] {
        let plaintext = info.endpoints.first { $0.securityProtocol == "PLAINTEXT" }
        var object: [String: Any] = [
            "version": 5,
            // host/port: the first PLAINTEXT endpoint, for pre-0.10 readers.
            "host": plaintext.map { $0.host as Any } ?? NSNull(),
            "port": Int(plaintext?.port ?? -1),
            "endpoints": info.endpoints.map(\.connectionString),
            "listener_security_protocol_map": Dictionary(
                info.endpoints.map { ($0.listenerName, $0.securityProtocol) }, uniquingKeysWith: { a, _ in a }),
            "jmx_port": -1,
            "timestamp": String(info.timestamp),
            "features": [String: Any](),
        ]
        if let rack = info.rack { object["rack"] = rack }
        return ZNodeJSON.encode(object)
    }

    public static func decode(id: Int32, _ bytes: [UInt8], epoch: Int64) throws -> BrokerInfo {
        let path = path(id)
        let object = try ZNodeJSON.decode(bytes, path: path)
        let protocols = (object.object("listener_security_protocol_map") as? [String: String]) ?? [:]
        var endpoints: [BrokerEndpoint] = []
        for string in (object["endpoints"] as? [String]) ?? [] {
            guard let endpoint = parseEndpoint(string, protocols: protocols) else {
                throw CoordinationError.malformed(path: path, detail: "bad endpoint '\(string)'")
            }
            endpoints.append(endpoint)
        }
        if endpoints.isEmpty, let host = object.string("host"), let port = object.int("port") {
            endpoints = [BrokerEndpoint(listenerName: "PLAINTEXT", host: host, port: Int32(port))]
        }
        return BrokerInfo(
            id: id, endpoints: endpoints, rack: object.string("rack"), timestamp: object.int64("timestamp") ?? 0, epoch: epoch)
    }

    /// `NAME://host:port`; IPv6 hosts come in brackets.
    static func parseEndpoint(_ string: String, protocols: [String: String]) -> BrokerEndpoint? {
        guard let separator = string.range(of: "://") else { return nil }
        let name = String(string[..<separator.lowerBound])
        let rest = string[separator.upperBound...]
        guard let colon = rest.lastIndex(of: ":"), let port = Int32(rest[rest.index(after: colon)...]) else { return nil }
        var host = String(rest[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return BrokerEndpoint(listenerName: name, host: host, port: port, securityProtocol: protocols[name] ?? name)
    }
}

/// `/brokers/seqid`: only its version is used, as a counter for `broker.id=-1`.
public enum BrokerSequenceIdZNode {
    public static let path = "/brokers/seqid"
}

/// A topic's replica assignment: partition → replicas, in preference order.
public struct TopicAssignment: Sendable, Hashable {
    public var topicID: String
    public var partitions: [Int32: [Int32]]

    public init(topicID: String, partitions: [Int32: [Int32]]) {
        self.topicID = topicID
        self.partitions = partitions
    }
}

/// `/brokers/topics/<topic>`, version 3: `{"version":3,"topic_id":"…","partitions":{"0":[1,2,3]},
/// "adding_replicas":{},"removing_replicas":{}}`.
public enum TopicZNode {
    public static let parent = "/brokers/topics"
    public static func path(_ topic: String) -> String { "\(parent)/\(topic)" }

    public static func encode(_ assignment: TopicAssignment) -> [UInt8] {
        ZNodeJSON.encode([
            "version": 3,
            "topic_id": assignment.topicID,
            "partitions": Dictionary(uniqueKeysWithValues: assignment.partitions.map { (String($0.key), $0.value.map(Int.init)) }),
            "adding_replicas": [String: Any](),
            "removing_replicas": [String: Any](),
        ])
    }

    public static func decode(topic: String, _ bytes: [UInt8]) throws -> TopicAssignment {
        let path = path(topic)
        let object = try ZNodeJSON.decode(bytes, path: path)
        guard let partitions = object.object("partitions") else {
            throw CoordinationError.malformed(path: path, detail: "no partitions")
        }
        var result: [Int32: [Int32]] = [:]
        for (key, value) in partitions {
            guard let partition = Int32(key), let replicas = (value as? [Any])?.compactMap({ ($0 as? NSNumber)?.int32Value }) else {
                throw CoordinationError.malformed(path: path, detail: "bad partition entry '\(key)'")
            }
            result[partition] = replicas
        }
        // Assignments written before topic ids (version 1 and 2) have none; an empty id marks that.
        return TopicAssignment(topicID: object.string("topic_id") ?? "", partitions: result)
    }
}

/// A partition's leader and ISR as the controller (and ISR changes by the leader) record them.
public struct LeaderAndIsr: Sendable, Hashable {
    public static let noLeader: Int32 = -1
    /// The leader the controller announces for a topic being deleted (Kafka's `LeaderDuringDelete`).
    public static let leaderDuringDelete: Int32 = -2

    public var leader: Int32
    public var leaderEpoch: Int32
    public var isr: [Int32]
    public var controllerEpoch: Int32
    /// The state znode's version: the compare-and-set token (the "partition epoch").
    public var zkVersion: Int32

    public init(leader: Int32, leaderEpoch: Int32, isr: [Int32], controllerEpoch: Int32, zkVersion: Int32 = 0) {
        self.leader = leader
        self.leaderEpoch = leaderEpoch
        self.isr = isr
        self.controllerEpoch = controllerEpoch
        self.zkVersion = zkVersion
    }
}

/// `/brokers/topics/<t>/partitions/<p>/state`:
/// `{"controller_epoch":12,"leader":1,"version":1,"leader_epoch":7,"isr":[1,2,3]}`.
public enum TopicPartitionStateZNode {
    public static func partitionsPath(_ topic: String) -> String { "\(TopicZNode.path(topic))/partitions" }
    public static func partitionPath(_ tp: TopicPartition) -> String { "\(partitionsPath(tp.topic))/\(tp.partition)" }
    public static func path(_ tp: TopicPartition) -> String { "\(partitionPath(tp))/state" }

    public static func encode(_ state: LeaderAndIsr) -> [UInt8] {
        ZNodeJSON.encode([
            "version": 1, "controller_epoch": Int(state.controllerEpoch), "leader": Int(state.leader),
            "leader_epoch": Int(state.leaderEpoch), "isr": state.isr.map(Int.init),
        ])
    }

    public static func decode(_ tp: TopicPartition, _ bytes: [UInt8], zkVersion: Int32) throws -> LeaderAndIsr {
        let path = path(tp)
        let object = try ZNodeJSON.decode(bytes, path: path)
        guard let leader = object.int("leader"), let epoch = object.int("leader_epoch"), let isr = object.ints("isr"),
            let controllerEpoch = object.int("controller_epoch")
        else { throw CoordinationError.malformed(path: path, detail: "missing leader, leader_epoch, isr or controller_epoch") }
        return LeaderAndIsr(
            leader: Int32(leader), leaderEpoch: Int32(epoch), isr: isr, controllerEpoch: Int32(controllerEpoch), zkVersion: zkVersion)
    }
}

/// `/admin/delete_topics/<topic>`: an empty marker asking the controller to delete the topic.
public enum DeleteTopicsZNode {
    public static let path = "/admin/delete_topics"
    public static func path(_ topic: String) -> String { "\(path)/\(topic)" }
}

/// `/admin/reassign_partitions`: `{"version":1,"partitions":[{"topic":"foo","partition":0,"replicas":[4,5,6]}]}`.
public enum ReassignPartitionsZNode {
    public static let path = "/admin/reassign_partitions"
    public static func encode(_ reassignments: [TopicPartition: [Int32]]) -> [UInt8] {
        ZNodeJSON.encode([
            "version": 1,
            "partitions": reassignments.sorted { $0.key < $1.key }.map {
                ["topic": $0.key.topic, "partition": Int($0.key.partition), "replicas": $0.value.map(Int.init)] as [String: Any]
            },
        ])
    }
    public static func decode(_ bytes: [UInt8]) throws -> [TopicPartition: [Int32]] {
        let object = try ZNodeJSON.decode(bytes, path: path)
        var result: [TopicPartition: [Int32]] = [:]
        for entry in (object["partitions"] as? [[String: Any]]) ?? [] {
            guard let topic = entry.string("topic"), let partition = entry.int("partition"), let replicas = entry.ints("replicas") else {
                throw CoordinationError.malformed(path: path, detail: "bad entry")
            }
            result[TopicPartition(topic: topic, partition: Int32(partition))] = replicas
        }
        return result
    }
}

/// `/config/<type>/<name>`: `{"version":1,"config":{"retention.ms":"86400000"}}` (values are strings).
public enum ConfigEntityZNode {
    public static func path(type: String, name: String) -> String { "/config/\(type)/\(name)" }
    public static func topicPath(_ topic: String) -> String { path(type: "topics", name: topic) }
    public static func brokerPath(_ id: Int32) -> String { path(type: "brokers", name: String(id)) }

    public static func encode(_ config: [String: String]) -> [UInt8] {
        ZNodeJSON.encode(["version": 1, "config": config])
    }
    public static func decode(_ bytes: [UInt8], path: String) throws -> [String: String] {
        if bytes.isEmpty { return [:] }
        let object = try ZNodeJSON.decode(bytes, path: path)
        return (object.object("config") ?? [:]).compactMapValues { $0 as? String }
    }
}

/// `/config/changes/config_change_<seq>`: `{"version":2,"entity_path":"topics/foo"}`.
public enum ConfigChangeNotificationZNode {
    public static let parent = "/config/changes"
    public static let prefix = "\(parent)/config_change_"
    public static func encode(entityPath: String) -> [UInt8] { ZNodeJSON.encode(["version": 2, "entity_path": entityPath]) }
    public static func decode(_ bytes: [UInt8], path: String) throws -> String {
        guard let entity = try ZNodeJSON.decode(bytes, path: path).string("entity_path") else {
            throw CoordinationError.malformed(path: path, detail: "no entity_path")
        }
        return entity
    }
}

/// `/isr_change_notification/isr_change_<seq>`:
/// `{"version":1,"partitions":[{"topic":"foo","partition":0}]}`.
public enum IsrChangeNotificationZNode {
    public static let parent = "/isr_change_notification"
    public static let prefix = "\(parent)/isr_change_"
    public static func encode(_ partitions: [TopicPartition]) -> [UInt8] {
        ZNodeJSON.encode([
            "version": 1,
            "partitions": partitions.sorted().map { ["topic": $0.topic, "partition": Int($0.partition)] as [String: Any] },
        ])
    }
    public static func decode(_ bytes: [UInt8], path: String) throws -> [TopicPartition] {
        let object = try ZNodeJSON.decode(bytes, path: path)
        return ((object["partitions"] as? [[String: Any]]) ?? []).compactMap { entry in
            guard let topic = entry.string("topic"), let partition = entry.int("partition") else { return nil }
            return TopicPartition(topic: topic, partition: Int32(partition))
        }
    }
}

/// A block of producer ids, `[start, end]`.
public struct ProducerIdBlock: Sendable, Hashable {
    public var brokerID: Int32
    public var start: Int64
    public var end: Int64

    public init(brokerID: Int32, start: Int64, end: Int64) {
        self.brokerID = brokerID
        self.start = start
        self.end = end
    }
}

/// `/latest_producer_id_block`: `{"version":1,"broker":1,"block_start":"0","block_end":"999"}` (strings).
public enum ProducerIdBlockZNode {
    public static let path = "/latest_producer_id_block"
    public static let blockSize: Int64 = 1000

    public static func encode(_ block: ProducerIdBlock) -> [UInt8] {
        ZNodeJSON.encode([
            "version": 1, "broker": Int(block.brokerID), "block_start": String(block.start), "block_end": String(block.end),
        ])
    }
    public static func decode(_ bytes: [UInt8]) throws -> ProducerIdBlock? {
        if bytes.isEmpty { return nil }
        let object = try ZNodeJSON.decode(bytes, path: path)
        guard let broker = object.int("broker"), let start = object.int64("block_start"), let end = object.int64("block_end") else {
            throw CoordinationError.malformed(path: path, detail: "missing broker, block_start or block_end")
        }
        return ProducerIdBlock(brokerID: Int32(broker), start: start, end: end)
    }
}
