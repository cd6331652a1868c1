import Foundation
import KafkaModel
import Logging
import ZooKeeperClient

/// The ZooKeeper-mode controller. Every broker runs one; the one that creates the ephemeral
/// `/controller` first is active. All of its work runs one event at a time, in order (Kafka's
/// `ControllerEventManager`): watches only enqueue events. Every write it makes to ZooKeeper is a
/// multi that first checks `/controller_epoch`'s version, so once another controller is elected,
/// nothing this one writes can land (the zombie case).
public actor Controller {
    public struct Settings: Sendable {
        /// `unclean.leader.election.enable`, the broker default; topics may override it.
        public var uncleanLeaderElection = false
        /// `delete.topic.enable`.
        public var deleteTopicEnable = true
        /// Partition-state writes in flight at once during a mass election.
        public var maxConcurrentWrites = 1000
        /// `leader.imbalance.per.broker.percentage`: the share of a broker's preferred partitions led
        /// elsewhere above which the automatic rebalance moves them back.
        public var leaderImbalancePerBrokerPercentage = 10
        public init() {}
    }

    enum Event: Sendable {
        case elect
        case brokerChange
        case topicChange
        case partitionModification(String)
        case topicDeletion
        case isrChangeNotification
        case resign
        case reclaim
        case controlledShutdown(broker: Int32, brokerEpoch: Int64, reply: CheckedContinuation<ControlledShutdownOutcome, Never>)
        case electLeaders(ElectionKind, [TopicPartition]?, reply: CheckedContinuation<ElectionOutcome, Never>)
        case autoRebalance
    }

    public let brokerID: Int32
    let zk: KafkaZkClient
    let channel: any ControllerChannel
    let settings: Settings
    let logger: Logger
    let events: AsyncStream<Event>.Continuation
    private var loop: Task<Void, Never>?
    private var watchTasks: [Task<Void, Never>] = []
    private var controllerWatch: Task<Void, Never>?

    /// Set while this broker is the active controller.
    public private(set) var epoch: Int32 = 0
    public private(set) var epochZkVersion: Int32 = -1
    public private(set) var isActive = false
    private var resignedOnSuspicion = false
    var liveBrokers: [Int32: BrokerInfo] = [:]
    var assignments: [String: TopicAssignment] = [:]
    var states: [TopicPartition: LeaderAndIsr] = [:]
    /// Brokers in controlled shutdown: never chosen as leaders, until they leave or re-register
    /// (Kafka's `shuttingDownBrokerIds`).
    var shuttingDown: Set<Int32> = []
    /// The last broker failure handled: how many partitions changed and how long it took from
    /// seeing the change in `/brokers/ids` to the last state written (for the benchmarks).
    public private(set) var lastFailureHandling: (partitions: Int, duration: Duration)?

    public init(brokerID: Int32, zk: KafkaZkClient, channel: any ControllerChannel = SilentControllerChannel(), settings: Settings = Settings(), logger: Logger) {
        self.brokerID = brokerID
        self.zk = zk
        self.channel = channel
        self.settings = settings
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.events = continuation
        let loopTask = Task { [weak self] in
            for await event in stream {
                guard let self else { return }
                await self.process(event)
            }
        }
        Task { await self.setLoop(loopTask) }
    }

    private func setLoop(_ task: Task<Void, Never>) { loop = task }

    /// Starts watching `/controller` and runs an election.
    public func start() {
        watchController()
        events.yield(.elect)
    }

    /// After a session expiry: resign, then (once the broker is registered on the new session) race again.
    public func sessionExpired() { events.yield(.resign) }
    public func sessionRenewed() {
        resignedOnSuspicion = false
        start()
    }

    /// No answer from ZooKeeper for a session timeout: the session has probably expired on the
    /// servers, and another controller may be elected. Resign now rather than on reconnection.
    public func sessionPresumedLost() {
        resignedOnSuspicion = resignedOnSuspicion || isActive
        events.yield(.resign)
    }

    /// The connection came back within the same session after `sessionPresumedLost`: this broker may
    /// still own `/controller`. It deletes it, so that every broker, itself included, races again.
    public func sessionResumed() {
        guard resignedOnSuspicion else { return }
        resignedOnSuspicion = false
        events.yield(.reclaim)
    }

    /// Resigns and stops processing.
    public func shutdown() {
        resign()
        controllerWatch?.cancel()
        events.finish()
        loop?.cancel()
    }

    /// The current state of a partition as this controller knows it (active controller only).
    public func partitionState(_ tp: TopicPartition) -> LeaderAndIsr? { states[tp] }

    // MARK: Events

    private func process(_ event: Event) async {
        do {
            switch event {
            case .elect: try await elect()
            case .resign: resign()
            case .reclaim: try await releaseControllerZNode()
            case .brokerChange where isActive: try await processBrokerChange()
            case .topicChange where isActive: try await processTopicChange()
            case .partitionModification(let topic) where isActive: try await processPartitionModification(topic)
            case .topicDeletion where isActive: try await processTopicDeletion()
            case .isrChangeNotification where isActive: try await processIsrChangeNotification()
            case .controlledShutdown(let broker, let brokerEpoch, let reply):
                reply.resume(returning: await controlledShutdown(broker: broker, brokerEpoch: brokerEpoch))
            case .electLeaders(let kind, let partitions, let reply):
                reply.resume(returning: await electLeaders(kind, partitions))
            case .autoRebalance where isActive: try await rebalanceLeaders()
            default: break
            }
        } catch let error as CoordinationError {
            if case .controllerMoved = error {
                logger.warning("controller moved; resigning: \(error)", metadata: ["broker.id": "\(brokerID)"])
                resign()
            } else {
                logger.error("controller event \(event) failed: \(error)", metadata: ["broker.id": "\(brokerID)"])
            }
        } catch ZooKeeperError.sessionExpired {
            resign()
        } catch {
            logger.error("controller event \(event) failed: \(error); will retry", metadata: ["broker.id": "\(brokerID)"])
            // Connection loss and timeouts: try the same work again shortly.
            let retry = event
            Task { [events] in
                try? await Task.sleep(for: .milliseconds(500))
                events.yield(retry)
            }
        }
    }

    // MARK: Election

    /// Races for `/controller`: one multi creates it and bumps `/controller_epoch` at the version
    /// just read, so two brokers cannot both win the same epoch.
    private func elect() async throws {
        if isActive { return }
        if let (data, _) = try await zk.read(ControllerZNode.path) {
            let current = try ControllerZNode.decode(data)
            logger.debug("broker \(current) is the controller", metadata: ["broker.id": "\(brokerID)"])
            return
        }
        let (currentEpoch, version) = try await readControllerEpoch()
        do {
            let results = try await zk.zooKeeper.multi([
                .create(path: ControllerZNode.path, data: ControllerZNode.encode(brokerID: brokerID, timestamp: Self.nowMs()), acl: zk.acl, mode: .ephemeral),
                .setData(path: ControllerEpochZNode.path, data: ControllerEpochZNode.encode(currentEpoch + 1), version: version),
            ])
            guard case .set(let stat) = results[1] else { return }
            epoch = currentEpoch + 1
            epochZkVersion = stat.version
        } catch ZooKeeperError.nodeExists, ZooKeeperError.badVersion {
            // Someone else won, or our own multi committed before a connection loss hid the answer.
            guard let (data, _) = try await zk.read(ControllerZNode.path), try ControllerZNode.decode(data) == brokerID,
                let (epochData, stat) = try await zk.read(ControllerEpochZNode.path),
                try ControllerEpochZNode.decode(epochData) == currentEpoch + 1
            else { return }
            epoch = currentEpoch + 1
            epochZkVersion = stat.version
        }
        logger.info("became the controller", metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])
        isActive = true
        try await onControllerFailover()
    }

    /// Deletes `/controller` if this broker's current session holds it; the watch on it starts a new race.
    private func releaseControllerZNode() async throws {
        guard !isActive, let (data, stat) = try await zk.read(ControllerZNode.path) else { return }
        guard try ControllerZNode.decode(data) == brokerID, stat.ephemeralOwner == zk.zooKeeper.sessionID else { return }
        logger.info("releasing /controller after a presumed session loss", metadata: ["broker.id": "\(brokerID)"])
        do {
            try await zk.zooKeeper.delete(ControllerZNode.path, version: stat.version)
        } catch ZooKeeperError.noNode {}
    }

    private func readControllerEpoch() async throws -> (Int32, Int32) {
        if let (data, stat) = try await zk.read(ControllerEpochZNode.path) {
            return (try ControllerEpochZNode.decode(data), stat.version)
        }
        do {
            try await zk.zooKeeper.create(ControllerEpochZNode.path, data: ControllerEpochZNode.encode(0), acl: zk.acl)
        } catch ZooKeeperError.nodeExists {}
        let (data, stat, _) = try await zk.zooKeeper.getData(ControllerEpochZNode.path)
        return (try ControllerEpochZNode.decode(data), stat.version)
    }

    private func resign() {
        guard isActive else { return }
        logger.info("resigning as controller", metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])
        isActive = false
        watchTasks.forEach { $0.cancel() }
        watchTasks = []
        liveBrokers = [:]
        assignments = [:]
        states = [:]
        shuttingDown = []
    }

    /// Every broker watches `/controller`: when it goes, the race starts again.
    private func watchController() {
        controllerWatch?.cancel()
        controllerWatch = Task { [zk, events] in
            var fired = false
            while !Task.isCancelled {
                do {
                    let (_, watch) = try await zk.zooKeeper.exists(ControllerZNode.path, watch: true)
                    guard let watch else { return }
                    if fired { events.yield(.elect) }
                    if await watch.event() == .sessionLost { return }  // the owner restarts this on the new session
                    fired = true
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
    }

    // MARK: Failover

    private func onControllerFailover() async throws {
        watchChildren(BrokerIdZNode.parent, .brokerChange)
        watchChildren(TopicZNode.parent, .topicChange)
        watchChildren(DeleteTopicsZNode.path, .topicDeletion)
        watchChildren(IsrChangeNotificationZNode.parent, .isrChangeNotification)

        liveBrokers = try await zk.getAllBrokers()
        for topic in try await zk.getTopics() {
            if let (assignment, _) = try await zk.getAssignment(topic) {
                assignments[topic] = assignment
                watchData(TopicZNode.path(topic), .partitionModification(topic))
            }
        }
        states = try await zk.getPartitionStates(allPartitions())
        await sendUpdateMetadata(to: Array(liveBrokers.keys), partitions: allPartitions())

        try await initializeNewPartitions(allPartitions().filter { states[$0] == nil })
        // Every live replica learns its partitions' current state, as Kafka's replica state machine
        // does on failover: a broker that restarted while no other controller ran has no other way
        // to learn that it leads.
        try await electLeaders(for: allPartitions())
        await sendLeaderAndIsr(states.filter { $0.value.leader != LeaderAndIsr.noLeader })
        try await processTopicDeletion()
        try await processIsrChangeNotification()
    }

    func allPartitions() -> [TopicPartition] {
        assignments.flatMap { topic, assignment in assignment.partitions.keys.map { TopicPartition(topic: topic, partition: $0) } }
    }

    func replicas(_ tp: TopicPartition) -> [Int32] { assignments[tp.topic]?.partitions[tp.partition] ?? [] }

    // MARK: Brokers

    private func processBrokerChange() async throws {
        let start = ContinuousClock.now
        let current = try await zk.getAllBrokers()
        let dead = Set(liveBrokers.keys).subtracting(current.keys)
        let added = Set(current.keys).subtracting(liveBrokers.keys)
        let bounced = Set(current.keys).intersection(liveBrokers.keys).filter { current[$0]!.epoch > liveBrokers[$0]!.epoch }
        liveBrokers = current
        shuttingDown.subtract(dead.union(bounced))
        guard !dead.isEmpty || !added.isEmpty || !bounced.isEmpty else { return }
        logger.info(
            "broker change: dead \(dead.sorted()), new \(added.sorted()), bounced \(bounced.sorted())",
            metadata: ["broker.id": "\(brokerID)", "controller.epoch": "\(epoch)"])

        // Failed brokers' partitions get new leaders from the ISR; the dead leave the ISRs. A bounced
        // broker counts as failed first: it lost its state with its old session.
        var changed = try await electLeaders(for: allPartitions(), excluding: bounced)
        if !bounced.isEmpty { changed += try await electLeaders(for: allPartitions()) }
        if changed > 0 { lastFailureHandling = (changed, ContinuousClock.now - start) }

        // New and bounced brokers learn everything, and start following their replicas.
        let startup = Array(added.union(bounced))
        if !startup.isEmpty {
            await sendUpdateMetadata(to: startup, partitions: allPartitions())
            var requests: [ControllerRequest] = []
            for broker in startup {
                let hosted = allPartitions().filter { replicas($0).contains(broker) }.compactMap(fullState)
                if !hosted.isEmpty, let epoch = liveBrokers[broker]?.epoch {
                    requests.append(.leaderAndIsr(broker: broker, brokerEpoch: epoch, controllerEpoch: self.epoch, controllerID: brokerID, partitions: hosted))
                }
            }
            await channel.send(requests)
        }
        // The brokers already running learn the new list of live brokers (Kafka's onBrokerStartup and
        // onBrokerFailure).
        let others = Set(liveBrokers.keys).subtracting(startup)
        if !others.isEmpty { await sendUpdateMetadata(to: Array(others), partitions: []) }
    }

    func fullState(_ tp: TopicPartition) -> PartitionState? {
        states[tp].map { PartitionState(partition: tp, leaderAndIsr: $0, replicas: replicas(tp)) }
    }

    // MARK: Leader election

    /// Gives every partition whose leader is gone a new leader, and takes dead brokers out of ISRs.
    /// Leaders come from the ISR in assignment order; with no live ISR member the partition goes
    /// offline (leader -1) unless unclean election is allowed. An ISR is never emptied.
    @discardableResult
    func electLeaders(for partitions: [TopicPartition], excluding failed: Set<Int32> = []) async throws -> Int {
        let live = Set(liveBrokers.keys).subtracting(failed).subtracting(shuttingDown)
        var candidates: [TopicPartition] = []
        var uncleanTopics: Set<String> = []
        for tp in partitions {
            guard let state = states[tp] else { continue }
            let leaderGone = state.leader == LeaderAndIsr.noLeader || !live.contains(state.leader)
            if leaderGone || state.isr.contains(where: { !live.contains($0) }) { candidates.append(tp) }
            if leaderGone && !state.isr.contains(where: live.contains) && !uncleanTopics.contains(tp.topic) {
                if try await uncleanAllowed(tp.topic) { uncleanTopics.insert(tp.topic) }
            }
        }
        guard !candidates.isEmpty else { return 0 }
        let changed = try await updateStates(candidates) { tp, state in
            Self.elect(state, replicas: self.replicas(tp), live: live, unclean: uncleanTopics.contains(tp.topic), controllerEpoch: self.epoch)
        }
        await sendLeaderAndIsr(changed)
        return changed.count
    }

    /// The offline election (`offlinePartitionLeaderElection`) plus the controller's ISR shrink;
    /// nil when nothing needs to change.
    static func elect(_ state: LeaderAndIsr, replicas: [Int32], live: Set<Int32>, unclean: Bool, controllerEpoch: Int32) -> LeaderAndIsr? {
        let liveIsr = state.isr.filter(live.contains)
        // Never empty the ISR: the last member stays, so the partition can come back with it.
        let shrunkIsr = liveIsr.isEmpty ? [state.isr.contains(state.leader) ? state.leader : state.isr.last].compactMap { $0 } : liveIsr
        var next = state
        next.controllerEpoch = controllerEpoch
        if state.leader != LeaderAndIsr.noLeader && live.contains(state.leader) {
            guard shrunkIsr != state.isr else { return nil }
            next.isr = shrunkIsr
        } else if let leader = replicas.first(where: { live.contains($0) && state.isr.contains($0) }) {
            next.leader = leader
            next.isr = liveIsr
        } else if unclean, let leader = replicas.first(where: live.contains) {
            next.leader = leader
            next.isr = [leader]
        } else {
            guard state.leader != LeaderAndIsr.noLeader || shrunkIsr != state.isr else { return nil }
            next.leader = LeaderAndIsr.noLeader
            next.isr = shrunkIsr
        }
        next.leaderEpoch = state.leaderEpoch + 1
        return next
    }

    private func uncleanAllowed(_ topic: String) async throws -> Bool {
        let config = try await zk.getTopicConfig(topic)
        if let value = config["unclean.leader.election.enable"] { return value.lowercased() == "true" }
        return settings.uncleanLeaderElection
    }

    /// Writes new partition states with compare-and-set on each state znode and the controller
    /// epoch check, many in flight at once. A state changed meanwhile (the leader shrank or grew its
    /// ISR) is read again and recomputed. Returns the states written.
    func updateStates(
        _ partitions: [TopicPartition], compute: (TopicPartition, LeaderAndIsr) -> LeaderAndIsr?
    ) async throws -> [TopicPartition: LeaderAndIsr] {
        let epochVersion = epochZkVersion
        let myEpoch = epoch
        var pending = partitions.compactMap { tp in states[tp].map { (tp, $0) } }
        var written: [TopicPartition: LeaderAndIsr] = [:]
        for _ in 0..<5 where !pending.isEmpty {
            var retry: [TopicPartition] = []
            try await withThrowingTaskGroup(of: (TopicPartition, LeaderAndIsr?, Bool).self) { group in
                var inFlight = 0
                for (tp, current) in pending {
                    guard let next = compute(tp, current) else { continue }
                    if inFlight >= settings.maxConcurrentWrites, let (doneTP, state, conflict) = try await group.next() {
                        inFlight -= 1
                        if conflict { retry.append(doneTP) } else if let state { written[doneTP] = state }
                    }
                    inFlight += 1
                    group.addTask { [zk] in
                        do {
                            let results = try await zk.zooKeeper.multi([
                                .check(path: ControllerEpochZNode.path, version: epochVersion),
                                .setData(path: TopicPartitionStateZNode.path(tp), data: TopicPartitionStateZNode.encode(next), version: current.zkVersion),
                            ])
                            guard case .set(let stat) = results[1] else { return (tp, nil, false) }
                            var stored = next
                            stored.zkVersion = stat.version
                            return (tp, stored, false)
                        } catch let error as ZooKeeperError where error == .badVersion {
                            if error.path == ControllerEpochZNode.path {
                                throw CoordinationError.controllerMoved(detail: "/controller_epoch changed under epoch \(myEpoch)")
                            }
                            return (tp, nil, true)
                        }
                    }
                }
                for try await (tp, state, conflict) in group {
                    if conflict { retry.append(tp) } else if let state { written[tp] = state }
                }
            }
            for (tp, state) in written { states[tp] = state }
            let fresh = try await zk.getPartitionStates(retry)
            for (tp, state) in fresh { states[tp] = state }
            pending = retry.compactMap { tp in fresh[tp].map { (tp, $0) } }
        }
        return written
    }

    // MARK: Topics

    private func processTopicChange() async throws {
        let topics = Set(try await zk.getTopics())
        for topic in Set(assignments.keys).subtracting(topics) {
            assignments[topic] = nil
            states = states.filter { $0.key.topic != topic }
        }
        var newPartitions: [TopicPartition] = []
        for topic in topics.subtracting(assignments.keys) {
            guard let (assignment, _) = try await zk.getAssignment(topic) else { continue }
            assignments[topic] = assignment
            watchData(TopicZNode.path(topic), .partitionModification(topic))
            newPartitions += assignment.partitions.keys.map { TopicPartition(topic: topic, partition: $0) }
        }
        try await initializeNewPartitions(newPartitions)
    }

    private func processPartitionModification(_ topic: String) async throws {
        guard let (assignment, _) = try await zk.getAssignment(topic) else { return }
        let known = assignments[topic]?.partitions ?? [:]
        let removed = Set(known.keys).subtracting(assignment.partitions.keys)
        if !removed.isEmpty {
            logger.error("assignment of topic \(topic) dropped partitions \(removed.sorted()); partitions cannot be removed, ignoring that")
        }
        var merged = assignment
        for (partition, replicas) in known { merged.partitions[partition] = replicas }
        assignments[topic] = merged
        let added = Set(assignment.partitions.keys).subtracting(known.keys).map { TopicPartition(topic: topic, partition: $0) }
        try await initializeNewPartitions(added)
    }

    /// New partitions get their first state: leader = first live replica, ISR = the live replicas,
    /// leader epoch 0 (`initializeLeaderAndIsrForPartitions`). A partition with no live replica
    /// waits for one to register.
    private func initializeNewPartitions(_ partitions: [TopicPartition]) async throws {
        let live = Set(liveBrokers.keys)
        var created: [TopicPartition: LeaderAndIsr] = [:]
        try await withThrowingTaskGroup(of: (TopicPartition, LeaderAndIsr?).self) { group in
            for tp in partitions {
                let liveReplicas = replicas(tp).filter(live.contains)
                guard let leader = liveReplicas.first else {
                    logger.warning("no live replica for new partition \(tp); it waits for one", metadata: ["broker.id": "\(brokerID)"])
                    continue
                }
                let state = LeaderAndIsr(leader: leader, leaderEpoch: 0, isr: liveReplicas, controllerEpoch: epoch)
                let epochVersion = epochZkVersion
                group.addTask { [zk] in
                    try await zk.createRecursive(TopicPartitionStateZNode.partitionPath(tp))
                    do {
                        try await zk.zooKeeper.multi([
                            .check(path: ControllerEpochZNode.path, version: epochVersion),
                            .create(path: TopicPartitionStateZNode.path(tp), data: TopicPartitionStateZNode.encode(state), acl: zk.acl, mode: .persistent),
                        ])
                        return (tp, state)
                    } catch let error as ZooKeeperError where error == .nodeExists {
                        return (tp, try await zk.getPartitionState(tp))  // a previous controller got there first
                    } catch let error as ZooKeeperError where error == .badVersion {
                        throw CoordinationError.controllerMoved(detail: "/controller_epoch changed")
                    }
                }
            }
            for try await (tp, state) in group { if let state { created[tp] = state } }
        }
        for (tp, state) in created { states[tp] = state }
        await sendLeaderAndIsr(created)
        // Partitions created before their replicas were live may elect now.
        try await electLeaders(for: partitions.filter { created[$0] == nil && states[$0] != nil })
    }

    private func processTopicDeletion() async throws {
        let queued = try await zk.children(DeleteTopicsZNode.path)
        for topic in queued {
            guard settings.deleteTopicEnable, let assignment = assignments[topic] else {
                if !settings.deleteTopicEnable {
                    logger.warning("delete.topic.enable is false; ignoring the request to delete \(topic)")
                }
                try await fenced([.delete(path: DeleteTopicsZNode.path(topic), version: -1)])
                continue
            }
            let partitions = assignment.partitions.keys.sorted().map { TopicPartition(topic: topic, partition: $0) }
            var requests: [ControllerRequest] = []
            for broker in Set(assignment.partitions.values.joined()) {
                guard let info = liveBrokers[broker] else { continue }
                requests.append(.stopReplica(broker: broker, brokerEpoch: info.epoch, controllerEpoch: epoch, controllerID: brokerID, partitions: partitions.filter { replicas($0).contains(broker) }, delete: true))
            }
            await channel.send(requests)
            var operations: [MultiOperation] = []
            for tp in partitions where try await zk.zooKeeper.exists(TopicPartitionStateZNode.partitionPath(tp)).stat != nil {
                if try await zk.zooKeeper.exists(TopicPartitionStateZNode.path(tp)).stat != nil {
                    operations.append(.delete(path: TopicPartitionStateZNode.path(tp), version: -1))
                }
                operations.append(.delete(path: TopicPartitionStateZNode.partitionPath(tp), version: -1))
            }
            if try await zk.zooKeeper.exists(TopicPartitionStateZNode.partitionsPath(topic)).stat != nil {
                operations.append(.delete(path: TopicPartitionStateZNode.partitionsPath(topic), version: -1))
            }
            operations.append(.delete(path: TopicZNode.path(topic), version: -1))
            if try await zk.zooKeeper.exists(ConfigEntityZNode.topicPath(topic)).stat != nil {
                operations.append(.delete(path: ConfigEntityZNode.topicPath(topic), version: -1))
            }
            operations.append(.delete(path: DeleteTopicsZNode.path(topic), version: -1))
            try await fenced(operations)
            // Every broker forgets the topic: its partitions go out once more with Kafka's
            // LeaderDuringDelete (-2) as leader.
            let forgotten = partitions.compactMap(fullState).map { state -> PartitionState in
                var state = state
                state.leaderAndIsr.leader = LeaderAndIsr.leaderDuringDelete
                return state
            }
            assignments[topic] = nil
            states = states.filter { $0.key.topic != topic }
            logger.info("deleted topic \(topic)", metadata: ["broker.id": "\(brokerID)"])
            let live = Array(liveBrokers.values)
            await channel.send(liveBrokers.values.map { info in
                .updateMetadata(broker: info.id, brokerEpoch: info.epoch, controllerEpoch: epoch, controllerID: brokerID, liveBrokers: live, partitions: forgotten)
            })
        }
    }

    private func processIsrChangeNotification() async throws {
        let children = try await zk.children(IsrChangeNotificationZNode.parent)
        guard !children.isEmpty else { return }
        var changed: Set<TopicPartition> = []
        for child in children {
            let path = "\(IsrChangeNotificationZNode.parent)/\(child)"
            if let (data, _) = try await zk.read(path) {
                changed.formUnion((try? IsrChangeNotificationZNode.decode(data, path: path)) ?? [])
            }
        }
        let fresh = try await zk.getPartitionStates(changed.filter { assignments[$0.topic] != nil })
        for (tp, state) in fresh { states[tp] = state }
        await sendUpdateMetadata(to: Array(liveBrokers.keys), partitions: Array(fresh.keys))
        for child in children {
            try? await zk.zooKeeper.delete("\(IsrChangeNotificationZNode.parent)/\(child)")
        }
    }

    /// A write fenced by the controller epoch: it fails once another controller has been elected.
    public func fenced(_ operations: [MultiOperation]) async throws {
        do {
            try await zk.zooKeeper.multi([.check(path: ControllerEpochZNode.path, version: epochZkVersion)] + operations)
        } catch let error as ZooKeeperError where error == .badVersion && error.path == ControllerEpochZNode.path {
            throw CoordinationError.controllerMoved(detail: "/controller_epoch is no longer at version \(epochZkVersion)")
        }
    }

    // MARK: Requests to brokers

    func sendLeaderAndIsr(_ changed: [TopicPartition: LeaderAndIsr]) async {
        guard !changed.isEmpty else { return }
        var perBroker: [Int32: [PartitionState]] = [:]
        for (tp, state) in changed {
            for replica in replicas(tp) where liveBrokers[replica] != nil {
                perBroker[replica, default: []].append(PartitionState(partition: tp, leaderAndIsr: state, replicas: replicas(tp)))
            }
        }
        let requests = perBroker.compactMap { broker, partitions -> ControllerRequest? in
            guard let info = liveBrokers[broker] else { return nil }
            return .leaderAndIsr(broker: broker, brokerEpoch: info.epoch, controllerEpoch: epoch, controllerID: brokerID, partitions: partitions)
        }
        await channel.send(requests)
        await sendUpdateMetadata(to: Array(liveBrokers.keys), partitions: Array(changed.keys))
    }

    func sendUpdateMetadata(to brokers: [Int32], partitions: [TopicPartition]) async {
        let states = partitions.compactMap(fullState)
        let live = Array(liveBrokers.values)
        let requests = brokers.compactMap { broker -> ControllerRequest? in
            guard let info = liveBrokers[broker] else { return nil }
            return .updateMetadata(broker: broker, brokerEpoch: info.epoch, controllerEpoch: epoch, controllerID: brokerID, liveBrokers: live, partitions: states)
        }
        await channel.send(requests)
    }

    // MARK: Watches

    private func watchChildren(_ path: String, _ event: Event) {
        // The event is queued each time the watch is armed, the first time included, so a change
        // that lands between a read and the arming (a watch firing and the handler's read, or the
        // failover's first read and the first arming) is never missed. The handlers are idempotent.
        watchTasks.append(Task { [zk, events] in
            while !Task.isCancelled {
                do {
                    try await zk.createRecursive(path)
                    guard let watch = try await zk.zooKeeper.getChildren(path, watch: true).watch else { return }
                    events.yield(event)
                    if await watch.event() == .sessionLost { return }
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        })
    }

    private func watchData(_ path: String, _ event: Event) {
        watchTasks.append(Task { [zk, events] in
            while !Task.isCancelled {
                do {
                    guard let watch = try await zk.zooKeeper.getData(path, watch: true).watch else { return }
                    events.yield(event)
                    let change = await watch.event()
                    if change == .sessionLost || change == .deleted(path: path) { return }
                } catch ZooKeeperError.noNode {
                    return
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        })
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
