import Foundation
import KafkaModel
import Logging
import TestSupport
import Testing
import ZooKeeperClient

@testable import KafkaCoordination

/// A broker's coordination running in the test process, with its own ZooKeeper session, reaching
/// ZooKeeper through a proxy so the test can cut it off (its session then times out, as when a
/// broker hangs or its machine dies).
final class TestBroker: Sendable {
    let id: Int32
    let zooKeeper: ZooKeeper
    let coordinator: BrokerCoordinator
    let proxy: TCPProxy

    init(id: Int32, ensemble: ZooKeeperEnsemble, sessionTimeout: Duration, settings: Controller.Settings = .init()) async throws {
        self.id = id
        proxy = try TCPProxy(upstreamPort: ensemble.servers[0].clientPort)
        zooKeeper = try await ZooKeeper.connect("127.0.0.1:\(proxy.port)", sessionTimeout: sessionTimeout, logger: testLogger)
        let zk = KafkaZkClient(zooKeeper: zooKeeper, logger: testLogger)
        let info = BrokerInfo(id: id, endpoints: [BrokerEndpoint(listenerName: "PLAINTEXT", host: "127.0.0.1", port: 9090 + id)], timestamp: 1)
        coordinator = try await BrokerCoordinator.start(info: info, zk: zk, sessionTimeout: sessionTimeout, settings: settings, logger: testLogger)
    }

    var isController: Bool { get async { await coordinator.controller.isActive } }

    func stop() async {
        await coordinator.shutdown()
        await zooKeeper.close()
        proxy.stop()
    }
}

/// Polls until `condition` holds, at most `timeout`; returns how long it took.
@discardableResult
func eventually(
    _ what: String, timeout: Duration, _ condition: @Sendable () async throws -> Bool
) async throws -> Duration {
    let start = ContinuousClock.now
    while ContinuousClock.now - start < timeout {
        if try await condition() { return ContinuousClock.now - start }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("\(what) did not happen within \(timeout)")
}

@Suite(.serialized) struct ControllerTests {
    let sessionTimeout = Duration.seconds(4)

    func startCluster(_ ensemble: ZooKeeperEnsemble, ids: [Int32] = [1, 2, 3]) async throws -> [TestBroker] {
        var brokers: [TestBroker] = []
        for id in ids { brokers.append(try await TestBroker(id: id, ensemble: ensemble, sessionTimeout: sessionTimeout)) }
        let started = brokers
        try await eventually("a controller elected", timeout: .seconds(10)) {
            var count = 0
            for broker in started where await broker.isController { count += 1 }
            return count == 1
        }
        return brokers
    }

    func admin(_ ensemble: ZooKeeperEnsemble) async throws -> KafkaZkClient {
        KafkaZkClient(zooKeeper: try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger), logger: testLogger)
    }

    @Test func registrationTopicCreationAndKafkasZnodes() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let brokers = try await startCluster(ensemble)
        let zk = try await admin(ensemble)

        // Kafka's top-level layout, the cluster id, three registered brokers with their epochs.
        for path in PersistentZNodes.paths { #expect(try await zk.zooKeeper.exists(path).stat != nil, "\(path)") }
        #expect(try await zk.getOrCreateClusterID().count == 22)
        let registered = try await zk.getAllBrokers()
        #expect(Set(registered.keys) == [1, 2, 3])
        for broker in brokers {
            #expect(registered[broker.id]?.epoch == broker.coordinator.registration.brokerEpoch)
            #expect(try await zk.zooKeeper.exists(BrokerIdZNode.path(broker.id)).stat?.ephemeralOwner == broker.zooKeeper.sessionID)
        }
        #expect(try ControllerEpochZNode.decode(try await zk.zooKeeper.getData(ControllerEpochZNode.path).data) == 1)

        // A topic written as an admin writes it gets its partition states from the controller.
        let assignment = try ReplicaAssignment.assign(partitions: 3, replicationFactor: 3, brokers: [1, 2, 3].map { .init(id: $0) }, fixedStartIndex: 0)
        try await zk.createTopic("orders", assignment: TopicAssignment(topicID: KafkaZkClient.randomUUIDBase64(), partitions: assignment), config: ["min.insync.replicas": "2"])
        await #expect(throws: CoordinationError.self) { try await zk.createTopic("orders", assignment: TopicAssignment(topicID: "x", partitions: [0: [1]]), config: [:]) }
        await #expect(throws: CoordinationError.self) { try await zk.createTopic("bad/name", assignment: TopicAssignment(topicID: "x", partitions: [0: [1]]), config: [:]) }
        for partition in 0..<3 {
            let tp = TopicPartition(topic: "orders", partition: Int32(partition))
            try await eventually("state of \(tp)", timeout: .seconds(15)) { try await zk.getPartitionState(tp) != nil }
            let state = try #require(try await zk.getPartitionState(tp))
            #expect(state.leader == assignment[Int32(partition)]![0])
            #expect(state.isr == assignment[Int32(partition)]!)
            #expect(state.leaderEpoch == 0 && state.controllerEpoch == 1)
        }
        #expect(try await zk.getTopicConfig("orders") == ["min.insync.replicas": "2"])

        // Partitions added later get states too; removing partitions is refused.
        try await zk.addPartitions("orders", totalPartitions: 4, replicas: [[2, 3, 1]])
        try await eventually("state of the added partition", timeout: .seconds(15)) {
            try await zk.getPartitionState(TopicPartition(topic: "orders", partition: 3))?.leader == 2
        }
        await #expect(throws: CoordinationError.self) { try await zk.addPartitions("orders", totalPartitions: 2) }
        let grown = try await zk.addPartitions("orders", totalPartitions: 6)
        #expect(grown.partitions.count == 6 && grown.partitions.values.allSatisfy { Set($0).count == 3 })

        // A topic placed by the admin path spreads over the live brokers.
        let placed = try await zk.createTopic("spread", partitions: 6, replicationFactor: 2)
        #expect(Set(placed.partitions.values.map { $0[0] }) == [1, 2, 3])
        await #expect(throws: CoordinationError.self) { try await zk.createTopic("too-wide", partitions: 1, replicationFactor: 4) }

        // The leader changed an ISR and announced it: the controller picks the state up and
        // clears the notification.
        let tp0 = TopicPartition(topic: "orders", partition: 0)
        let state0 = try #require(try await zk.getPartitionState(tp0))
        var shrunk = state0
        shrunk.isr = [state0.leader]
        try await zk.zooKeeper.setData(TopicPartitionStateZNode.path(tp0), data: TopicPartitionStateZNode.encode(shrunk), version: state0.zkVersion)
        try await zk.writeIsrChangeNotification([tp0])
        var controller: Controller?
        for broker in brokers where await broker.isController { controller = broker.coordinator.controller }
        let active = try #require(controller)
        try await eventually("ISR change seen by the controller", timeout: .seconds(15)) {
            let children = try await zk.children(IsrChangeNotificationZNode.parent)
            let known = await active.partitionState(tp0)
            return children.isEmpty && known?.isr == [state0.leader]
        }

        // Deletion removes every znode of the topic.
        try await zk.markTopicForDeletion("orders")
        try await eventually("topic deleted", timeout: .seconds(15)) {
            try await zk.zooKeeper.exists(TopicZNode.path("orders")).stat == nil
        }
        #expect(try await zk.zooKeeper.exists(ConfigEntityZNode.topicPath("orders")).stat == nil)
        #expect(try await zk.children(DeleteTopicsZNode.path).isEmpty)

        for broker in brokers { await broker.stop() }
        await zk.zooKeeper.close()
    }

    @Test(arguments: [1, 3])
    func controllerFailoverFencesTheOldController(ensembleSize: Int) async throws {
        let ensemble = try ZooKeeperEnsemble(size: ensembleSize)
        defer { ensemble.stop() }
        let brokers = try await startCluster(ensemble)
        let zk = try await admin(ensemble)
        var old: TestBroker?
        for broker in brokers where await broker.isController { old = broker }
        let oldController = try #require(old)
        let oldEpoch = await oldController.coordinator.controller.epoch

        // The controller's session times out: it can no longer reach ZooKeeper.
        oldController.proxy.freeze()
        let elapsed = try await eventually("a new controller", timeout: sessionTimeout + .seconds(1) + .seconds(2)) {
            guard let (data, _) = try await zk.read(ControllerZNode.path) else { return false }
            return try ControllerZNode.decode(data) != oldController.id
        }
        #expect(elapsed <= sessionTimeout + .seconds(1), "failover took \(elapsed)")
        #expect(try ControllerEpochZNode.decode(try await zk.zooKeeper.getData(ControllerEpochZNode.path).data) == oldEpoch + 1)

        // The old controller comes back from its pause: every write it attempts is refused.
        oldController.proxy.thaw()
        try await oldController.zooKeeper.waitUntilConnected(timeout: .seconds(10))
        await #expect(throws: CoordinationError.self) {
            try await oldController.coordinator.controller.fenced([.create(path: "/zombie", data: [], acl: ACL.openUnsafe, mode: .persistent)])
        }
        #expect(try await zk.zooKeeper.exists("/zombie").stat == nil)
        // It resigned, registered again on its new session, and did not take the controller back.
        try await eventually("old controller re-registered", timeout: .seconds(10)) {
            try await zk.getBroker(oldController.id)?.epoch == oldController.coordinator.registration.brokerEpoch
        }
        #expect(await oldController.isController == false)
        #expect(try ControllerEpochZNode.decode(try await zk.zooKeeper.getData(ControllerEpochZNode.path).data) == oldEpoch + 1)

        for broker in brokers { await broker.stop() }
        await zk.zooKeeper.close()
    }

    @Test func leadersMoveWhenABrokerSessionExpires() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let brokers = try await startCluster(ensemble)
        let zk = try await admin(ensemble)
        var controllerID: Int32 = 0
        for broker in brokers where await broker.isController { controllerID = broker.id }
        // The victim is a broker that is not the controller; it leads partition 0.
        let victim = brokers.first { $0.id != controllerID }!
        let others = [Int32](brokers.map(\.id).filter { $0 != victim.id })
        try await zk.createTopic(
            "events", assignment: TopicAssignment(topicID: "t1", partitions: [0: [victim.id] + others, 1: others + [victim.id]]), config: [:])
        // A single-replica topic on the victim: it has no one else to fail over to.
        try await zk.createTopic("solo", assignment: TopicAssignment(topicID: "t2", partitions: [0: [victim.id]]), config: [:])
        let p0 = TopicPartition(topic: "events", partition: 0)
        let p1 = TopicPartition(topic: "events", partition: 1)
        let solo = TopicPartition(topic: "solo", partition: 0)
        try await eventually("initial states", timeout: .seconds(15)) {
            let first = try await zk.getPartitionState(p0)?.leader
            let second = try await zk.getPartitionState(solo)?.leader
            return first == victim.id && second == victim.id
        }
        let before = try #require(try await zk.getPartitionState(p0))

        victim.proxy.freeze()
        let elapsed = try await eventually("new leader for \(p0)", timeout: sessionTimeout + .seconds(3)) {
            try await zk.getPartitionState(p0)?.leader == others[0]
        }
        #expect(elapsed <= sessionTimeout + .seconds(1), "election took \(elapsed)")
        let after = try #require(try await zk.getPartitionState(p0))
        #expect(after.leaderEpoch == before.leaderEpoch + 1)
        #expect(after.isr == before.isr.filter { $0 != victim.id })
        #expect(try await zk.getPartitionState(p1)?.isr.contains(victim.id) == false)
        try await eventually("\(solo) offline", timeout: .seconds(3)) {
            let state = try await zk.getPartitionState(solo)
            return state?.leader == -1 && state?.isr == [victim.id]
        }

        // The broker comes back (a new session, registered again by itself): its partition returns.
        victim.proxy.thaw()
        try await eventually("\(solo) back online", timeout: .seconds(15)) {
            try await zk.getPartitionState(solo)?.leader == victim.id
        }

        for broker in brokers { await broker.stop() }
        await zk.zooKeeper.close()
    }

    @Test func brokerIdsFromTheSequenceAndProducerIdBlocks() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await admin(ensemble)
        try await zk.createTopLevelPaths()
        let first = try await zk.generateBrokerID()
        let second = try await zk.generateBrokerID()
        #expect(first > 1000 && second == first + 1)
        #expect(try await zk.allocateProducerIdBlock(brokerID: 1) == ProducerIdBlock(brokerID: 1, start: 0, end: 999))
        #expect(try await zk.allocateProducerIdBlock(brokerID: 2) == ProducerIdBlock(brokerID: 2, start: 1000, end: 1999))
        await zk.zooKeeper.close()
    }
}

@Suite(.serialized) struct ZooKeeperConfigTests {
    @Test func kafkasKeysAndDefaults() throws {
        let config = try ZooKeeperConfig(properties: ["zookeeper.connect": "a:2181,b:2181/kafka"])
        #expect(config.connect == "a:2181,b:2181/kafka")
        #expect(config.sessionTimeoutMs == 18_000 && config.connectionTimeoutMs == nil && !config.setACL)
        #expect(throws: CoordinationError.self) { try ZooKeeperConfig(properties: [:]) }
        #expect(throws: CoordinationError.self) { try ZooKeeperConfig(properties: ["zookeeper.connect": "a:1", "zookeeper.session.timeout.ms": "soon"]) }
        #expect(throws: CoordinationError.self) { try ZooKeeperConfig(properties: ["zookeeper.connect": "a:1", "zookeeper.set.acl": "true"]) }
    }

    @Test func secureACLsProtectWhatTheBrokerCreates() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let config = try ZooKeeperConfig(properties: [
            "zookeeper.connect": ensemble.connectString(chroot: ""), "zookeeper.set.acl": "true",
            "zookeeper.auth.digest": "odradek:secret", "zookeeper.session.timeout.ms": "6000",
        ])
        let broker = try await config.connect(logger: testLogger)
        try await broker.createTopLevelPaths()
        try await broker.createTopic("secured", assignment: TopicAssignment(topicID: "id", partitions: [0: [1]]), config: [:])

        let stranger = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        #expect(try await stranger.getData(TopicZNode.path("secured")).data.isEmpty == false)
        await #expect(throws: ZooKeeperError.noAuth) { try await stranger.setData(TopicZNode.path("secured"), data: []) }
        await #expect(throws: ZooKeeperError.noAuth) { try await stranger.create("/brokers/ids/99", data: []) }
        await stranger.close()
        await broker.zooKeeper.close()
    }
}
