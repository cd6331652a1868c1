import Foundation
import KafkaCoordination
import KafkaModel
import KafkaStorage
import Logging
import NIOCore
import NIOPosix
import Synchronization
import ZooKeeperClient

/// A running broker: storage recovered, registered in ZooKeeper, racing for controller, and serving
/// Kafka's protocol on its listeners. `start` returns once it serves; `shutdown` stops it cleanly
/// (the storage's clean-shutdown marker is written, so the next start skips recovery).
public final class KafkaServer: Sendable {
    let settings: BrokerSettings
    let brokerID: Int32
    let logger: Logger
    let zk: KafkaZkClient
    let metadata: MetadataCache
    let replicas: ReplicaManager
    let logManager: LogManager
    let producerIds: ProducerIdManager
    let interBroker: InterBrokerSender
    let groupCoordinator: GroupCoordinator
    private let group: MultiThreadedEventLoopGroup
    var eventLoopGroup: any EventLoopGroup { group }
    /// One fetcher per leader this broker follows.
    let fetchers = Mutex<[Int32: ReplicaFetcher]>([:])
    private let threadPool: NIOThreadPool
    private let servers = Mutex<[SocketServer]>([])
    /// A class, so the group coordinator's writes can read it without holding the server.
    private final class CoordinatorSlot: Sendable {
        let value = Mutex<BrokerCoordinator?>(nil)
    }
    private let coordinatorSlot = CoordinatorSlot()
    let background = Mutex<[Task<Void, Never>]>([])
    private let stopped = Mutex(false)
    /// Set once a controlled shutdown starts: the broker follows no leader any more.
    let leaving = Mutex(false)
    /// Ends once the broker is registered and has heard from the controller: clients are answered
    /// only then (Kafka likewise enables request processing at the end of start-up), so a restarted
    /// broker does not tell them that their topics do not exist.
    let ready = Turn()

    /// The ports the listeners bound, in `listeners` order.
    public var boundPorts: [Int] { servers.withLock { $0.map(\.port) } }
    var coordinator: BrokerCoordinator? { coordinatorSlot.value.withLock { $0 } }

    public static func start(settings: BrokerSettings, logger: Logger) async throws -> KafkaServer {
        let threadPool = NIOThreadPool(numberOfThreads: 4)
        threadPool.start()
        let io = BlockingIO(pool: threadPool)
        var logger = logger
        let zk = try await settings.zooKeeper.connect(logger: logger)
        let clusterID = try await zk.getOrCreateClusterID()
        let configuredID = settings.brokerID >= 0 ? settings.brokerID : nil
        // A broker id generated earlier is kept in meta.properties, as Kafka does.
        let storedID = try await io.run { try BrokerMetadata.check(logDirs: settings.logDirs, brokerID: configuredID, clusterID: clusterID) }
        let brokerID: Int32
        if let known = configuredID ?? storedID {
            brokerID = known
        } else {
            brokerID = try await zk.generateBrokerID()
        }
        try await io.run { try BrokerMetadata.write(logDirs: settings.logDirs, brokerID: brokerID, clusterID: clusterID) }
        logger[metadataKey: "broker.id"] = "\(brokerID)"

        // Storage first: recovery after an unclean stop happens here, before any client is served.
        let storageLogger = logger
        let logManager = try await io.run {
            try LogManager(logDirectories: settings.logDirs, defaultConfig: settings.logConfig, logger: storageLogger)
        }
        let metadata = MetadataCache()
        let resolve = settings.resolveTopicConfig
        let defaults = (settings.logConfig, settings.partitionSettings)
        let loader: ReplicaManager.TopicSettingsLoader = { [zk, storageLogger] topic in
            do {
                return try resolve(try await zk.getTopicConfig(topic))
            } catch {
                storageLogger.warning("topic \(topic) has a config the broker cannot apply (\(error)); using the broker defaults")
                return defaults
            }
        }
        let replicas = ReplicaManager(localBroker: brokerID, logManager: logManager, io: io, loadSettings: loader, logger: logger)
        let server = KafkaServer(
            settings: settings, brokerID: brokerID, logger: logger, zk: zk, metadata: metadata, replicas: replicas,
            logManager: logManager, producerIds: ProducerIdManager(brokerID: brokerID, zk: zk),
            group: MultiThreadedEventLoopGroup(numberOfThreads: 1), threadPool: threadPool)
        do {
            try await server.startListening()
            try await server.register()
            server.startBackgroundWork()
            await server.groupCoordinator.start()
            await server.waitForControllerView(timeout: .seconds(10))
            server.ready.end()
        } catch {
            await server.shutdown()
            throw error
        }
        logger.info("started, serving on ports \(server.boundPorts)")
        return server
    }

    private init(
        settings: BrokerSettings, brokerID: Int32, logger: Logger, zk: KafkaZkClient, metadata: MetadataCache,
        replicas: ReplicaManager, logManager: LogManager, producerIds: ProducerIdManager,
        group: MultiThreadedEventLoopGroup, threadPool: NIOThreadPool
    ) {
        self.settings = settings
        self.brokerID = brokerID
        self.logger = logger
        self.zk = zk
        self.metadata = metadata
        self.replicas = replicas
        self.logManager = logManager
        self.producerIds = producerIds
        self.group = group
        self.threadPool = threadPool
        self.interBroker = InterBrokerSender(zk: zk, group: group, logger: logger)
        // Group records go to __consumer_offsets like a produce with acks=all.
        let commitTimeout = Duration.milliseconds(settings.groups.offsetCommitTimeoutMs)
        let slot = self.coordinatorSlot
        self.groupCoordinator = GroupCoordinator(
            settings: settings.groups, replicas: replicas, metadata: metadata,
            append: { [replicas] tp, records in
                let result = await replicas.appendToLeader(tp, records: records, acks: -1, produceVersion: 8)
                guard result.error == .none else { return result.error }
                let coordinator = slot.value.withLock { $0 }
                return await replicas.waitForReplication(
                    tp, nextOffset: result.nextOffset, timeout: commitTimeout,
                    leadershipCertain: { coordinator?.sessionCertainlyAlive ?? false })
            },
            logger: logger)
    }

    private func startListening() async throws {
        for listener in settings.listeners {
            let host = listener.host.isEmpty ? "0.0.0.0" : listener.host
            let server = try await SocketServer.bind(
                host: host, port: listener.port, group: group, maxFrameSize: settings.maxRequestSize, logger: logger
            ) { [weak self] frame, connection, turn in
                guard let self else { return .close(reason: "broker shutting down") }
                return await self.process(frame, connection: connection, turn: turn)
            }
            servers.withLock { $0.append(server) }
        }
    }

    /// The endpoints written to `/brokers/ids/<id>`: the advertised listeners (or the listeners),
    /// with the ports actually bound where the configuration said 0.
    func advertisedEndpoints() -> [BrokerEndpoint] {
        let bound = boundPorts
        let listeners = settings.advertisedListeners.isEmpty ? settings.listeners : settings.advertisedListeners
        return listeners.map { listener in
            var port = listener.port
            if port == 0, let index = settings.listeners.firstIndex(where: { $0.name == listener.name }), index < bound.count {
                port = bound[index]
            }
            let host = listener.host.isEmpty || listener.host == "0.0.0.0" ? Self.defaultHostName() : listener.host
            return BrokerEndpoint(listenerName: listener.name, host: host, port: Int32(port))
        }
    }

    /// The machine's name, as Kafka advertises for a listener without a host. gethostname() does no
    /// name lookup, so it cannot block start-up on DNS.
    private static func defaultHostName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func register() async throws {
        let info = BrokerInfo(
            id: brokerID, endpoints: advertisedEndpoints(), rack: settings.rack,
            timestamp: Int64(Date().timeIntervalSince1970 * 1000))
        var controllerSettings = Controller.Settings()
        controllerSettings.uncleanLeaderElection = settings.uncleanLeaderElection
        controllerSettings.deleteTopicEnable = settings.deleteTopicEnable
        controllerSettings.leaderImbalancePerBrokerPercentage = settings.leaderImbalancePerBrokerPercentage
        let channel = BrokerControllerChannel(local: self, logger: logger)
        let coordinator = try await BrokerCoordinator.start(
            info: info, zk: zk, sessionTimeout: .milliseconds(settings.zooKeeper.sessionTimeoutMs), channel: channel,
            settings: controllerSettings, logger: logger)
        coordinatorSlot.value.withLock { $0 = coordinator }
    }

    private func waitForControllerView(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !metadata.hasHeardFromController && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops serving, resigns, closes the ZooKeeper session and the logs. Safe to call twice.
    /// `controlled` (SIGTERM) first asks the controller to move this broker's leaderships away, while
    /// it still serves, so clients and followers switch leaders without waiting for its session to end.
    public func shutdown(controlled: Bool = false) async {
        if controlled && settings.controlledShutdown && !isShutDown { await moveLeadershipAway() }
        guard stopped.withLock({ let was = $0; $0 = true; return !was }) else { return }
        ready.end()
        logger.info("shutting down")
        for task in background.withLock({ $0 }) { task.cancel() }
        await groupCoordinator.stop()
        for server in servers.withLock({ $0 }) { await server.close() }
        await interBroker.shutdown()
        for fetcher in fetchers.withLock({ Array($0.values) }) { await fetcher.stop() }
        if let coordinator { await coordinator.shutdown() }
        await zk.zooKeeper.close()
        let logManager = self.logManager
        do {
            try await replicas.io.run { try logManager.shutdown() }
        } catch {
            logger.error("closing the logs failed: \(error)")
        }
        try? await group.shutdownGracefully()
        try? await threadPool.shutdownGracefully()
        logger.info("shut down")
    }

    var isShutDown: Bool { stopped.withLock { $0 } }
}
