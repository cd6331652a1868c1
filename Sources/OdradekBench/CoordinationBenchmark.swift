import Foundation
import KafkaCoordination
import KafkaModel
import Logging
import TestSupport
import ZooKeeperClient

/// Controller failover and mass leader election against a real ZooKeeper server (started here, on
/// loopback). Each broker's session goes through a proxy; freezing it makes the session time out
/// as when a broker hangs.
enum CoordinationBenchmark {
    static let sessionTimeout = Duration.seconds(4)

    final class Broker: Sendable {
        let id: Int32
        let zooKeeper: ZooKeeper
        let coordinator: BrokerCoordinator
        let proxy: TCPProxy

        init(id: Int32, port: Int, logger: Logger) async throws {
            self.id = id
            proxy = try TCPProxy(upstreamPort: port)
            zooKeeper = try await ZooKeeper.connect("127.0.0.1:\(proxy.port)", sessionTimeout: sessionTimeout, logger: logger)
            let info = BrokerInfo(id: id, endpoints: [BrokerEndpoint(listenerName: "PLAINTEXT", host: "127.0.0.1", port: 9000 + id)], timestamp: 0)
            coordinator = try await BrokerCoordinator.start(
                info: info, zk: KafkaZkClient(zooKeeper: zooKeeper, logger: logger), sessionTimeout: sessionTimeout, logger: logger)
        }

        func stop() async {
            await coordinator.shutdown()
            await zooKeeper.close()
            proxy.stop()
        }
    }

    static func run(runs: Int, partitionCounts: [Int]) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        var failover: [Double] = []
        var elections: [Int: (election: [Double], reference: [Double])] = [:]
        for _ in 0..<runs {
            for count in partitionCounts {
                let (failoverSeconds, electionSeconds, referenceSeconds) = try await measure(partitions: count, logger: logger)
                if count == partitionCounts[0] { failover.append(failoverSeconds) }
                elections[count, default: ([], [])].election.append(electionSeconds)
                elections[count, default: ([], [])].reference.append(referenceSeconds)
            }
        }
        print("controller failover (from /controller deleted to re-created): median \(Measure.format(Measure.median(failover) * 1000, 0)) ms over \(failover.count) runs (min \(Measure.format((failover.min() ?? 0) * 1000, 0)), max \(Measure.format((failover.max() ?? 0) * 1000, 0)))")
        for count in partitionCounts {
            let (election, reference) = elections[count]!
            let ratios = zip(election, reference).map { $0 / $1 }
            print("leader election for \(count) partitions: median \(Measure.format(Measure.median(election), 3)) s over \(election.count) runs (min \(Measure.format(election.min() ?? 0, 3)), max \(Measure.format(election.max() ?? 0, 3))); \(count) plain pipelined setData median \(Measure.format(Measure.median(reference), 3)) s; ratio median \(Measure.format(Measure.median(ratios))); goal <= 5 s for 10000")
        }
    }

    /// One cluster of three brokers: the broker leading every partition of an N-partition topic
    /// hangs; returns the controller failover time (a separate hang of the controller), the time
    /// the controller took to elect the N new leaders once it saw the expiry, and, as a reference,
    /// the time the same server takes for N plain pipelined writes.
    static func measure(partitions: Int, logger: Logger) async throws -> (Double, Double, Double) {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let port = ensemble.servers[0].clientPort
        var brokers: [Broker] = []
        for id: Int32 in [1, 2, 3] { brokers.append(try await Broker(id: id, port: port, logger: logger)) }
        let admin = KafkaZkClient(zooKeeper: try await ZooKeeper.connect(ensemble.connectString(), logger: logger), logger: logger)
        defer { Task { await admin.zooKeeper.close() } }

        var controller: Broker?
        for _ in 0..<200 where controller == nil {
            for broker in brokers where await broker.coordinator.controller.isActive { controller = broker }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let active = controller else { throw TestFailure("no controller elected") }
        let victim = brokers.first { $0.id != active.id }!
        let others = brokers.map(\.id).filter { $0 != victim.id }

        let assignment = Dictionary(uniqueKeysWithValues: (0..<partitions).map { (Int32($0), [victim.id] + others) })
        try await admin.createTopic("bench", assignment: TopicAssignment(topicID: KafkaZkClient.randomUUIDBase64(), partitions: assignment), config: [:])
        let last = TopicPartition(topic: "bench", partition: Int32(partitions - 1))
        while try await admin.getPartitionState(last) == nil { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .milliseconds(500))

        // Mass election: the leader of every partition hangs.
        victim.proxy.freeze()
        while try await admin.getPartitionState(last)?.leader == victim.id { try await Task.sleep(for: .milliseconds(50)) }
        var election: Duration?
        while election == nil {
            if let handled = await active.coordinator.controller.lastFailureHandling, handled.partitions >= partitions {
                election = handled.duration
            }
            try await Task.sleep(for: .milliseconds(50))
        }

        // Controller failover: the controller hangs; time from its znode's deletion to the new one.
        let watch = try await admin.zooKeeper.exists(ControllerZNode.path, watch: true).watch
        active.proxy.freeze()
        _ = await watch?.event()
        let deleted = ContinuousClock.now
        while try await admin.zooKeeper.exists(ControllerZNode.path).stat == nil { try await Task.sleep(for: .milliseconds(5)) }
        let failover = ContinuousClock.now - deleted

        // Reference: N plain setData calls, pipelined the same way, on the same server.
        try await admin.createRecursive("/bench-reference")
        let reference = try await Measure.asyncSeconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<partitions {
                    if i >= 1000 { try await group.next() }
                    group.addTask { _ = try await admin.zooKeeper.setData("/bench-reference", data: Array("\(i)".utf8)) }
                }
                try await group.waitForAll()
            }
        }
        for broker in brokers {
            broker.proxy.thaw()
            await broker.stop()
        }
        return (Self.seconds(failover), Self.seconds(election!), reference)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

extension Measure {
    static func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
        let start = now()
        try await body()
        return now() - start
    }
}
