import KafkaClient
import Synchronization
import TestSupport
import Testing

/// `odradek topics` runs (everything but the command-line parsing) against three real brokers,
/// checking the exact lines kafka-topics.sh prints.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct TopicsCommandBrokerTests {
    /// Runs one command; returns its stdout lines, or the failure.
    func topics(_ cluster: ClientTestCluster, _ configure: (inout TopicCommand.Options) -> Void) async -> Result<[String], TopicCommand.Failure> {
        var options = TopicCommand.Options()
        options.bootstrapServer = cluster.bootstrap
        configure(&options)
        let lines = Mutex<[String]>([])
        do {
            try options.validate()
            let admin = try KafkaAdmin(bootstrapServers: options.bootstrapServer ?? "")
            defer { Task { await admin.close() } }
            try await TopicCommand.run(options, admin: admin) { line in lines.withLock { $0.append(line) } }
        } catch let failure as TopicCommand.Failure {
            return .failure(failure)
        } catch {
            return .failure(.execution("\(error)"))
        }
        return .success(lines.withLock { $0 })
    }

    @Test func createListDescribeAlterDelete() async throws {
        let cluster = try await ClientTestCluster(brokers: 3)

        #expect(
            await topics(cluster) { $0.create = true; $0.topic = "orders"; $0.replicaAssignment = "0:1,1:2,2:0" }
                == .success(["Created topic orders."]))
        #expect(
            await topics(cluster) {
                $0.create = true; $0.topic = "pay_ments.eu"; $0.partitions = 1; $0.replicationFactor = 3
                $0.configs = ["retention.ms=86400000", "min.insync.replicas = 2"]
            }
                == .success([TopicCommand.collisionWarning, "Created topic pay_ments.eu."]))
        #expect(
            await topics(cluster) { $0.create = true; $0.topic = "orders"; $0.partitions = 1 }
                == .failure(.execution("Topic 'orders' already exists.")))
        #expect(await topics(cluster) { $0.create = true; $0.topic = "orders"; $0.ifNotExists = true } == .success([]))
        #expect(
            await topics(cluster) { $0.create = true; $0.topic = "big"; $0.replicationFactor = 4 }
                == .failure(.execution("Replication factor: 4 larger than available brokers: 3.")))
        #expect(
            await topics(cluster) { $0.create = true; $0.topic = "zero"; $0.partitions = 0 }
                == .failure(.execution("The partitions must be greater than 0")))

        #expect(await topics(cluster) { $0.list = true } == .success(["orders\npay_ments.eu"]))
        #expect(await topics(cluster) { $0.list = true; $0.topic = "pay.*" } == .success(["pay_ments.eu"]))

        // Leaders settle once the controller's LeaderAndIsr has reached every broker.
        let expectedOrders = [
            "Topic: orders\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: ",
            "\tTopic: orders\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1",
            "\tTopic: orders\tPartition: 1\tLeader: 1\tReplicas: 1,2\tIsr: 1,2",
            "\tTopic: orders\tPartition: 2\tLeader: 2\tReplicas: 2,0\tIsr: 2,0",
        ]
        try await eventually { await topics(cluster) { $0.describe = true; $0.topic = "orders" } == .success(expectedOrders) }
        #expect(await topics(cluster) { $0.describe = true; $0.topic = "orders" } == .success(expectedOrders))

        let payments = try await topics(cluster) { $0.describe = true; $0.topic = "pay_ments\\.eu" }.get()
        #expect(payments.count == 2)
        #expect(
            payments.first
                == "Topic: pay_ments.eu\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: min.insync.replicas=2,retention.ms=86400000"
        )
        #expect(await topics(cluster) { $0.describe = true; $0.topicsWithOverrides = true } == .success([payments[0]]))
        #expect(await topics(cluster) { $0.describe = true; $0.underReplicatedPartitions = true } == .success([]))
        #expect(await topics(cluster) { $0.describe = true; $0.unavailablePartitions = true } == .success([]))
        // orders has min.insync.replicas 1 and ISRs of two; pay_ments.eu 2 and three.
        #expect(await topics(cluster) { $0.describe = true; $0.atMinIsrPartitions = true } == .success([]))
        #expect(await topics(cluster) { $0.describe = true; $0.underMinIsrPartitions = true } == .success([]))

        #expect(
            await topics(cluster) { $0.describe = true; $0.topic = "nope" }
                == .failure(.execution("Topic 'nope' does not exist as expected")))
        #expect(await topics(cluster) { $0.describe = true; $0.topic = "nope"; $0.ifExists = true } == .success([]))

        #expect(
            await topics(cluster) { $0.alter = true; $0.topic = "orders"; $0.partitions = 4; $0.replicaAssignment = "0:1,1:2,2:0,1:0" }
                == .success([]))
        try await eventually {
            let lines = try await topics(cluster) { $0.describe = true; $0.topic = "orders" }.get()
            return lines.last == "\tTopic: orders\tPartition: 3\tLeader: 1\tReplicas: 1,0\tIsr: 1,0"
        }
        let shrink = await topics(cluster) { $0.alter = true; $0.topic = "orders"; $0.partitions = 2 }
        #expect(throws: TopicCommand.Failure.self) { try shrink.get() }
        #expect(
            await topics(cluster) { $0.alter = true; $0.topic = "nope"; $0.partitions = 2 }
                == .failure(.execution("Topic 'nope' does not exist as expected")))

        #expect(await topics(cluster) { $0.delete = true; $0.topic = "pay.*,orders" } == .success([]))
        try await eventually { await topics(cluster) { $0.list = true } == .success([""]) }
        #expect(
            await topics(cluster) { $0.delete = true; $0.topic = "orders" }
                == .failure(.execution("Topic 'orders' does not exist as expected")))
        #expect(await topics(cluster) { $0.delete = true; $0.topic = "orders"; $0.ifExists = true } == .success([]))

        await cluster.stop()
    }

    @Test func unreachableBootstrapServer() async throws {
        var options = TopicCommand.Options()
        options.list = true
        options.bootstrapServer = "127.0.0.1:\(try freePort())"
        let admin = try KafkaAdmin(bootstrapServers: options.bootstrapServer ?? "")
        do {
            try await TopicCommand.run(options, admin: admin) { _ in }
            Issue.record("listed topics without a broker")
        } catch {
            #expect(error.kind == .execution)
            #expect(TopicCommand.line(error).hasPrefix("Error while executing topic command : connection to 127.0.0.1:"))
            #expect(TopicCommand.line(error).hasSuffix("refused: no Kafka broker listens there; check --bootstrap-server"))
        }
    }
}
