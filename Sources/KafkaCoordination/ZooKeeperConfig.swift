import Foundation
import Logging
import ZooKeeperClient

/// The broker's ZooKeeper settings, under Kafka's keys.
public struct ZooKeeperConfig: Sendable, Equatable {
    /// `zookeeper.connect`: `host:port[,host:port...][/chroot]`. Required.
    public var connect: String
    /// `zookeeper.session.timeout.ms`: 18000, Kafka's default since 2.5.
    public var sessionTimeoutMs: Int = 18_000
    /// `zookeeper.connection.timeout.ms`: how long to wait for a session; the session timeout when unset.
    public var connectionTimeoutMs: Int?
    /// `zookeeper.set.acl`: create znodes writable only by the broker's identity (readable by all).
    public var setACL = false
    /// `zookeeper.auth.digest` (Odradek's; Kafka takes ZooKeeper credentials from a JAAS file):
    /// `user:password` for ZooKeeper's digest scheme. Required when `zookeeper.set.acl` is true.
    public var digest: String?

    public static let keys: Set<String> = [
        "zookeeper.connect", "zookeeper.session.timeout.ms", "zookeeper.connection.timeout.ms", "zookeeper.set.acl",
        "zookeeper.auth.digest",
    ]

    public init(connect: String) {
        self.connect = connect
    }

    /// Reads the keys from a broker's properties; a missing or malformed value is an error that
    /// names the key.
    public init(properties: [String: String]) throws {
        guard let connect = properties["zookeeper.connect"], !connect.isEmpty else {
            throw CoordinationError.invalidRequest("zookeeper.connect is required: set it to host:port[,host:port...][/chroot]")
        }
        self.connect = connect
        func integer(_ key: String) throws -> Int? {
            guard let text = properties[key] else { return nil }
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value > 0 else {
                throw CoordinationError.invalidRequest("\(key) must be a positive number of milliseconds, not '\(text)'")
            }
            return value
        }
        sessionTimeoutMs = try integer("zookeeper.session.timeout.ms") ?? 18_000
        connectionTimeoutMs = try integer("zookeeper.connection.timeout.ms")
        if let text = properties["zookeeper.set.acl"] {
            switch text.lowercased() {
            case "true": setACL = true
            case "false": setACL = false
            default: throw CoordinationError.invalidRequest("zookeeper.set.acl must be true or false, not '\(text)'")
            }
        }
        digest = properties["zookeeper.auth.digest"]
        if setACL && digest == nil {
            throw CoordinationError.invalidRequest(
                "zookeeper.set.acl=true needs credentials: set zookeeper.auth.digest=user:password")
        }
    }

    /// Opens the session, authenticates, and returns Kafka's view of it.
    public func connect(logger: Logger) async throws -> KafkaZkClient {
        let session = Duration.milliseconds(sessionTimeoutMs)
        let zooKeeper = try await ZooKeeper.connect(
            connect, sessionTimeout: session, connectionTimeout: connectionTimeoutMs.map { .milliseconds($0) }, logger: logger)
        if let digest { try await zooKeeper.addAuth(scheme: "digest", credentials: digest) }
        return KafkaZkClient(zooKeeper: zooKeeper, secureACLs: setACL, logger: logger)
    }
}
