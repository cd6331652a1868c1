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
    private let sessionTask = Mutex<[Task<Void, Never>]>([])
    private let probes = ProbeState()
    private let sessionTimeout: Duration

    /// Whether ZooKeeper has certainly not expired this broker's session: a probe sent less than a
    /// session timeout ago (minus a margin for the servers' tick) was answered. While this holds, no
    /// other broker can have been given this broker's leaderships, so acks=all may be answered.
    public var sessionCertainlyAlive: Bool {
        ContinuousClock.now - probes.state.withLock { $0.lastHeard } < sessionTimeout - .milliseconds(500)
    }

    public static func start(
        info: BrokerInfo, zk: KafkaZkClient, sessionTimeout: Duration,
        channel: any ControllerChannel = SilentControllerChannel(), settings: Controller.Settings = .init(), logger: Logger
    ) async throws -> BrokerCoordinator {
        try await zk.createTopLevelPaths()
        let clusterID = try await zk.getOrCreateClusterID()
        let registration = BrokerRegistration(zk: zk, info: info, sessionTimeout: sessionTimeout, logger: logger)
        try await registration.register()
        let controller = Controller(brokerID: info.id, zk: zk, channel: channel, settings: settings, logger: logger)
        let coordinator = BrokerCoordinator(
            zk: zk, registration: registration, controller: controller, clusterID: clusterID, sessionTimeout: sessionTimeout)
        coordinator.followSession()
        await controller.start()
        return coordinator
    }

    private init(zk: KafkaZkClient, registration: BrokerRegistration, controller: Controller, clusterID: String, sessionTimeout: Duration) {
        self.zk = zk
        self.sessionTimeout = sessionTimeout
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
                case .connected:
                    await controller.sessionResumed()
                case .closed:
                    return
                default:
                    break
                }
            }
        }
        let health = Task { [zk, controller, probes] in
            await Self.watchSessionHealth(zk: zk, controller: controller, sessionTimeout: sessionTimeout, probes: probes)
        }
        sessionTask.withLock { $0 = [task, health] }
    }

    /// ZooKeeper's client learns that its session expired only once it reaches a server again, so a
    /// broker cut off from ZooKeeper would go on acting as controller while another one is elected.
    /// This probes the server every half second (one probe at a time); when no answer has come for a session timeout, the
    /// session is presumed lost and the controller resigns (Kafka's fix for KAFKA-3083's case). If the
    /// connection then comes back within the same session, the controller role is raced for again.
    private static func watchSessionHealth(
        zk: KafkaZkClient, controller: Controller, sessionTimeout: Duration, probes: ProbeState
    ) async {
        var suspected = false
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            let startProbe = zk.zooKeeper.sessionState.isConnected && probes.state.withLock { state in
                defer { state.inFlight = true }
                return !state.inFlight
            }
            if startProbe {
                Task {
                    // The server heard from the session no earlier than the probe was sent.
                    let sent = ContinuousClock.now
                    let answered = (try? await zk.zooKeeper.exists(ControllerZNode.path)) != nil
                    probes.state.withLock { state in
                        state.inFlight = false
                        if answered { state.lastHeard = max(state.lastHeard, sent) }
                    }
                }
            }
            let silence = ContinuousClock.now - probes.state.withLock { $0.lastHeard }
            if silence <= sessionTimeout {
                suspected = false
            } else if !suspected {
                suspected = true
                await controller.sessionPresumedLost()
            }
        }
    }

    /// Resigns as controller and stops following the session (the caller closes the session).
    public func shutdown() async {
        sessionTask.withLock { $0 }.forEach { $0.cancel() }
        await controller.shutdown()
    }
}

/// When the last answered ZooKeeper probe was sent, and whether one is still waiting for its answer.
final class ProbeState: Sendable {
    let state = Mutex<(lastHeard: ContinuousClock.Instant, inFlight: Bool)>((.now, false))
}
