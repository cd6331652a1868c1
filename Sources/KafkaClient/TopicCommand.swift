import KafkaModel
import KafkaProtocol

/// What `kafka-topics.sh` does (Kafka 3.x's `TopicCommand` over the admin API), apart from reading the
/// command line: `odradek topics` parses arguments into `Options` and calls `run`. Kept here, in a
/// library, so tests can check the validation, the formatting and whole runs against a broker.
public enum TopicCommand {
    /// Failures print as Kafka's tool prints them: an execution failure as "Error while executing topic
    /// command : ...".
    public typealias Failure = CommandFailure

    /// The line the tool prints for `failure`.
    public static func line(_ failure: Failure) -> String {
        failure.kind == .execution ? "Error while executing topic command : \(failure.message)" : failure.message
    }

    /// The command line, as kafka-topics.sh's options.
    public struct Options: Sendable, Equatable {
        public var bootstrapServer: String?
        public var create = false
        public var list = false
        public var describe = false
        public var alter = false
        public var delete = false
        public var topic: String?
        public var topicId: String?
        public var partitions: Int?
        public var replicationFactor: Int?
        public var replicaAssignment: String?
        public var configs: [String] = []
        public var deleteConfigs: [String] = []
        public var ifExists = false
        public var ifNotExists = false
        public var excludeInternal = false
        public var underReplicatedPartitions = false
        public var underMinIsrPartitions = false
        public var atMinIsrPartitions = false
        public var unavailablePartitions = false
        public var topicsWithOverrides = false

        public init() {}

        /// The options given, by their names (for "can't be used with" messages).
        private var present: Set<String> {
            var names: Set<String> = []
            func mark(_ set: Bool, _ name: String) { if set { names.insert(name) } }
            mark(bootstrapServer != nil, "bootstrap-server")
            mark(create, "create")
            mark(list, "list")
            mark(describe, "describe")
            mark(alter, "alter")
            mark(delete, "delete")
            mark(topic != nil, "topic")
            mark(topicId != nil, "topic-id")
            mark(partitions != nil, "partitions")
            mark(replicationFactor != nil, "replication-factor")
            mark(replicaAssignment != nil, "replica-assignment")
            mark(!configs.isEmpty, "config")
            mark(!deleteConfigs.isEmpty, "delete-config")
            mark(ifExists, "if-exists")
            mark(ifNotExists, "if-not-exists")
            mark(excludeInternal, "exclude-internal")
            mark(underReplicatedPartitions, "under-replicated-partitions")
            mark(underMinIsrPartitions, "under-min-isr-partitions")
            mark(atMinIsrPartitions, "at-min-isr-partitions")
            mark(unavailablePartitions, "unavailable-partitions")
            mark(topicsWithOverrides, "topics-with-overrides")
            return names
        }

        /// Kafka's argument checks (`TopicCommandOptions.checkArgs`), with its messages.
        public func validate() throws(Failure) {
            let actions = ["list", "describe", "create", "alter", "delete"]
            let given = present
            guard actions.filter(given.contains).count == 1 else {
                throw .usage("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
            }
            guard bootstrapServer != nil else { throw .usage("--bootstrap-server must be specified") }
            if describe, ifExists, topic == nil, topicId == nil {
                throw .usage("--topic or --topic-id is required to describe a topic")
            }
            if !list, !describe, topic == nil { throw .usage("Missing required argument \"[topic]\"") }
            if alter {
                if !configs.isEmpty {
                    throw .usage(
                        "Option combination \"[bootstrap-server],[config]\" can't be used with option \"[alter]\""
                            + " (To alter topic configurations, the kafka-configs tool can be used.)")
                }
                if partitions == nil { throw .usage("Missing required argument \"[partitions]\"") }
            }

            func invalid(_ option: String, with others: [String]) throws(Failure) {
                guard given.contains(option) else { return }
                if let clash = others.first(where: given.contains) {
                    throw .usage("Option \"[\(option)]\" can't be used with option \"[\(clash)]\"")
                }
            }
            func actionsExcept(_ allowed: String...) -> [String] { actions.filter { !allowed.contains($0) } }
            let reports = [
                "under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions",
                "unavailable-partitions",
            ]
            try invalid("config", with: actionsExcept("alter", "create"))
            try invalid("partitions", with: actionsExcept("alter", "create"))
            try invalid("replication-factor", with: actionsExcept("create"))
            try invalid("replica-assignment", with: actionsExcept("alter", "create"))
            if create { try invalid("replica-assignment", with: ["partitions", "replication-factor"]) }
            for report in reports { try invalid(report, with: actionsExcept("describe") + ["topics-with-overrides"]) }
            try invalid("topics-with-overrides", with: actionsExcept("describe") + reports)
            try invalid("if-exists", with: actionsExcept("alter", "delete", "describe"))
            try invalid("if-not-exists", with: actionsExcept("create"))
            try invalid("exclude-internal", with: actionsExcept("list", "describe"))
            try invalid("delete-config", with: ["bootstrap-server"])
        }
    }

    // MARK: Parsing values

    /// `--replica-assignment 1:2,2:3`: partition i's replicas are the i-th comma-separated group
    /// (Kafka's `parseReplicaAssignment`, with its messages).
    public static func parseReplicaAssignment(_ text: String) throws(Failure) -> [[Int32]] {
        var partitions: [[Int32]] = []
        for (index, group) in text.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            var brokers: [Int32] = []
            for field in group.split(separator: ":", omittingEmptySubsequences: false) {
                let trimmed = field.trimmingWhitespace
                guard let broker = Int32(trimmed) else { throw .execution("For input string: \"\(trimmed)\"") }
                brokers.append(broker)
            }
            var seen: Set<Int32> = []
            var duplicates: [Int32] = []
            for broker in brokers where !seen.insert(broker).inserted && !duplicates.contains(broker) {
                duplicates.append(broker)
            }
            if !duplicates.isEmpty {
                throw .execution(
                    "Partition replica lists may not contain duplicate entries: "
                        + duplicates.map(String.init).joined(separator: ","))
            }
            if let first = partitions.first, first.count != brokers.count {
                throw .execution(
                    "Partition \(index) has different replication factor: ["
                        + brokers.map(String.init).joined(separator: ", ") + "]")
            }
            partitions.append(brokers)
        }
        return partitions
    }

    /// `--config k=v`, each split at "=" with the spaces around it dropped, as Kafka does; anything but
    /// exactly one key and one non-empty value is refused with Kafka's message.
    public static func parseConfigs(_ entries: [String]) throws(Failure) -> [(name: String, value: String)] {
        var configs: [(name: String, value: String)] = []
        for entry in entries {
            var parts = entry.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingWhitespace }
            // Java's String.split drops trailing empty strings.
            while parts.last?.isEmpty == true { parts.removeLast() }
            guard parts.count == 2 else {
                throw .execution(
                    "requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".")
            }
            let name = String(parts[0])
            configs.removeAll { $0.name == name }
            configs.append((name, String(parts[1])))
        }
        return configs
    }

    /// `--topic` for list, describe, alter and delete: Kafka's include list (`TopicFilter.IncludeList`):
    /// commas mean "or", spaces and surrounding quotes are dropped, and the regex must match the whole name.
    public struct TopicFilter {
        public let pattern: String
        private let regex: Regex<AnyRegexOutput>

        public init(_ raw: String) throws(Failure) {
            var text = raw.trimmingWhitespaceString.replacing(",", with: "|").replacing(" ", with: "")
            while let first = text.first, first == "\"" || first == "'" { text.removeFirst() }
            while let last = text.last, last == "\"" || last == "'" { text.removeLast() }
            pattern = text
            do {
                regex = try Regex(text)
            } catch {
                throw .execution("\(text) is an invalid regex.")
            }
        }

        public func allows(_ topic: String) -> Bool { topic.wholeMatch(of: regex) != nil }
    }

    /// Kafka's internal topics (`Topic.isInternal`).
    public static func isInternalTopicName(_ name: String) -> Bool {
        name == "__consumer_offsets" || name == "__transaction_state"
    }

    /// Names with '.' or '_' may collide in metric names (`Topic.hasCollisionChars`).
    public static let collisionWarning =
        "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both."

    // MARK: Formatting

    /// One partition, as `--describe` prints it.
    public struct PartitionDescription: Sendable, Equatable {
        public var partition: Int32
        /// -1: no leader.
        public var leader: Int32
        public var replicas: [Int32]
        public var isr: [Int32]

        public init(partition: Int32, leader: Int32, replicas: [Int32], isr: [Int32]) {
            self.partition = partition
            self.leader = leader
            self.replicas = replicas
            self.isr = isr
        }

        public var hasLeader: Bool { leader >= 0 }
        public var isUnderReplicated: Bool { replicas.count - isr.count > 0 }
        public func isUnderMinIsr(_ minIsr: Int) -> Bool { !hasLeader || isr.count < minIsr }
        public func isAtMinIsr(_ minIsr: Int) -> Bool { isr.count == minIsr }
        public func isUnavailable(liveBrokers: Set<Int32>) -> Bool { !hasLeader || !liveBrokers.contains(leader) }
    }

    /// The topic summary line: `Topic: t\tTopicId: id\tPartitionCount: n\tReplicationFactor: rf\tConfigs: k=v,...`,
    /// without TopicId when the id is zero (a broker that does not send ids).
    public static func topicLine(
        topic: String,
        topicId: KafkaUUID,
        partitionCount: Int,
        replicationFactor: Int,
        configs: String
    ) -> String {
        var line = "Topic: \(topic)"
        if topicId != .zero { line += "\tTopicId: \(topicId)" }
        line += "\tPartitionCount: \(partitionCount)\tReplicationFactor: \(replicationFactor)\tConfigs: \(configs)"
        return line
    }

    /// A partition line: `\tTopic: t\tPartition: p\tLeader: l|none\tReplicas: a,b\tIsr: a,b` (the
    /// 2.x-3.7 format, which ends at Isr).
    public static func partitionLine(topic: String, _ partition: PartitionDescription) -> String {
        let leader = partition.hasLeader ? String(partition.leader) : "none"
        return "\tTopic: \(topic)\tPartition: \(partition.partition)\tLeader: \(leader)"
            + "\tReplicas: \(partition.replicas.map(String.init).joined(separator: ","))"
            + "\tIsr: \(partition.isr.map(String.init).joined(separator: ","))"
    }

    /// The Configs column: the entries whose source is not the default, `name=value` joined by ",", in the
    /// order Kafka's tool prints them (its `Config` keeps entries in a `java.util.HashMap`).
    public static func configsColumn(_ entries: [DescribeConfigsResponse.DescribeConfigsResourceResult]) -> String {
        let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        var insertion: [String] = []
        for entry in entries where !insertion.contains(entry.name) { insertion.append(entry.name) }
        return javaHashMapOrder(insertion)
            .compactMap { name in
                guard let entry = byName[name], !entry.isDefault else { return nil }
                return "\(name)=\(entry.value ?? "null")"
            }
            .joined(separator: ",")
    }

    /// Java's `String.hashCode`: 31-based over UTF-16 code units, wrapping.
    public static func javaHashCode(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// The iteration order of a `java.util.HashMap` holding `keys` (inserted in this order): by bucket
    /// (`(h ^ h >>> 16) & (capacity - 1)`), then insertion order. The capacity is what the map grows to:
    /// 16 by default, or the power of two at or above `initialCapacity`, doubled while more than 3/4 full.
    public static func javaHashMapOrder(_ keys: [String], initialCapacity: Int? = nil) -> [String] {
        var capacity = 16
        if let initialCapacity {
            capacity = 1
            while capacity < initialCapacity { capacity *= 2 }
        }
        while keys.count > capacity * 3 / 4 { capacity *= 2 }
        func bucket(_ key: String) -> Int {
            let hash = UInt32(bitPattern: javaHashCode(key))
            return Int((hash ^ (hash >> 16)) & UInt32(capacity - 1))
        }
        return keys.enumerated()
            .sorted { (bucket($0.element), $0.offset) < (bucket($1.element), $1.offset) }
            .map(\.element)
    }
}

extension Substring {
    var trimmingWhitespaceString: String { String(trimmingWhitespace) }
}

extension String {
    var trimmingWhitespaceString: String { String(self[...].trimmingWhitespace) }
}
