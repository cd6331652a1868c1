import KafkaModel
import KafkaProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ConsumerGroupCommand {
    /// Where the command writes: `out` is stdout, `err` stderr; each call writes its text as it is
    /// (Kafka's tool starts most lines with a newline, so the callers add the line breaks).
    public struct Sink {
        let out: (String) -> Void
        let err: (String) -> Void

        public init(out: @escaping (String) -> Void, err: @escaping (String) -> Void) {
            self.out = out
            self.err = err
        }
    }

    /// Runs a validated command against the cluster. Returns false when something was reported as an
    /// error on the way (a group that does not exist, one that cannot be reset or deleted), so the
    /// caller exits non-zero; throws for failures that end the command.
    public static func run(_ options: Options, admin: KafkaAdmin, sink: Sink) async throws(Failure) -> Bool {
        do {
            let timeout = Duration.milliseconds(options.timeoutMs)
            if options.list {
                return try await list(options, admin: admin, sink: sink, timeout: timeout)
            } else if options.describe {
                return try await describe(options, admin: admin, sink: sink, timeout: timeout)
            } else if options.resetOffsets {
                return try await reset(options, admin: admin, sink: sink, timeout: timeout)
            } else if options.delete {
                return try await delete(options, admin: admin, sink: sink, timeout: timeout)
            } else {
                return try await deleteOffsets(options, admin: admin, sink: sink, timeout: timeout)
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .execution("\(error)")
        }
    }

    // MARK: --list

    /// The consumer groups of the cluster (protocol type "consumer", or none for groups that only
    /// commit offsets), sorted.
    static func consumerGroupIds(admin: KafkaAdmin) async throws -> [String] {
        let listed = try await admin.listGroups()
        return Set(listed.filter { $0.protocolType == "consumer" || $0.protocolType.isEmpty }.map(\.groupId)).sorted()
    }

    static func list(_ options: Options, admin: KafkaAdmin, sink: Sink, timeout: Duration) async throws -> Bool {
        let ids = try await consumerGroupIds(admin: admin)
        let withState = options.state
        let withType = options.typeFilter != nil
        guard withState || withType else {
            if options.isJSON {
                sink.out(jsonArray(ids.map { [("group", .string($0))] }))
            } else if !ids.isEmpty {
                sink.out(ids.joined(separator: "\n") + "\n")
            }
            return true
        }
        let wantedStates = Set(options.stateFilter.map { $0.lowercased() })
        let wantedTypes = Set((options.typeFilter ?? []).map { $0.lowercased() })
        var rows: [(group: String, type: String, state: String)] = []
        for id in ids {
            let (_, described) = try await admin.describeGroup(id, timeout: timeout)
            // Every group this broker coordinates is a classic group.
            let type = "Classic"
            if !wantedStates.isEmpty, !wantedStates.contains(described.groupState.lowercased()) { continue }
            if !wantedTypes.isEmpty, !wantedTypes.contains(type.lowercased()) { continue }
            rows.append((id, type, described.groupState))
        }
        if options.isJSON {
            sink.out(
                jsonArray(
                    rows.map { row in
                        var object: [(String, JSONValue)] = [("group", .string(row.group))]
                        if withType { object.append(("type", .string(row.type))) }
                        if withState { object.append(("state", .string(row.state))) }
                        return object
                    }))
            return true
        }
        var widths = [width(15, rows.map { $0.group }) + 10]
        var header = ["GROUP"]
        if withType {
            header.append("TYPE")
            widths.append(20)
        }
        if withState {
            header.append("STATE")
            widths.append(20)
        }
        var text = formatRow(header, widths: widths) + "\n"
        for row in rows {
            var cells = [row.group]
            if withType { cells.append(row.type) }
            if withState { cells.append(row.state) }
            text += formatRow(cells, widths: widths) + "\n"
        }
        sink.out(text)
        return true
    }

    // MARK: --describe

    static let missing = "-"

    /// The groups named by --group, or every consumer group for --all-groups.
    static func selectedGroups(_ options: Options, admin: KafkaAdmin) async throws -> [String] {
        if options.allGroups { return try await consumerGroupIds(admin: admin) }
        var seen: Set<String> = []
        return options.groups.filter { seen.insert($0).inserted }
    }

    /// Kafka's `shouldPrintMemberState`: reports a dead, empty or rebalancing group; false for a group
    /// that does not exist.
    static func reportState(_ group: String, state: String, sink: Sink, json: Bool) -> Bool {
        switch state {
        case "Dead":
            let message = "\nError: Consumer group '\(group)' does not exist.\n"
            if json { sink.err(message) } else { sink.out(message) }
            return false
        case "Empty":
            sink.err("\nConsumer group '\(group)' has no active members.\n")
        case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
            sink.err("\nWarning: Consumer group '\(group)' is rebalancing.\n")
        default:
            break
        }
        return true
    }

    /// One table: each line starts with a newline (Kafka's format strings), then a final newline.
    static func table(_ lines: [String]) -> String {
        lines.map { "\n" + $0 }.joined() + "\n"
    }

    static func describe(_ options: Options, admin: KafkaAdmin, sink: Sink, timeout: Duration) async throws -> Bool {
        var ok = true
        var json: [[(String, JSONValue)]] = []
        for group in try await selectedGroups(options, admin: admin) {
            let (coordinator, described) = try await admin.describeGroup(group, timeout: timeout)
            guard reportState(group, state: described.groupState, sink: sink, json: options.isJSON) else {
                ok = false
                continue
            }
            if options.members {
                json += describeMembers(group, described, verbose: options.verbose, sink: sink, json: options.isJSON)
            } else if options.state {
                json += describeState(group, described, coordinator: coordinator, sink: sink, json: options.isJSON)
            } else {
                json += try await describeOffsets(
                    group, described, admin: admin, timeout: timeout, sink: sink, json: options.isJSON)
            }
        }
        if options.isJSON { sink.out(jsonArray(json)) }
        return ok
    }

    static func describeOffsets(
        _ group: String,
        _ described: DescribeGroupsResponse.DescribedGroup,
        admin: KafkaAdmin,
        timeout: Duration,
        sink: Sink,
        json: Bool
    ) async throws -> [[(String, JSONValue)]] {
        let committed = try await admin.fetchOffsets(group: group, timeout: timeout)
        struct Row {
            var partition: TopicPartition
            var consumerId = ConsumerGroupCommand.missing
            var host = ConsumerGroupCommand.missing
            var clientId = ConsumerGroupCommand.missing
        }
        var rows: [Row] = []
        var assigned: Set<TopicPartition> = []
        let members = described.members.map { ($0, decodeAssignment($0.memberAssignment).sorted()) }
        for (member, partitions) in members.sorted(by: { $0.1.count > $1.1.count }) {
            for partition in partitions where assigned.insert(partition).inserted {
                rows.append(Row(partition: partition, consumerId: member.memberId, host: member.clientHost, clientId: member.clientId))
            }
        }
        for partition in committed.keys.sorted() where !assigned.contains(partition) {
            rows.append(Row(partition: partition))
        }
        guard !rows.isEmpty else { return [] }
        let ends = try await admin.listOffsets(rows.map(\.partition), timestamp: KafkaAdmin.latestTimestamp)
        func logEnd(_ partition: TopicPartition) -> Int64? {
            guard let result = ends[partition], result.errorCode == KafkaErrorCode.none.rawValue, result.offset >= 0 else {
                return nil
            }
            return result.offset
        }
        if json {
            return rows.map { row in
                let current = committed[row.partition]
                let end = logEnd(row.partition)
                let lag = current.flatMap { current in end.map { $0 - current } }
                return [
                    ("group", .string(group)), ("topic", .string(row.partition.topic)),
                    ("partition", .number(Int64(row.partition.partition))),
                    ("current-offset", current.map(JSONValue.number) ?? .null),
                    ("log-end-offset", end.map(JSONValue.number) ?? .null), ("lag", lag.map(JSONValue.number) ?? .null),
                    ("consumer-id", row.consumerId == missing ? .null : .string(row.consumerId)),
                    ("host", row.host == missing ? .null : .string(row.host)),
                    ("client-id", row.clientId == missing ? .null : .string(row.clientId)),
                ]
            }
        }
        let widths = [
            width(15, [group]), width(15, rows.map(\.partition.topic)), 10, 15, 15, 15, width(15, rows.map(\.consumerId)),
            width(15, rows.map(\.host)), 0,
        ]
        var lines = [
            formatRow(
                [
                    "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
                    "CLIENT-ID",
                ], widths: widths)
        ]
        for row in rows {
            let current = committed[row.partition]
            let end = logEnd(row.partition)
            let lag = current.flatMap { current in end.map { $0 - current } }
            lines.append(
                formatRow(
                    [
                        group, row.partition.topic, String(row.partition.partition), current.map(String.init) ?? missing,
                        end.map(String.init) ?? missing, lag.map(String.init) ?? missing, row.consumerId, row.host,
                        row.clientId,
                    ], widths: widths))
        }
        sink.out(table(lines))
        return []
    }

    /// `topic1(0,1), topic2(0)`, or "-" for no partitions.
    static func assignmentText(_ partitions: [TopicPartition]) -> String {
        guard !partitions.isEmpty else { return missing }
        return Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }
            .map { topic, parts in
                topic + "(" + parts.map(\.partition).sorted().map(String.init).joined(separator: ",") + ")"
            }
            .joined(separator: ", ")
    }

    static func describeMembers(
        _ group: String,
        _ described: DescribeGroupsResponse.DescribedGroup,
        verbose: Bool,
        sink: Sink,
        json: Bool
    ) -> [[(String, JSONValue)]] {
        let members = described.members.map { ($0, decodeAssignment($0.memberAssignment)) }
        guard !members.isEmpty else { return [] }
        let includeInstanceId = members.contains { !($0.0.groupInstanceId ?? "").isEmpty }
        if json {
            return members.map { member, partitions in
                var object: [(String, JSONValue)] = [("group", .string(group)), ("consumer-id", .string(member.memberId))]
                if includeInstanceId { object.append(("group-instance-id", member.groupInstanceId.map(JSONValue.string) ?? .null)) }
                object += [
                    ("host", .string(member.clientHost)), ("client-id", .string(member.clientId)),
                    ("#partitions", .number(Int64(partitions.count))),
                ]
                if verbose {
                    object.append(("assignment", partitions.isEmpty ? .null : .string(assignmentText(partitions))))
                }
                return object
            }
        }
        var widths = [width(15, [group]), width(15, members.map { $0.0.memberId })]
        var header = ["GROUP", "CONSUMER-ID"]
        if includeInstanceId {
            widths.append(width(17, members.map { $0.0.groupInstanceId ?? "" }))
            header.append("GROUP-INSTANCE-ID")
        }
        widths += [width(15, members.map { $0.0.clientHost }), width(15, members.map { $0.0.clientId }), 15]
        header += ["HOST", "CLIENT-ID", "#PARTITIONS"]
        var lines = [formatRow(header, widths: widths) + " " + (verbose ? "ASSIGNMENT" : "")]
        for (member, partitions) in members {
            var cells = [group, member.memberId]
            if includeInstanceId { cells.append(member.groupInstanceId ?? "") }
            cells += [member.clientHost, member.clientId, String(partitions.count)]
            lines.append(formatRow(cells, widths: widths) + " " + (verbose ? assignmentText(partitions) : ""))
        }
        sink.out(table(lines))
        return []
    }

    static func describeState(
        _ group: String,
        _ described: DescribeGroupsResponse.DescribedGroup,
        coordinator: KafkaAdmin.GroupCoordinator,
        sink: Sink,
        json: Bool
    ) -> [[(String, JSONValue)]] {
        let address = "\(coordinator.address.host):\(coordinator.address.port)"
        let coordinatorText = "\(address)  (\(coordinator.id))"
        if json {
            return [[
                ("group", .string(group)), ("coordinator", .string(address)), ("coordinator-id", .number(Int64(coordinator.id))),
                ("assignment-strategy", .string(described.protocolData)), ("state", .string(described.groupState)),
                ("#members", .number(Int64(described.members.count))),
            ]]
        }
        let widths = [width(25, [group]), width(25, [coordinatorText]), 20, 15, 0]
        sink.out(
            table([
                formatRow(["GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"], widths: widths),
                formatRow(
                    [group, coordinatorText, described.protocolData, described.groupState, String(described.members.count)],
                    widths: widths),
            ]))
        return []
    }

    // MARK: --reset-offsets

    static func reset(_ options: Options, admin: KafkaAdmin, sink: Sink, timeout: Duration) async throws -> Bool {
        if !options.dryRun, !options.execute { sink.err(dryRunWarning + "\n") }
        var ok = true
        var results: [(group: String, offsets: [TopicPartition: Int64])] = []
        for group in try await selectedGroups(options, admin: admin) {
            let (_, described) = try await admin.describeGroup(group, timeout: timeout)
            guard described.groupState == "Empty" || described.groupState == "Dead" else {
                sink.out(
                    "\nError: Assignments can only be reset if the group '\(group)' is inactive, but the current state is \(described.groupState).\n")
                results.append((group, [:]))
                ok = false
                continue
            }
            let committed = try await admin.fetchOffsets(group: group, timeout: timeout)
            let partitions = try await partitionsToReset(options, committed: committed, admin: admin)
            let offsets = try await newOffsets(options, partitions: partitions, committed: committed, admin: admin)
            if options.execute, !offsets.isEmpty { try await admin.commitOffsets(group: group, offsets, timeout: timeout) }
            results.append((group, offsets))
        }
        if options.export {
            let several = results.count > 1
            var text = ""
            for (group, offsets) in results {
                for partition in offsets.keys.sorted() {
                    text += (several ? "\(group)," : "") + "\(partition.topic),\(partition.partition),\(offsets[partition] ?? 0)\n"
                }
            }
            sink.out(text)
        } else if !results.isEmpty {
            let widths = [30, 30, 10, 15]
            var lines = [formatRow(["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"], widths: widths)]
            for (group, offsets) in results {
                for partition in offsets.keys.sorted() {
                    lines.append(
                        formatRow(
                            [group, partition.topic, String(partition.partition), String(offsets[partition] ?? 0)],
                            widths: widths))
                }
            }
            sink.out(table(lines))
        }
        return ok
    }

    /// The partitions --topic / --all-topics select: `topic:0,1` as given, a bare topic with all its
    /// partitions, --all-topics the partitions the group has offsets for.
    static func partitionsToReset(
        _ options: Options,
        committed: [TopicPartition: Int64],
        admin: KafkaAdmin
    ) async throws -> [TopicPartition] {
        if options.allTopics { return committed.keys.sorted() }
        if options.fromFile != nil { throw Failure.execution("--from-file is not supported by this version of the tool") }
        guard !options.topics.isEmpty else {
            throw Failure.execution("One of the reset scopes should be defined: --all-topics, --topic.")
        }
        let (partitions, unknown) = try await partitions(of: options.topics, admin: admin)
        if let topic = unknown.first { throw Failure.execution("Topic '\(topic)' does not exist") }
        return partitions
    }

    /// The partitions `--topic` arguments name: `topic:0,1` as given, a bare topic with all its
    /// partitions; topics the cluster does not have are returned apart.
    static func partitions(
        of arguments: [String],
        admin: KafkaAdmin
    ) async throws -> (partitions: [TopicPartition], unknownTopics: [String]) {
        var partitions: [TopicPartition] = []
        var unknownTopics: [String] = []
        for argument in arguments {
            let (topic, chosen) = try parseTopicArgument(argument)
            if let chosen {
                partitions += chosen.map { TopicPartition(topic: topic, partition: $0) }
                continue
            }
            let metadata = try await admin.metadata(topics: [topic])
            if let described = metadata.topics.first(where: { $0.name == topic }),
                described.errorCode == KafkaErrorCode.none.rawValue
            {
                partitions += described.partitions.map { TopicPartition(topic: topic, partition: $0.partitionIndex) }
            } else {
                unknownTopics.append(topic)
            }
        }
        return (Array(Set(partitions)).sorted(), unknownTopics)
    }

    /// The offsets of `partitions` for `timestamp`, failing on a partition the leader could not answer for.
    static func offsets(
        _ partitions: [TopicPartition],
        at timestamp: Int64,
        admin: KafkaAdmin
    ) async throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        var offsets: [TopicPartition: Int64] = [:]
        for (partition, result) in try await admin.listOffsets(partitions, timestamp: timestamp) {
            let code = KafkaErrorCode(rawValue: result.errorCode)
            guard code == .none else { throw KafkaClientError.kafka(code, nil, context: "\(partition)") }
            offsets[partition] = result.offset
        }
        return offsets
    }

    /// Kafka's reset scenarios; offsets outside [log start, log end] are moved to the nearer end.
    static func newOffsets(
        _ options: Options,
        partitions: [TopicPartition],
        committed: [TopicPartition: Int64],
        admin: KafkaAdmin
    ) async throws -> [TopicPartition: Int64] {
        let earliest = try await offsets(partitions, at: KafkaAdmin.earliestTimestamp, admin: admin)
        let latest = try await offsets(partitions, at: KafkaAdmin.latestTimestamp, admin: admin)
        func clamped(_ partition: TopicPartition, _ offset: Int64) -> Int64 {
            min(max(offset, earliest[partition] ?? 0), latest[partition] ?? offset)
        }
        var timestamp: Int64?
        if let text = options.toDatetime { timestamp = try parseDateTime(text) }
        if let text = options.byDuration { timestamp = currentTimeMillis() - (try parseDuration(text)) }
        var byTime: [TopicPartition: Int64] = [:]
        if let timestamp { byTime = try await offsets(partitions, at: timestamp, admin: admin) }
        var result: [TopicPartition: Int64] = [:]
        for partition in partitions {
            let offset: Int64
            if options.toEarliest {
                offset = earliest[partition] ?? 0
            } else if options.toLatest {
                offset = latest[partition] ?? 0
            } else if let target = options.toOffset {
                offset = clamped(partition, target)
            } else if let shift = options.shiftBy {
                guard let current = committed[partition] else {
                    throw Failure.execution(
                        "Cannot shift offset for partition \(partition) since there is no current committed offset")
                }
                offset = clamped(partition, current + shift)
            } else if options.toCurrent {
                offset = committed[partition] ?? latest[partition] ?? 0
            } else {
                // By time: no record at or after it means the log end.
                let found = byTime[partition] ?? -1
                offset = found >= 0 ? found : latest[partition] ?? 0
            }
            result[partition] = offset
        }
        return result
    }

    static func currentTimeMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    // MARK: --delete

    /// Kafka's exception for a DeleteGroups error, as the tool prints it.
    static func deleteErrorText(_ code: KafkaErrorCode) -> String {
        switch code {
        case .nonEmptyGroup: "org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty."
        case .groupIdNotFound: "org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."
        case .invalidGroupId: "org.apache.kafka.common.errors.InvalidGroupIdException: The configured groupId is invalid."
        default: "org.apache.kafka.common.errors.ApiException: \(code.defaultMessage)"
        }
    }

    static func delete(_ options: Options, admin: KafkaAdmin, sink: Sink, timeout: Duration) async throws -> Bool {
        var deleted: [String] = []
        var failed: [(String, KafkaErrorCode)] = []
        for group in try await selectedGroups(options, admin: admin) {
            let code = try await admin.deleteGroup(group, timeout: timeout)
            if code == .none { deleted.append(group) } else { failed.append((group, code)) }
        }
        func quoted(_ groups: [String]) -> String { "'" + groups.joined(separator: "', '") + "'" }
        if failed.isEmpty {
            sink.out("Deletion of requested consumer groups (\(quoted(deleted))) was successful.\n")
            return true
        }
        var text = "\nError: Deletion of some consumer groups failed:\n"
        for (group, code) in failed { text += "* Group '\(group)' could not be deleted due to: \(deleteErrorText(code))\n" }
        if !deleted.isEmpty { text += "\nThese consumer groups were deleted successfully: \(quoted(deleted))\n" }
        sink.out(text)
        return false
    }

    // MARK: --delete-offsets

    /// Kafka's exception message for a partition's OffsetDelete error.
    static func partitionErrorText(_ code: KafkaErrorCode) -> String {
        switch code {
        case .groupSubscribedToTopic: "The consumer group is actively subscribed to the topic"
        case .unknownTopicOrPartition: "This server does not host this topic-partition."
        default: code.defaultMessage
        }
    }

    static func deleteOffsets(_ options: Options, admin: KafkaAdmin, sink: Sink, timeout: Duration) async throws -> Bool {
        let group = options.groups.first ?? ""
        let (partitions, unknownTopics) = try await partitions(of: options.topics, admin: admin)
        var (code, results) = partitions.isEmpty
            ? (KafkaErrorCode.none, [:]) : try await admin.deleteOffsets(group: group, partitions, timeout: timeout)
        var text = ""
        if !unknownTopics.isEmpty, code == .none { code = .unknownTopicOrPartition }
        switch code {
        case .none: text += "Request succeed for deleting offsets with topic \(options.topics.joined(separator: ", ")) group \(group)\n"
        case .invalidGroupId: text += "\nError: '\(group)' is not valid.\n"
        case .groupIdNotFound: text += "\nError: '\(group)' does not exist.\n"
        case .nonEmptyGroup:
            text += "\nError: Deleting offsets of a consumer group '\(group)' is forbidden if the group is not empty.\n"
        case .groupSubscribedToTopic, .unknownTopicOrPartition:
            text += "\nError: Encounter some partition level error, see the follow-up details:\n"
        default: text += "\nError: Encounter some unknown error: \(code.name)\n"
        }
        var lines = [formatRow(["TOPIC", "PARTITION", "STATUS"], widths: [30, 15, 15])]
        for partition in results.keys.sorted() {
            let error = results[partition] ?? .none
            let status = error == .none ? "Successful" : "Error: \(partitionErrorText(error))"
            lines.append(formatRow([partition.topic, String(partition.partition), status], widths: [30, 15, 15]))
        }
        for topic in unknownTopics {
            lines.append(
                formatRow(
                    [topic, "Not Provided", "Error: \(partitionErrorText(.unknownTopicOrPartition))"], widths: [30, 15, 15]))
        }
        sink.out(text + table(lines))
        return code == .none && results.values.allSatisfy { $0 == .none }
    }
}
