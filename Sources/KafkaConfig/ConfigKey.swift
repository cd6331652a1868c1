/// A config value's type, numbered as in DescribeConfigs responses (`DescribeConfigsResponse.ConfigType`).
public enum ConfigType: Int8, Sendable, Hashable {
    case unknown = 0
    case boolean = 1
    case string = 2
    case int = 3
    case short = 4
    case long = 5
    case double = 6
    case list = 7
    case `class` = 8
    case password = 9

    /// What a value of this type looks like, for error messages.
    var expectation: String {
        switch self {
        case .boolean: "true or false"
        case .int: "a 32-bit integer"
        case .short: "a 16-bit integer"
        case .long: "a 64-bit integer"
        case .double: "a number"
        case .list: "a comma-separated list"
        case .unknown, .string, .class, .password: "a string"
        }
    }
}

/// Where a config value comes from, numbered as in DescribeConfigs responses (`DescribeConfigsResponse.ConfigSource`).
public enum ConfigSource: Int8, Sendable, Hashable {
    case unknown = 0
    case topicConfig = 1
    case dynamicBrokerConfig = 2
    case dynamicDefaultBrokerConfig = 3
    case staticBrokerConfig = 4
    case defaultConfig = 5
    case dynamicBrokerLoggerConfig = 6

    /// The name `kafka-configs.sh` prints (the admin client's `ConfigEntry.ConfigSource`).
    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .topicConfig: "DYNAMIC_TOPIC_CONFIG"
        case .dynamicBrokerConfig: "DYNAMIC_BROKER_CONFIG"
        case .dynamicDefaultBrokerConfig: "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case .staticBrokerConfig: "STATIC_BROKER_CONFIG"
        case .defaultConfig: "DEFAULT_CONFIG"
        case .dynamicBrokerLoggerConfig: "DYNAMIC_BROKER_LOGGER_CONFIG"
        }
    }
}

/// A parsed config value.
public enum ConfigValue: Sendable, Hashable {
    case boolean(Bool)
    /// INT, SHORT and LONG values.
    case integer(Int64)
    case double(Double)
    /// STRING, CLASS and PASSWORD values.
    case string(String)
    case list([String])

    /// The value as Kafka prints it (`ConfigDef.convertToString`).
    public var text: String {
        switch self {
        case .boolean(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .double(let value): javaDouble(value)
        case .string(let value): value
        case .list(let values): values.joined(separator: ",")
        }
    }
}

/// Java prints 1.0E10 where Swift prints 1e+10.
private func javaDouble(_ value: Double) -> String {
    let text = "\(value)"
    guard let e = text.firstIndex(of: "e") else { return text }
    var mantissa = String(text[..<e])
    if !mantissa.contains(".") { mantissa += ".0" }
    var exponent = String(text[text.index(after: e)...])
    if exponent.hasPrefix("+") { exponent.removeFirst() }
    return mantissa + "E" + exponent
}

/// The values a key accepts (Kafka's `ConfigDef.Validator`s).
public enum ConfigValidator: Sendable, Hashable {
    case any
    /// An integer no smaller than the bound (`Range.atLeast`).
    case atLeast(Int64)
    /// An integer within the bounds, inclusive (`Range.between`).
    case between(Int64, Int64)
    /// A number within the bounds, inclusive.
    case fraction(Double, Double)
    /// One of these strings, case-sensitive (`ValidString.in`).
    case oneOf([String])
    /// A list whose every item is one of these strings (`ValidList.in`).
    case each([String])
    /// A list of at least one item, without duplicates (log.dirs).
    case nonEmptyDistinctList

    /// What the validator allows, for error messages and server.properties.
    public var allowed: String? {
        switch self {
        case .any: nil
        case .atLeast(let minimum): "at least \(minimum)"
        case .between(let low, let high): "between \(low) and \(high)"
        case .fraction(let low, let high): "between \(javaDouble(low)) and \(javaDouble(high))"
        case .oneOf(let names): "one of \(names.joined(separator: ", "))"
        case .each(let names): "a list of \(names.joined(separator: ", "))"
        case .nonEmptyDistinctList: "a non-empty list without duplicates"
        }
    }
}

/// One config key: its name, type, default, allowed values and documentation (Kafka's `ConfigDef.ConfigKey`).
public struct ConfigKey: Sendable, Hashable {
    public let name: String
    public let type: ConfigType
    /// The default as Kafka prints it; nil when the key has no default (null).
    public let defaultValue: String?
    public let validator: ConfigValidator
    public let documentation: String
    /// Whether DescribeConfigs reports it as changeable at run time through /config/brokers.
    public let isDynamic: Bool
    /// Accepted so that Kafka's files load unchanged, but Odradek does not act on it.
    public let isIgnored: Bool

    /// PASSWORD values are never returned by DescribeConfigs.
    public var isSensitive: Bool { type == .password }

    public init(
        _ name: String, _ type: ConfigType, _ defaultValue: String?, _ validator: ConfigValidator,
        dynamic: Bool = false, ignored: Bool = false, _ documentation: String
    ) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.validator = validator
        self.documentation = documentation
        self.isDynamic = dynamic
        self.isIgnored = ignored
    }

    /// A key that accepts any value of its type.
    public init(
        _ name: String, _ type: ConfigType, _ defaultValue: String?, dynamic: Bool = false, ignored: Bool = false,
        _ documentation: String
    ) {
        self.init(name, type, defaultValue, .any, dynamic: dynamic, ignored: ignored, documentation)
    }

    /// Parses and validates `text` (surrounding whitespace ignored, as Kafka's `ConfigDef.parseType` does).
    public func parse(_ text: String) throws(ConfigError) -> ConfigValue {
        let trimmed = text.trimmingWhitespace()
        let value: ConfigValue
        switch type {
        case .boolean:
            switch trimmed.lowercased() {
            case "true": value = .boolean(true)
            case "false": value = .boolean(false)
            default: throw invalid(text)
            }
        case .int, .short, .long:
            let bits: Int64 = type == .int ? 32 : type == .short ? 16 : 64
            guard let number = Int64(trimmed),
                bits == 64 || (number >= -(1 << (bits - 1)) && number < (1 << (bits - 1)))
            else { throw invalid(text) }
            value = .integer(number)
        case .double:
            guard let number = Double(trimmed), number.isFinite else { throw invalid(text) }
            value = .double(number)
        case .list:
            value = .list(trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false).map {
                String($0).trimmingWhitespace()
            })
        case .password:
            value = .string(text)
        case .unknown, .string, .class:
            value = .string(trimmed)
        }
        try check(value, text)
        return value
    }

    /// The parsed default, nil when the key has none.
    public var parsedDefault: ConfigValue? {
        guard let defaultValue else { return nil }
        // The tables are checked by the tests, so a default always parses.
        return try? parse(defaultValue)
    }

    private func check(_ value: ConfigValue, _ text: String) throws(ConfigError) {
        switch (validator, value) {
        case (.any, _):
            return
        case (.atLeast(let minimum), .integer(let number)):
            if number >= minimum { return }
        case (.between(let low, let high), .integer(let number)):
            if number >= low && number <= high { return }
        case (.fraction(let low, let high), .double(let number)):
            if number >= low && number <= high { return }
        case (.oneOf(let names), .string(let string)):
            if names.contains(string) { return }
        case (.each(let names), .list(let items)):
            if !items.isEmpty && items.allSatisfy(names.contains) { return }
        case (.nonEmptyDistinctList, .list(let items)):
            if !items.isEmpty && !items.contains(where: \.isEmpty) && Set(items).count == items.count { return }
        default:
            break
        }
        throw invalid(text)
    }

    private func invalid(_ text: String) -> ConfigError {
        var allowed = type.expectation
        if let bound = validator.allowed { allowed = type == .list || type == .string ? bound : "\(allowed), \(bound)" }
        let shown = isSensitive ? "(hidden)" : "'\(text)'"
        return ConfigError(.invalidValue, key: name, "Invalid value \(shown) for configuration \(name): expected \(allowed)")
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks (Java's `String.trim` for ASCII).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0C}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

/// The known key closest to `name` by edit distance, if it is close enough to be a likely typo.
func closestKey(to name: String, among candidates: some Sequence<String>) -> String? {
    let target = Array(name.lowercased().utf8)
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.utf8))
        if best == nil || distance < best!.distance { best = (candidate, distance) }
    }
    // Beyond about a third of the name, the suggestion is noise rather than a typo fix.
    guard let best, best.distance <= max(2, target.count / 3) else { return nil }
    return best.name
}

/// Levenshtein distance: insertions, deletions and substitutions each cost 1.
func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
