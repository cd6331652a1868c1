import Foundation
import KafkaBroker
import KafkaClient
import KafkaConfig
import KafkaModel
import KafkaProtocol
import Logging
import TestSupport
import Testing

/// Real ZooKeeper and real brokers in this process, configured as `odradek server` configures them
/// (server.properties keys through KafkaConfig), for the client and `odradek topics` tests.
final class ClientTestCluster: @unchecked Sendable {
    let zooKeeper: ZooKeeperEnsemble
    let directory: URL
    private(set) var servers: [KafkaServer] = []
    private(set) var ports: [Int] = []

    static let logger: Logger = {
        var logger = Logger(label: "client-tests")
        logger.logLevel = .warning
        return logger
    }()

    init(brokers: Int, properties: [String: String] = [:]) async throws {
        zooKeeper = try ZooKeeperEnsemble()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString.prefix(8))")
        for id in 0..<brokers {
            let port = try freePort()
            var values = [
                "broker.id": "\(id)",
                "listeners": "PLAINTEXT://127.0.0.1:\(port)",
                "log.dirs": directory.appendingPathComponent("broker-\(id)").path,
                "zookeeper.connect": zooKeeper.connectString(),
                "zookeeper.session.timeout.ms": "6000",
                "auto.create.topics.enable": "false",
            ]
            values.merge(properties) { _, given in given }
            let settings = try BrokerSettings(config: try BrokerConfig(properties: values))
            servers.append(try await KafkaServer.start(settings: settings, logger: Self.logger))
            ports.append(port)
        }
        try await waitUntilAllBrokersAreKnown()
    }

    var bootstrap: String { ports.map { "127.0.0.1:\($0)" }.joined(separator: ",") }

    /// Every broker answers Metadata with every broker and a controller (start-up is asynchronous).
    private func waitUntilAllBrokersAreKnown() async throws {
        var seen: [String] = []
        for _ in 0..<100 {
            seen = []
            for port in ports {
                let admin = KafkaAdmin(bootstrapServers: [BrokerAddress(host: "127.0.0.1", port: port)])
                let metadata = try? await admin.metadata(topics: [])
                await admin.close()
                let brokers = metadata.map { $0.brokers.map(\.nodeId).sorted() } ?? []
                if brokers.count != ports.count || (metadata?.controllerId ?? -1) < 0 {
                    seen.append("port \(port): brokers \(brokers), controller \(metadata?.controllerId ?? -1)")
                }
            }
            if seen.isEmpty { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the brokers did not all see each other and a controller within 10 s: \(seen)")
    }

    func stop() async {
        for server in servers { await server.shutdown() }
        servers = []
        zooKeeper.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite(.serialized, .timeLimit(.minutes(3)))
struct ClientBrokerTests {
    @Test func negotiatesAndPipelinesAgainstTheBroker() async throws {
        let cluster = try await ClientTestCluster(brokers: 1)
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: cluster.ports[0])
        #expect(connection.apiVersionsVersion == 3)
        #expect(connection.apiVersions[.apiVersions] == 0...3)
        let metadataRange = try #require(connection.apiVersions[.metadata])
        #expect(try connection.version(for: MetadataRequest.self) == metadataRange.upperBound)
        #expect(try connection.version(for: MetadataRequest.self, within: 0...1) == 1)

        // Fifty requests in flight on one connection, at mixed versions: each gets its own answer.
        let answers = try await withThrowingTaskGroup(of: (Int16, MetadataResponse).self) { group in
            for index in 0..<50 {
                let version = Int16(1 + index % Int(metadataRange.upperBound))
                group.addTask { (version, try await connection.send(MetadataRequest(topics: []), version: version)) }
            }
            var all: [(Int16, MetadataResponse)] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == 50)
        for (_, response) in answers {
            #expect(response.brokers.map(\.port) == [Int32(cluster.ports[0])])
            #expect(response.controllerId == 0)
        }
        await connection.close()
        await #expect(throws: KafkaClientError.self) { try await connection.send(MetadataRequest(), version: 1) }
        await cluster.stop()
    }

    @Test func adminCallsGoToTheControllerAndLeaders() async throws {
        let cluster = try await ClientTestCluster(brokers: 3)
        // Bootstrap from one broker only: the controller and the leaders are found through metadata.
        let admin = try KafkaAdmin(bootstrapServers: "127.0.0.1:\(cluster.ports[2])")

        let created = try await admin.createTopics([
            .init(
                name: "events", numPartitions: 4, replicationFactor: 2,
                configs: [.init(name: "retention.ms", value: "3600000")]),
            .init(
                name: "placed", numPartitions: -1, replicationFactor: -1,
                assignments: [.init(partitionIndex: 0, brokerIds: [2, 1]), .init(partitionIndex: 1, brokerIds: [1, 0])]),
        ])
        #expect(created.topics.map(\.errorCode) == [0, 0], "\(created)")

        let again = try await admin.createTopics([.init(name: "events", numPartitions: 1, replicationFactor: 1)])
        #expect(again.topics.first?.errorCode == KafkaErrorCode.topicAlreadyExists.rawValue)

        let metadata = try await admin.metadata(topics: ["events", "placed"])
        let events = try #require(metadata.topics.first { $0.name == "events" })
        #expect(events.partitions.count == 4)
        #expect(events.partitions.allSatisfy { $0.replicaNodes.count == 2 && $0.leaderId >= 0 })
        let placed = try #require(metadata.topics.first { $0.name == "placed" })
        #expect(placed.partitions.sorted { $0.partitionIndex < $1.partitionIndex }.map(\.replicaNodes) == [[2, 1], [1, 0]])
        #expect(await admin.brokers.count == 3)

        let configs = try await admin.describeTopicConfigs(["events"])
        let retention = try #require(configs["events"]?.configs.first { $0.name == "retention.ms" })
        #expect(retention.value == "3600000")
        #expect(!retention.isDefault)
        #expect(retention.configSource == ConfigSource.dynamicTopicConfig.rawValue)
        let segment = try #require(configs["events"]?.configs.first { $0.name == "segment.ms" })
        #expect(segment.isDefault)

        let altered = try await admin.incrementalAlterConfigs([
            .init(
                resourceType: ConfigResourceType.topic.rawValue, resourceName: "events",
                configs: [.init(name: "cleanup.policy", configOperation: AlterConfigOperation.set.rawValue, value: "compact")])
        ])
        #expect(altered.responses.map(\.errorCode) == [0], "\(altered)")
        let afterAlter = try await admin.describeTopicConfigs(["events"])
        #expect(afterAlter["events"]?.configs.first { $0.name == "cleanup.policy" }?.value == "compact")
        #expect(afterAlter["events"]?.configs.first { $0.name == "retention.ms" }?.value == "3600000")

        let grown = try await admin.createPartitions([.init(name: "events", count: 6, assignments: nil)])
        #expect(grown.results.map(\.errorCode) == [0], "\(grown)")
        let shrink = try await admin.createPartitions([.init(name: "events", count: 2, assignments: nil)])
        #expect(shrink.results.first?.errorCode == KafkaErrorCode.invalidPartitions.rawValue)

        // ListOffsets goes to each partition's leader; a new topic is empty.
        let partitions = (0..<6).map { TopicPartition(topic: "events", partition: Int32($0)) }
        try await eventually {
            let latest = try await admin.listOffsets(partitions, timestamp: KafkaAdmin.latestTimestamp)
            return latest.count == 6 && latest.values.allSatisfy { $0.errorCode == 0 && $0.offset == 0 }
        }
        let missing = try await admin.listOffsets([TopicPartition(topic: "nope", partition: 0)])
        #expect(missing.values.first?.errorCode == KafkaErrorCode.unknownTopicOrPartition.rawValue)

        let deleted = try await admin.deleteTopics(["events", "placed", "nope"])
        let codes = Dictionary(deleted.responses.map { ($0.name ?? "", $0.errorCode) }, uniquingKeysWith: { first, _ in first })
        #expect(codes == ["events": 0, "placed": 0, "nope": KafkaErrorCode.unknownTopicOrPartition.rawValue])
        try await eventually { try await admin.metadata(topics: nil).topics.isEmpty }

        await admin.close()
        await cluster.stop()
    }

    @Test func aStoppedBrokerIsReportedByAddress() async throws {
        let cluster = try await ClientTestCluster(brokers: 1)
        let port = cluster.ports[0]
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: port)
        await cluster.stop()
        do {
            _ = try await connection.send(MetadataRequest(topics: []), version: 1)
            Issue.record("a stopped broker answered")
        } catch let error as KafkaClientError {
            #expect(error.kind == .connectionClosed)
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
        do {
            _ = try await KafkaAdmin(bootstrapServers: "127.0.0.1:\(port)").metadata()
            Issue.record("connected to a stopped broker")
        } catch let error as KafkaClientError {
            #expect(error.kind == .connectionRefused)
            #expect(error.message == "connection to 127.0.0.1:\(port) refused: no Kafka broker listens there; check --bootstrap-server")
        }
    }
}

/// Retries `condition` for up to 10 s (metadata reaches every broker asynchronously).
func eventually(_ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    for _ in 0..<100 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(100))
    }
    Issue.record("condition not met within 10 s", sourceLocation: sourceLocation)
}
