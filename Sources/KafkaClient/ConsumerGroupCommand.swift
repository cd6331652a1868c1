import KafkaModel
import NIOCore

/// What `kafka-consumer-groups.sh` does (Kafka 3.9's `ConsumerGroupCommand` over the admin API), apart
/// from writing to the terminal: `odradek consumer-groups` parses the arguments with `Options.parse` and
/// calls `run`. Unlike Kafka's tool, every error exits non-zero.
public enum ConsumerGroupCommand {
    public typealias Failure = CommandFailure

    /// What the tool prints for `failure` (a `.usage` failure is followed by the usage).
    public static func text(_ failure: Failure) -> String {
        failure.kind == .execution
            ? "\nError: Executing consumer group command failed due to \(failure.message)\n" : failure.message
    }

    /// The command line, as kafka-consumer-groups.sh's options.
    public struct Options: Sendable, Equatable {
        public var bootstrapServer: String?
        public var commandConfig: String?
        public var timeoutMs: Int = 5000
        public var list = false
        public var describe = false
        public var delete = false
        public var resetOffsets = false
        public var deleteOffsets = false
        public var groups: [String] = []
        public var allGroups = false
        public var topics: [String] = []
        public var allTopics = false
        public var offsets = false
        public var members = false
        public var verbose = false
        /// `--state`: for --describe a view, for --list a filter (`stateFilter` holds its values).
        public var state = false
        public var stateFilter: [String] = []
        public var typeFilter: [String]?
        public var toDatetime: String?
        public var byDuration: String?
        public var toEarliest = false
        public var toLatest = false
        public var shiftBy: Int64?
        public var fromFile: String?
        public var toCurrent = false
        public var toOffset: Int64?
        public var dryRun = false
        public var execute = false
        public var export = false
        /// `--format json` (this tool's extension) for --list and --describe.
        public var format = "text"
        public var help = false
        /// The option names given, in order (for "can't be used with" messages).
        public var given: [String] = []

        public init() {}

        public var isJSON: Bool { format == "json" }

        static let valued: Set<String> = [
            "bootstrap-server", "command-config", "timeout", "group", "topic", "to-datetime", "by-duration",
            "shift-by", "from-file", "to-offset", "format",
        ]
        static let flags: Set<String> = [
            "list", "describe", "delete", "reset-offsets", "delete-offsets", "all-groups", "all-topics", "offsets",
            "members", "verbose", "to-earliest", "to-latest", "to-current", "dry-run", "execute", "export", "help",
        ]
        /// Options whose value is optional (`--state [stable,empty]`, `--type [classic]`).
        static let optionallyValued: Set<String> = ["state", "type"]

        /// Reads the arguments as Kafka's joptsimple parser would: `--name value`, `--name=value`, and an
        /// optional value taken when the next argument is not an option.
        public static func parse(_ arguments: [String]) throws(Failure) -> Options {
            var options = Options()
            var index = 0
            while index < arguments.count {
                let argument = arguments[index]
                index += 1
                guard argument.hasPrefix("--"), argument.count > 2 else {
                    throw .usage("Found non-option argument '\(argument)'")
                }
                var name = String(argument.dropFirst(2))
                var inline: String?
                if let equals = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: equals)...])
                    name = String(name[..<equals])
                }
                var value: String?
                if valued.contains(name) {
                    if let inline {
                        value = inline
                    } else if index < arguments.count {
                        value = arguments[index]
                        index += 1
                    } else {
                        throw .usage("Option \(name) requires an argument")
                    }
                } else if optionallyValued.contains(name) {
                    if let inline {
                        value = inline
                    } else if index < arguments.count, !arguments[index].hasPrefix("--") {
                        value = arguments[index]
                        index += 1
                    }
                } else if !flags.contains(name) {
                    throw .usage("\(name) is not a recognized option")
                }
                if !options.given.contains(name) { options.given.append(name) }
                try options.set(name, value ?? "")
            }
            return options
        }

        private mutating func set(_ name: String, _ value: String) throws(Failure) {
            func number(_ text: String) throws(Failure) -> Int64 {
                guard let number = Int64(text.trimmingWhitespaceString) else {
                    throw .usage("Cannot parse argument '\(text)' of option \(name)")
                }
                return number
            }
            func values(_ text: String) -> [String] {
                text.split(separator: ",").map { $0.trimmingWhitespaceString }.filter { !$0.isEmpty }
            }
            switch name {
            case "bootstrap-server": bootstrapServer = value
            case "command-config": commandConfig = value
            case "timeout": timeoutMs = Int(try number(value))
            case "list": list = true
            case "describe": describe = true
            case "delete": delete = true
            case "reset-offsets": resetOffsets = true
            case "delete-offsets": deleteOffsets = true
            case "group": groups.append(value)
            case "all-groups": allGroups = true
            case "topic": topics.append(value)
            case "all-topics": allTopics = true
            case "offsets": offsets = true
            case "members": members = true
            case "verbose": verbose = true
            case "state":
                state = true
                stateFilter += values(value)
            case "type": typeFilter = (typeFilter ?? []) + values(value)
            case "to-datetime": toDatetime = value
            case "by-duration": byDuration = value
            case "to-earliest": toEarliest = true
            case "to-latest": toLatest = true
            case "shift-by": shiftBy = try number(value)
            case "from-file": fromFile = value
            case "to-current": toCurrent = true
            case "to-offset": toOffset = try number(value)
            case "dry-run": dryRun = true
            case "execute": execute = true
            case "export": export = true
            case "format":
                guard value == "text" || value == "json" else {
                    throw .usage("Option format takes text or json, not '\(value)'")
                }
                format = value
            case "help": help = true
            default: break
            }
        }

        static let actions = ["list", "describe", "delete", "reset-offsets", "delete-offsets"]
        static let scenarios = [
            "to-datetime", "by-duration", "to-earliest", "to-latest", "shift-by", "from-file", "to-current", "to-offset",
        ]

        /// Kafka's argument checks (`ConsumerGroupCommandOptions.checkArgs`), with its messages.
        public func validate() throws(Failure) {
            let present = Set(given)
            guard bootstrapServer != nil else { throw .usage("Missing required argument \"[bootstrap-server]\"") }
            guard Self.actions.filter(present.contains).count == 1 else {
                throw .usage(
                    "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets")
            }
            let action = Self.actions.first(where: present.contains) ?? ""
            let groupScope = "[all-groups], [group]"
            if deleteOffsets {
                if groups.isEmpty || topics.isEmpty {
                    throw .usage("Option [delete-offsets] takes the following options: [topic], [group]")
                }
                if groups.count > 1 {
                    throw .usage(
                        "Option [delete-offsets] supports only one [group] at a time, but found: ["
                            + groups.joined(separator: ", ") + "]")
                }
            }
            if describe || delete || resetOffsets, groups.isEmpty, !allGroups {
                throw .usage("Option [\(action)] takes one of these options: \(groupScope)")
            }
            func invalid(_ option: String, unless allowed: [String]) throws(Failure) {
                guard present.contains(option), !allowed.contains(action) else { return }
                throw .usage("Option \"[\(option)]\" can't be used with option \"[\(action)]\"")
            }
            try invalid("group", unless: ["describe", "delete", "reset-offsets", "delete-offsets"])
            try invalid("all-groups", unless: ["list", "describe", "delete", "reset-offsets"])
            if !groups.isEmpty, allGroups { throw .usage("Option \"[group]\" can't be used with option \"[all-groups]\"") }
            for view in ["offsets", "members", "verbose"] { try invalid(view, unless: ["describe"]) }
            try invalid("state", unless: ["describe", "list"])
            try invalid("type", unless: ["list"])
            try invalid("format", unless: ["list", "describe"])
            try invalid("topic", unless: ["reset-offsets", "delete-offsets"])
            for option in Self.scenarios + ["all-topics", "dry-run", "execute", "export"] {
                try invalid(option, unless: ["reset-offsets"])
            }
            if describe {
                if [offsets, members, state].filter({ $0 }).count > 1 {
                    throw .usage("Option [describe] takes at most one of these options: [members], [offsets], [state]")
                }
                if state, !stateFilter.isEmpty {
                    throw .usage("Option [describe] does not take a value for [state]")
                }
            }
            if resetOffsets {
                if dryRun, execute { throw .usage("Option [reset-offsets] only accepts one of [execute] and [dry-run]") }
                let chosen = Self.scenarios.filter(present.contains)
                if chosen.count > 1 {
                    throw .usage("Option \"[\(chosen[1])]\" can't be used with option \"[\(chosen[0])]\"")
                }
                if chosen.isEmpty {
                    throw .usage(
                        "Option [reset-offsets] takes one of these options: "
                            + Self.scenarios.map { "[\($0)]" }.joined(separator: ", "))
                }
                if !topics.isEmpty, allTopics {
                    throw .usage("Option \"[all-topics]\" can't be used with option \"[topic]\"")
                }
            }
        }
    }

    /// Printed on stderr by a reset without --execute or --dry-run (the missing space is Kafka's).
    public static let dryRunWarning =
        "WARN: No action will be performed as the --execute option is missing.In a future major release, the default behavior of this command will be to prompt the user before executing the reset rather than doing a dry run. You should add the --dry-run option explicitly if you are scripting this command and want to keep the current default behavior without prompting."

    // MARK: Parsing values

    /// `--topic t` or `--topic t:0,1,2`: the topic and the chosen partitions (nil: all of them).
    public static func parseTopicArgument(_ text: String) throws(Failure) -> (topic: String, partitions: [Int32]?) {
        guard let colon = text.lastIndex(of: ":") else { return (text, nil) }
        let topic = String(text[..<colon])
        var partitions: [Int32] = []
        for field in text[text.index(after: colon)...].split(separator: ",") {
            guard let partition = Int32(field.trimmingWhitespace) else {
                throw .execution("For input string: \"\(field.trimmingWhitespace)\"")
            }
            partitions.append(partition)
        }
        return (topic, partitions)
    }

    /// `--to-datetime`: Kafka's strict `yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]` (no zone means UTC), as epoch ms.
    public static func parseDateTime(_ text: String) throws(Failure) -> Int64 {
        let failure = Failure.execution(
            "Error parsing timestamp. It does not conform to the expected format yyyy-MM-dd'T'HH:mm:ss.SSS[XXX]: \(text)")
        let chars = Array(text)
        guard chars.count >= 23, chars[4] == "-", chars[7] == "-", chars[10] == "T", chars[13] == ":",
            chars[16] == ":", chars[19] == "."
        else { throw failure }
        func field(_ from: Int, _ to: Int) throws(Failure) -> Int64 {
            guard let value = Int64(String(chars[from..<to])), chars[from..<to].allSatisfy(\.isNumber) else {
                throw failure
            }
            return value
        }
        let year = try field(0, 4)
        let month = try field(5, 7)
        let day = try field(8, 10)
        let hour = try field(11, 13)
        let minute = try field(14, 16)
        let second = try field(17, 19)
        let millis = try field(20, 23)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { throw failure }
        var offsetMinutes: Int64 = 0
        let zone = String(chars[23...])
        if zone == "Z" || zone.isEmpty {
            offsetMinutes = 0
        } else {
            let zoneChars = Array(zone)
            guard zoneChars.count == 6, zoneChars[0] == "+" || zoneChars[0] == "-", zoneChars[3] == ":",
                let hours = Int64(String(zoneChars[1...2])), let minutes = Int64(String(zoneChars[4...5]))
            else { throw failure }
            offsetMinutes = (hours * 60 + minutes) * (zoneChars[0] == "-" ? -1 : 1)
        }
        // Days from the civil date (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        return seconds * 1000 + millis
    }

    /// `--by-duration PnDTnHnMnS` as milliseconds.
    public static func parseDuration(_ text: String) throws(Failure) -> Int64 {
        let failure = Failure.execution("Text cannot be parsed to a Duration: \(text)")
        var rest = Substring(text.uppercased())
        var negative = false
        if rest.first == "-" {
            negative = true
            rest = rest.dropFirst()
        }
        guard rest.first == "P" else { throw failure }
        rest = rest.dropFirst()
        var total: Int64 = 0
        var inTime = false
        var digits = ""
        var sawField = false
        for char in rest {
            if char == "T" {
                guard !inTime, digits.isEmpty else { throw failure }
                inTime = true
            } else if char.isNumber || char == "." {
                digits.append(char)
            } else {
                let unit: Double
                switch (char, inTime) {
                case ("D", false): unit = 86_400_000
                case ("H", true): unit = 3_600_000
                case ("M", true): unit = 60_000
                case ("S", true): unit = 1000
                default: throw failure
                }
                guard let value = Double(digits) else { throw failure }
                total += Int64(value * unit)
                digits = ""
                sawField = true
            }
        }
        guard sawField, digits.isEmpty else { throw failure }
        return negative ? -total : total
    }

    /// A member's assignment (Kafka's ConsumerProtocol Assignment: version, then topics and partitions).
    public static func decodeAssignment(_ bytes: [UInt8]) -> [TopicPartition] {
        var buffer = ByteBuffer(bytes: bytes)
        guard bytes.count >= 6, buffer.readInteger(as: Int16.self) != nil,
            let topicCount = buffer.readInteger(as: Int32.self), topicCount >= 0
        else { return [] }
        var partitions: [TopicPartition] = []
        for _ in 0..<topicCount {
            guard let length = buffer.readInteger(as: Int16.self), length >= 0,
                let topic = buffer.readString(length: Int(length)),
                let count = buffer.readInteger(as: Int32.self), count >= 0
            else { return partitions }
            for _ in 0..<count {
                guard let partition = buffer.readInteger(as: Int32.self) else { return partitions }
                partitions.append(TopicPartition(topic: topic, partition: partition))
            }
        }
        return partitions
    }

    // MARK: Formatting

    /// `text` left-aligned in `width` columns (Java's `%-<width>s`).
    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// Rows printed with Java's `"%-<w1>s %-<w2>s ... %s"`: each line is `prefix` plus the padded cells
    /// joined by single spaces (a width of 0 leaves the cell as it is).
    static func formatRow(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { pad($0, $1) }.joined(separator: " ")
    }

    /// The widest of `minimum` and the values.
    static func width(_ minimum: Int, _ values: [String]) -> Int {
        values.reduce(minimum) { max($0, $1.count) }
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A JSON value for a cell: numbers as numbers, the missing value "-" as null, the rest as strings.
    public enum JSONValue: Sendable, Equatable {
        case string(String)
        case number(Int64)
        case null

        var text: String {
            switch self {
            case .string(let value): ConsumerGroupCommand.jsonString(value)
            case .number(let value): String(value)
            case .null: "null"
            }
        }
    }

    /// An array of objects, one per row, keys in the given order, one object per line.
    static func jsonArray(_ rows: [[(String, JSONValue)]]) -> String {
        let objects = rows.map { row in
            "{" + row.map { "\(jsonString($0.0)):\($0.1.text)" }.joined(separator: ",") + "}"
        }
        return "[" + objects.joined(separator: ",\n ") + "]\n"
    }
}
