import KafkaModel
import Logging
import Synchronization
import ZooKeeperClient

/// Keeps `/brokers/ids/<id>` registered for as long as the broker runs: registers it, and after a
/// session expiry registers it again on the new session by itself (a new czxid, so a new broker
/// epoch). The broker's liveness, as the controller sees it, is this ephemeral znode.
public final class BrokerRegistration: Sendable {
    private let zk: KafkaZkClient
    private let info: BrokerInfo
    private let logger: Logger
    private let sessionTimeout: Duration
    private let state = Mutex<(epoch: Int64, previousSession: Int64?)>((0, nil))

    public init(zk: KafkaZkClient, info: BrokerInfo, sessionTimeout: Duration, logger: Logger) {
        self.zk = zk
        self.info = info
        self.logger = logger
        self.sessionTimeout = sessionTimeout
    }

    /// The current broker epoch: the czxid of the registration znode.
    public var brokerEpoch: Int64 { state.withLock { $0.epoch } }

    /// Registers, retrying failures (connection loss, a znode still held by an old session) for a
    /// bounded time; used after a session expiry, when the broker must come back by itself.
    public func registerWithRetry() async {
        for attempt in 1...20 {
            do {
                try await register()
                return
            } catch {
                logger.warning("broker registration failed (attempt \(attempt)): \(error)", metadata: ["broker.id": "\(info.id)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Creates the ephemeral registration as one multi (create, then set the JSON at version 0, as
    /// Kafka's `CheckedEphemeral` does); returns the broker epoch.
    @discardableResult
    public func register() async throws -> Int64 {
        let path = BrokerIdZNode.path(info.id)
        let data = BrokerIdZNode.encode(info)
        let deadline = ContinuousClock.now + sessionTimeout * 2
        while true {
            do {
                try await zk.createRecursive(BrokerIdZNode.parent)
                let results = try await zk.zooKeeper.multi([
                    .create(path: path, data: [], acl: zk.acl, mode: .ephemeral),
                    .setData(path: path, data: data, version: 0),
                ])
                guard case .set(let stat) = results[1] else { throw CoordinationError.malformed(path: path, detail: "no stat") }
                return remember(stat)
            } catch ZooKeeperError.nodeExists {
                guard let stat = try await zk.zooKeeper.exists(path).stat else { continue }
                let current = zk.zooKeeper.sessionID
                if stat.ephemeralOwner == current {
                    // Our own session already created it (a retried request): accept it.
                    return remember(stat)
                }
                if stat.ephemeralOwner == state.withLock({ $0.previousSession }) {
                    // Left by our expired session and not yet cleaned up (ZOOKEEPER-2985, KAFKA-7165).
                    try? await zk.zooKeeper.delete(path, version: stat.version)
                    continue
                }
                // Another session holds the id: a broker with the same id, or this broker's previous
                // process whose session has not timed out yet. Wait for it to go, within bounds.
                guard ContinuousClock.now < deadline else { throw CoordinationError.brokerIdInUse(info.id) }
                logger.warning(
                    "/brokers/ids/\(info.id) is held by session 0x\(String(stat.ephemeralOwner, radix: 16)); waiting for it to expire",
                    metadata: ["broker.id": "\(info.id)"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private func remember(_ stat: Stat) -> Int64 {
        let session = zk.zooKeeper.sessionID
        state.withLock {
            $0.epoch = stat.czxid
            $0.previousSession = session
        }
        logger.info("registered broker", metadata: ["broker.id": "\(info.id)", "broker.epoch": "\(stat.czxid)"])
        return stat.czxid
    }
}
