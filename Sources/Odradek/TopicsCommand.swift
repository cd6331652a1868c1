import ArgumentParser
import KafkaClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `odradek topics`, Kafka's `kafka-topics.sh`: the same options, output and messages. The work is in
/// `KafkaClient.TopicCommand`; this reads the command line and maps failures to Kafka's exit status.
struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Create, delete, describe, or change a topic.")

    @Option(name: .customLong("bootstrap-server"), help: "REQUIRED: The Kafka server to connect to.")
    var bootstrapServer: String?

    @Flag(name: .customLong("list"), help: "List all available topics.")
    var list = false

    @Flag(name: .customLong("create"), help: "Create a new topic.")
    var create = false

    @Flag(name: .customLong("delete"), help: "Delete a topic.")
    var delete = false

    @Flag(
        name: .customLong("alter"),
        help: "Alter the number of partitions and replica assignment. (To alter topic configurations, the kafka-configs tool can be used.)")
    var alter = false

    @Flag(name: .customLong("describe"), help: "List details for the given topics.")
    var describe = false

    @Option(
        name: .customLong("topic"),
        help: "The topic to create, alter, describe or delete. It also accepts a regular expression, except for --create option. Put topic name in double quotes and use the '\\' prefix to escape regular expression symbols; e.g. \"test\\.topic\".")
    var topic: String?

    @Option(name: .customLong("topic-id"), help: "The topic-id to describe.")
    var topicId: String?

    @Option(
        name: .customLong("partitions"),
        help: "The number of partitions for the topic being created or altered. If not supplied with --create, the topic uses the cluster default. (WARNING: If partitions are increased for a topic that has a key, the partition logic or ordering of the messages will be affected).")
    var partitions: Int?

    @Option(
        name: .customLong("replication-factor"),
        help: "The replication factor for each partition in the topic being created. If not supplied, the topic uses the cluster default.")
    var replicationFactor: Int?

    @Option(
        name: .customLong("replica-assignment"),
        help: ArgumentHelp(
            "A list of manual partition-to-broker assignments for the topic being created or altered.",
            valueName: "broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ..."))
    var replicaAssignment: String?

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A topic configuration override for the topic being created. It is supported only in combination with --create. (To alter topic configurations, the kafka-configs tool can be used.)",
            valueName: "name=value"))
    var config: [String] = []

    @Option(name: .customLong("delete-config"), help: "Not supported with the --bootstrap-server option.")
    var deleteConfig: [String] = []

    @Flag(
        name: .customLong("if-exists"),
        help: "If set when altering or deleting or describing topics, the action will only execute if the topic exists.")
    var ifExists = false

    @Flag(
        name: .customLong("if-not-exists"),
        help: "If set when creating topics, the action will only execute if the topic does not already exist.")
    var ifNotExists = false

    @Flag(
        name: .customLong("exclude-internal"),
        help: "Exclude internal topics when listing or describing topics. By default, the internal topics are included.")
    var excludeInternal = false

    @Flag(
        name: .customLong("under-replicated-partitions"),
        help: "If set when describing topics, only show under-replicated partitions.")
    var underReplicatedPartitions = false

    @Flag(
        name: .customLong("under-min-isr-partitions"),
        help: "If set when describing topics, only show partitions whose isr count is less than the configured minimum.")
    var underMinIsrPartitions = false

    @Flag(
        name: .customLong("at-min-isr-partitions"),
        help: "If set when describing topics, only show partitions whose isr count is equal to the configured minimum.")
    var atMinIsrPartitions = false

    @Flag(
        name: .customLong("unavailable-partitions"),
        help: "If set when describing topics, only show partitions whose leader is not available.")
    var unavailablePartitions = false

    @Flag(
        name: .customLong("topics-with-overrides"),
        help: "If set when describing topics, only show topics that have overridden configs.")
    var topicsWithOverrides = false

    var options: TopicCommand.Options {
        var options = TopicCommand.Options()
        options.bootstrapServer = bootstrapServer
        options.create = create
        options.list = list
        options.describe = describe
        options.alter = alter
        options.delete = delete
        options.topic = topic
        options.topicId = topicId
        options.partitions = partitions
        options.replicationFactor = replicationFactor
        options.replicaAssignment = replicaAssignment
        options.configs = config
        options.deleteConfigs = deleteConfig
        options.ifExists = ifExists
        options.ifNotExists = ifNotExists
        options.excludeInternal = excludeInternal
        options.underReplicatedPartitions = underReplicatedPartitions
        options.underMinIsrPartitions = underMinIsrPartitions
        options.atMinIsrPartitions = atMinIsrPartitions
        options.unavailablePartitions = unavailablePartitions
        options.topicsWithOverrides = topicsWithOverrides
        return options
    }

    func run() async throws {
        let options = options
        // Like Kafka's tool: no arguments prints the usage and fails.
        if options == TopicCommand.Options() {
            printUsage("Create, delete, describe, or change a topic.")
            throw ExitCode(1)
        }
        do {
            try options.validate()
        } catch {
            printUsage(error.message)
            throw ExitCode(1)
        }
        do {
            let admin = try KafkaAdmin(bootstrapServers: options.bootstrapServer ?? "")
            do {
                try await TopicCommand.run(options, admin: admin) { print($0) }
            } catch {
                await admin.close()
                throw error
            }
            await admin.close()
        } catch let failure as TopicCommand.Failure {
            if failure.kind == .usage { printUsage(failure.message) } else { print(TopicCommand.line(failure)) }
            throw ExitCode(1)
        } catch {
            print(TopicCommand.line(.execution("\(error)")))
            throw ExitCode(1)
        }
    }

    private func printUsage(_ message: String) {
        printToStandardError(message + "\n" + Self.helpMessage())
    }
}

/// Writes `text` and a newline to stderr.
func printToStandardError(_ text: String) {
    var standardError = StandardErrorStream()
    print(text, to: &standardError)
}

private struct StandardErrorStream: TextOutputStream {
    mutating func write(_ string: String) {
        let bytes = Array(string.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
