import Logging
import Synchronization
import ZooKeeperClient

/// One broker's part in the cluster's coordination: the top-level znodes and cluster id, its
/// registration under `/brokers/ids`, and its controller. It follows the ZooKeeper session: on
/// expiry the controller resigns; on the new session the broker registers again and then races
/// for controller again (Kafka's `RegisterBrokerAndReelect`), all without a restart.
public final class BrokerCoordinator: Sendable {
    public let zk: KafkaZkClient
    public let registration: BrokerRegistration
    public let controller: Controller
    public let clusterID: String
    private let sessionTask = Mutex<Task<Void, Never>?>(nil)

    public static func start(
        info: BrokerInfo, zk: KafkaZkClient, sessionTimeout: Duration,
        channel: any ControllerChannel = SilentControllerChannel(), settings: Controller.Settings = .init(), logger: Logger
    ) async throws -> BrokerCoordinator {
        try await zk.createTopLevelPaths()
        let clusterID = try await zk.getOrCreateClusterID()
        let registration = BrokerRegistration(zk: zk, info: info, sessionTimeout: sessionTimeout, logger: logger)
        try await registration.register()
        let controller = Controller(brokerID: info.id, zk: zk, channel: channel, settings: settings, logger: logger)
        let coordinator = BrokerCoordinator(zk: zk, registration: registration, controller: controller, clusterID: clusterID)
        coordinator.followSession()
        await controller.start()
        return coordinator
    }

    private init(zk: KafkaZkClient, registration: BrokerRegistration, controller: Controller, clusterID: String) {
        self.zk = zk
        self.registration = registration
        self.controller = controller
        self.clusterID = clusterID
    }

    private func followSession() {
        let task = Task { [zk, registration, controller] in
            var expired = false
            for await state in zk.zooKeeper.sessionStates {
                switch state {
                case .expired:
                    expired = true
                    await controller.sessionExpired()
                case .connected where expired:
                    expired = false
                    await registration.registerWithRetry()
                    await controller.sessionRenewed()
                case .closed:
                    return
                default:
                    break
                }
            }
        }
        sessionTask.withLock { $0 = task }
    }

    /// Resigns as controller and stops following the session (the caller closes the session).
    public func shutdown() async {
        sessionTask.withLock { $0 }?.cancel()
        await controller.shutdown()
    }
}
