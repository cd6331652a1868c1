import KafkaClient
import KafkaProtocol
import Testing

// kafka-topics.sh's argument checks, value parsing and output lines, without a broker. Expected
// orders of Java HashMaps were printed by OpenJDK 17 (`new HashMap<>()` / `new HashMap<>(n)`, keySet).

@Suite struct TopicsCommandFormattingTests {
    func options(_ configure: (inout TopicCommand.Options) -> Void) -> TopicCommand.Options {
        var options = TopicCommand.Options()
        options.bootstrapServer = "localhost:9092"
        configure(&options)
        return options
    }

    func usageMessage(_ options: TopicCommand.Options) -> String? {
        do {
            try options.validate()
            return nil
        } catch {
            #expect(error.kind == .usage)
            return error.message
        }
    }

    @Test func validatesLikeKafka() {
        #expect(
            usageMessage(options { _ in })
                == "Command must include exactly one action: --list, --describe, --create, --alter or --delete")
        #expect(
            usageMessage(options { $0.list = true; $0.describe = true })
                == "Command must include exactly one action: --list, --describe, --create, --alter or --delete")
        #expect(usageMessage(options { $0.list = true; $0.bootstrapServer = nil }) == "--bootstrap-server must be specified")
        #expect(usageMessage(options { $0.list = true }) == nil)
        #expect(usageMessage(options { $0.describe = true }) == nil)
        #expect(usageMessage(options { $0.create = true }) == "Missing required argument \"[topic]\"")
        #expect(usageMessage(options { $0.delete = true }) == "Missing required argument \"[topic]\"")
        #expect(usageMessage(options { $0.alter = true; $0.topic = "t" }) == "Missing required argument \"[partitions]\"")
        #expect(
            usageMessage(options { $0.alter = true; $0.topic = "t"; $0.partitions = 3; $0.configs = ["a=b"] })
                == "Option combination \"[bootstrap-server],[config]\" can't be used with option \"[alter]\" (To alter topic configurations, the kafka-configs tool can be used.)"
        )
        #expect(
            usageMessage(options { $0.describe = true; $0.ifExists = true })
                == "--topic or --topic-id is required to describe a topic")
        #expect(
            usageMessage(options { $0.list = true; $0.configs = ["a=b"] })
                == "Option \"[config]\" can't be used with option \"[list]\"")
        #expect(
            usageMessage(options { $0.describe = true; $0.partitions = 2 })
                == "Option \"[partitions]\" can't be used with option \"[describe]\"")
        #expect(
            usageMessage(options { $0.alter = true; $0.topic = "t"; $0.partitions = 2; $0.replicationFactor = 2 })
                == "Option \"[replication-factor]\" can't be used with option \"[alter]\"")
        #expect(
            usageMessage(options { $0.create = true; $0.topic = "t"; $0.replicaAssignment = "1:2"; $0.partitions = 2 })
                == "Option \"[replica-assignment]\" can't be used with option \"[partitions]\"")
        #expect(
            usageMessage(options { $0.describe = true; $0.underReplicatedPartitions = true; $0.topicsWithOverrides = true })
                == "Option \"[under-replicated-partitions]\" can't be used with option \"[topics-with-overrides]\"")
        #expect(
            usageMessage(options { $0.list = true; $0.unavailablePartitions = true })
                == "Option \"[unavailable-partitions]\" can't be used with option \"[list]\"")
        #expect(
            usageMessage(options { $0.create = true; $0.topic = "t"; $0.ifExists = true })
                == "Option \"[if-exists]\" can't be used with option \"[create]\"")
        #expect(
            usageMessage(options { $0.delete = true; $0.topic = "t"; $0.ifNotExists = true })
                == "Option \"[if-not-exists]\" can't be used with option \"[delete]\"")
        #expect(
            usageMessage(options { $0.delete = true; $0.topic = "t"; $0.excludeInternal = true })
                == "Option \"[exclude-internal]\" can't be used with option \"[delete]\"")
        #expect(usageMessage(options { $0.describe = true; $0.atMinIsrPartitions = true; $0.underMinIsrPartitions = true }) == nil)
        #expect(usageMessage(options { $0.create = true; $0.topic = "t"; $0.partitions = 3; $0.replicationFactor = 1; $0.configs = ["a=b"]; $0.ifNotExists = true }) == nil)
    }

    @Test func parsesReplicaAssignments() throws {
        #expect(try TopicCommand.parseReplicaAssignment("1:2, 2:3 ,3 : 1") == [[1, 2], [2, 3], [3, 1]])
        #expect(try TopicCommand.parseReplicaAssignment("0") == [[0]])
        #expect(throws: TopicCommand.Failure.execution("Partition replica lists may not contain duplicate entries: 1")) {
            try TopicCommand.parseReplicaAssignment("1:2,1:1")
        }
        #expect(throws: TopicCommand.Failure.execution("Partition 1 has different replication factor: [2, 3, 1]")) {
            try TopicCommand.parseReplicaAssignment("1:2,2:3:1")
        }
        #expect(throws: TopicCommand.Failure.execution("For input string: \"x\"")) {
            try TopicCommand.parseReplicaAssignment("1:x")
        }
    }

    @Test func parsesConfigs() throws {
        let parsed = try TopicCommand.parseConfigs(["retention.ms = 1000", "cleanup.policy=compact"])
        #expect(parsed.map(\.name) == ["retention.ms", "cleanup.policy"])
        #expect(parsed.map(\.value) == ["1000", "compact"])
        let message = "requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\"."
        for bad in ["retention.ms", "retention.ms=", "a=b=c"] {
            #expect(throws: TopicCommand.Failure.execution(message)) { try TopicCommand.parseConfigs([bad]) }
        }
    }

    @Test func filtersTopicsAsAnIncludeList() throws {
        let names = ["orders", "orders.eu", "ordersX", "payments", "__consumer_offsets"]
        func matching(_ pattern: String) throws -> [String] {
            let filter = try TopicCommand.TopicFilter(pattern)
            return names.filter(filter.allows)
        }
        #expect(try matching("orders") == ["orders"])
        #expect(try matching("orders.*") == ["orders", "orders.eu", "ordersX"])
        #expect(try matching("orders\\..*") == ["orders.eu"])
        #expect(try matching("orders, payments") == ["orders", "payments"])
        #expect(try matching("\"payments\"") == ["payments"])
        #expect(try matching("__.*") == ["__consumer_offsets"])
        #expect(throws: TopicCommand.Failure.execution("orders( is an invalid regex.")) { try matching("orders(") }
    }

    @Test func formatsTopicAndPartitionLines() throws {
        let id = try #require(KafkaUUID("q1y2kY3dQ2GkqXj4l1m2nA"))
        #expect(
            TopicCommand.topicLine(
                topic: "orders", topicId: id, partitionCount: 2, replicationFactor: 3,
                configs: "min.insync.replicas=2,retention.ms=86400000")
                == "Topic: orders\tTopicId: q1y2kY3dQ2GkqXj4l1m2nA\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: min.insync.replicas=2,retention.ms=86400000"
        )
        #expect(
            TopicCommand.topicLine(topic: "t", topicId: .zero, partitionCount: 1, replicationFactor: 1, configs: "")
                == "Topic: t\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: ")
        let partition = TopicCommand.PartitionDescription(partition: 1, leader: 2, replicas: [2, 3, 1], isr: [2, 3])
        #expect(TopicCommand.partitionLine(topic: "orders", partition) == "\tTopic: orders\tPartition: 1\tLeader: 2\tReplicas: 2,3,1\tIsr: 2,3")
        let leaderless = TopicCommand.PartitionDescription(partition: 0, leader: -1, replicas: [1], isr: [])
        #expect(TopicCommand.partitionLine(topic: "t", leaderless) == "\tTopic: t\tPartition: 0\tLeader: none\tReplicas: 1\tIsr: ")
    }

    @Test func partitionFilters() {
        let healthy = TopicCommand.PartitionDescription(partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2, 3])
        let lagging = TopicCommand.PartitionDescription(partition: 1, leader: 1, replicas: [1, 2, 3], isr: [1, 2])
        let orphan = TopicCommand.PartitionDescription(partition: 2, leader: 4, replicas: [4], isr: [4])
        #expect(!healthy.isUnderReplicated && lagging.isUnderReplicated)
        #expect(lagging.isAtMinIsr(2) && !healthy.isAtMinIsr(2))
        #expect(lagging.isUnderMinIsr(3) && !lagging.isUnderMinIsr(2))
        #expect(orphan.isUnavailable(liveBrokers: [1, 2, 3]) && !healthy.isUnavailable(liveBrokers: [1, 2, 3]))
    }

    @Test func ordersLikeJavaHashMaps() {
        #expect(TopicCommand.javaHashCode("retention.ms") == -1_339_220_362)
        #expect(TopicCommand.javaHashCode("hello") == 99_162_322)
        #expect(
            TopicCommand.javaHashMapOrder(["a", "b.c", "orders", "payments", "zeta"], initialCapacity: 5)
                == ["zeta", "a", "orders", "b.c", "payments"])
        let topicConfigs = [
            "cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms", "flush.messages",
            "flush.ms", "follower.replication.throttled.replicas", "index.interval.bytes",
            "leader.replication.throttled.replicas", "local.retention.bytes", "local.retention.ms",
            "max.compaction.lag.ms", "max.message.bytes", "message.downconversion.enable", "message.format.version",
            "message.timestamp.after.max.ms", "message.timestamp.before.max.ms", "message.timestamp.difference.max.ms",
            "message.timestamp.type", "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas",
            "preallocate", "remote.storage.enable", "retention.bytes", "retention.ms", "segment.bytes",
            "segment.index.bytes", "segment.jitter.ms", "segment.ms", "unclean.leader.election.enable",
        ]
        #expect(
            TopicCommand.javaHashMapOrder(topicConfigs).joined(separator: ",")
                == "compression.type,leader.replication.throttled.replicas,remote.storage.enable,message.downconversion.enable,min.insync.replicas,segment.jitter.ms,local.retention.ms,cleanup.policy,flush.ms,follower.replication.throttled.replicas,retention.ms,segment.bytes,flush.messages,message.format.version,file.delete.delay.ms,max.compaction.lag.ms,max.message.bytes,min.compaction.lag.ms,message.timestamp.type,local.retention.bytes,preallocate,index.interval.bytes,min.cleanable.dirty.ratio,unclean.leader.election.enable,delete.retention.ms,retention.bytes,message.timestamp.after.max.ms,message.timestamp.before.max.ms,segment.ms,message.timestamp.difference.max.ms,segment.index.bytes"
        )
        // The Configs column keeps that order and only the entries that are not defaults.
        let entries = topicConfigs.map { name in
            DescribeConfigsResponse.DescribeConfigsResourceResult(
                name: name, value: name == "retention.ms" ? "86400000" : name == "min.insync.replicas" ? "2" : "x",
                isDefault: !(name == "retention.ms" || name == "min.insync.replicas"))
        }
        #expect(TopicCommand.configsColumn(entries) == "min.insync.replicas=2,retention.ms=86400000")
    }

    @Test func failureLines() {
        #expect(
            TopicCommand.line(.execution("Topic 'x' does not exist as expected"))
                == "Error while executing topic command : Topic 'x' does not exist as expected")
        #expect(TopicCommand.line(.usage("--bootstrap-server must be specified")) == "--bootstrap-server must be specified")
    }
}
