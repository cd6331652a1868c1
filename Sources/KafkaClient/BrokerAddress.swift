/// A broker's `host:port`, as given in `--bootstrap-server` (IPv6 hosts in brackets: `[::1]:9092`).
public struct BrokerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { KafkaConnection.endpoint(host: host, port: port) }

    /// Parses one `host:port`.
    public static func parse(_ text: Substring) throws -> BrokerAddress {
        let trimmed = text.trimmingWhitespace
        let invalid = KafkaClientError(
            .invalidAddress, "invalid bootstrap server address '\(trimmed)': expected host:port, e.g. localhost:9092")
        guard let colon = trimmed.lastIndex(of: ":") else { throw invalid }
        var host = trimmed[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty, let port = Int(trimmed[trimmed.index(after: colon)...]), (1...65535).contains(port) else {
            throw invalid
        }
        return BrokerAddress(host: String(host), port: port)
    }

    public static func parse(_ text: String) throws -> BrokerAddress { try parse(text[...]) }

    /// Parses a comma-separated list, as Kafka's `bootstrap.servers`; empty entries are skipped.
    public static func parseList(_ text: String) throws -> [BrokerAddress] {
        let entries = text.split(separator: ",").filter { !$0.trimmingWhitespace.isEmpty }
        guard !entries.isEmpty else {
            throw KafkaClientError(.invalidAddress, "no bootstrap server given: expected host:port[,host:port...]")
        }
        return try entries.map { try parse($0) }
    }
}

extension Substring {
    var trimmingWhitespace: Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }
}
