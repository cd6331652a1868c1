import Foundation

/// Kafka's security protocols (`listener.security.protocol.map` values).
public enum SecurityProtocol: String, Sendable, Hashable, CaseIterable {
    case plaintext = "PLAINTEXT"
    case ssl = "SSL"
    case saslPlaintext = "SASL_PLAINTEXT"
    case saslSSL = "SASL_SSL"
}

/// One entry of `listeners` or `advertised.listeners`: `NAME://host:port`.
public struct Listener: Sendable, Hashable, CustomStringConvertible {
    /// The listener name, upper-cased as Kafka does (`ListenerName.normalised`).
    public var name: String
    /// Empty: every interface when binding; for an advertised listener, the broker's own host name.
    public var host: String
    /// 0 binds an ephemeral port.
    public var port: Int
    public var securityProtocol: SecurityProtocol

    public init(name: String, host: String, port: Int, securityProtocol: SecurityProtocol = .plaintext) {
        self.name = name
        self.host = host
        self.port = port
        self.securityProtocol = securityProtocol
    }

    /// The host to bind, nil for every interface.
    public var bindHost: String? { host.isEmpty ? nil : host }

    /// `NAME://host:port`, with an IPv6 host in brackets.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(name)://\(shownHost):\(port)"
    }

    /// Parses a comma-separated listener list under `key`; every name must appear in `protocols`.
    public static func parseList(
        _ text: String, key: String, protocols: [String: SecurityProtocol]
    ) throws(ConfigError) -> [Listener] {
        let items = text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !items.isEmpty else {
            throw ConfigError(.invalidValue, key: key, "\(key) is empty: list at least one listener, e.g. \(key)=PLAINTEXT://127.0.0.1:9092")
        }
        var listeners: [Listener] = []
        for item in items {
            let listener = try parse(item, key: key, protocols: protocols)
            if listeners.contains(where: { $0.name == listener.name }) {
                throw ConfigError(.invalidValue, key: key, "\(key) names listener \(listener.name) twice: each listener needs its own name")
            }
            // Two listeners on one port collide, unless the port is ephemeral or the hosts are distinct addresses.
            if listener.port != 0, let other = listeners.first(where: {
                $0.port == listener.port && ($0.host == listener.host || $0.host.isEmpty || listener.host.isEmpty)
            }) {
                throw ConfigError(
                    .invalidValue, key: key, "\(key): listeners \(other.name) and \(listener.name) both use port \(listener.port): give each its own port")
            }
            listeners.append(listener)
        }
        return listeners
    }

    /// Parses one `NAME://host:port` (host may be empty, a name, an IPv4 address or a bracketed IPv6 address).
    public static func parse(_ text: String, key: String, protocols: [String: SecurityProtocol]) throws(ConfigError) -> Listener {
        let form = "expected NAME://host:port, e.g. PLAINTEXT://127.0.0.1:9092 (empty host = all interfaces)"
        guard let separator = text.range(of: "://") else {
            throw ConfigError(.invalidValue, key: key, "Invalid value '\(text)' for configuration \(key): \(form)")
        }
        let name = String(text[..<separator.lowerBound]).uppercased()
        let address = text[separator.upperBound...]
        let host: Substring
        let portText: Substring
        if address.hasPrefix("[") {
            guard let close = address.firstIndex(of: "]"), address[address.index(after: close)...].hasPrefix(":") else {
                throw ConfigError(.invalidValue, key: key, "Invalid value '\(text)' for configuration \(key): \(form)")
            }
            host = address[address.index(after: address.startIndex)..<close]
            portText = address[address.index(close, offsetBy: 2)...]
        } else {
            guard let colon = address.lastIndex(of: ":") else {
                throw ConfigError(.invalidValue, key: key, "Invalid value '\(text)' for configuration \(key): \(form)")
            }
            host = address[..<colon]
            portText = address[address.index(after: colon)...]
        }
        let hostCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-%._:")
        guard !name.isEmpty, host.allSatisfy(hostCharacters.contains) else {
            throw ConfigError(.invalidValue, key: key, "Invalid value '\(text)' for configuration \(key): \(form)")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ConfigError(
                .invalidValue, key: key, "Invalid value '\(text)' for configuration \(key): the port must be a number from 0 to 65535")
        }
        guard let securityProtocol = protocols[name] else {
            throw ConfigError(
                .invalidValue, key: key,
                "\(key): no security protocol defined for listener \(name): add \(name):PLAINTEXT to listener.security.protocol.map")
        }
        return Listener(name: name, host: String(host), port: port, securityProtocol: securityProtocol)
    }

    /// Parses `listener.security.protocol.map`: `NAME:PROTOCOL,...`.
    public static func parseProtocolMap(_ text: String, key: String) throws(ConfigError) -> [String: SecurityProtocol] {
        var map: [String: SecurityProtocol] = [:]
        for item in text.split(separator: ",").map({ String($0).trimmingWhitespace() }) where !item.isEmpty {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            let allowed = SecurityProtocol.allCases.map(\.rawValue).joined(separator: ", ")
            guard parts.count == 2, !parts[0].isEmpty, let value = SecurityProtocol(rawValue: parts[1].uppercased()) else {
                throw ConfigError(
                    .invalidValue, key: key,
                    "Invalid value '\(item)' for configuration \(key): expected NAME:PROTOCOL with PROTOCOL one of \(allowed)")
            }
            let name = parts[0].uppercased()
            guard map[name] == nil else {
                throw ConfigError(.invalidValue, key: key, "\(key) maps listener \(name) twice: keep one entry")
            }
            map[name] = value
        }
        return map
    }
}
