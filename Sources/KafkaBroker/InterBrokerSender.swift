import KafkaClient
import KafkaCoordination
import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import Synchronization

/// The controller's line to each other broker (Kafka's ControllerChannelManager): one queue and one
/// connection per broker, so requests reach a broker in the order the controller made them. A
/// failed send is retried on a fresh connection until it succeeds, the broker is gone from
/// ZooKeeper, or a newer registration of it appears (the request was meant for the old one).
final class InterBrokerSender: Sendable {
    private let zk: KafkaZkClient
    private let group: any EventLoopGroup
    private let logger: Logger
    private let queues = Mutex<[Int32: AsyncStream<ControllerRequest>.Continuation]>([:])
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Requests queued and not yet answered (or dropped), over all brokers.
    private let outstanding = Mutex(0)

    /// Whether every queued request has been delivered (or given up on): an admin request waits for
    /// this so that every broker knows about a new topic when the client is answered.
    var isIdle: Bool { outstanding.withLock { $0 == 0 } }

    init(zk: KafkaZkClient, group: any EventLoopGroup, logger: Logger) {
        self.zk = zk
        self.group = group
        self.logger = logger
    }

    func enqueue(_ request: ControllerRequest) {
        let continuation = queues.withLock { queues -> AsyncStream<ControllerRequest>.Continuation in
            if let existing = queues[request.broker] { return existing }
            let (stream, continuation) = AsyncStream<ControllerRequest>.makeStream()
            queues[request.broker] = continuation
            let broker = request.broker
            let task = Task { await self.drain(stream, to: broker) }
            tasks.withLock { $0.append(task) }
            return continuation
        }
        outstanding.withLock { $0 += 1 }
        continuation.yield(request)
    }

    /// Stops sending and waits until every connection is closed (before the event loops stop).
    func shutdown() async {
        for continuation in queues.withLock({ Array($0.values) }) { continuation.finish() }
        let running = tasks.withLock { $0 }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    private func drain(_ stream: AsyncStream<ControllerRequest>, to broker: Int32) async {
        var connection: KafkaConnection?
        for await request in stream {
            defer { outstanding.withLock { $0 -= 1 } }
            var attempt = 0
            while !Task.isCancelled {
                attempt += 1
                do {
                    guard let info = try await zk.getBroker(broker), info.epoch <= request.brokerEpoch || request.brokerEpoch < 0 else {
                        logger.info("dropping a controller request for broker \(broker): it is gone or has re-registered")
                        break
                    }
                    if connection == nil || connection?.isActive == false {
                        guard let endpoint = info.endpoints.first else { break }
                        var options = KafkaConnection.Options(clientId: "controller", requestTimeout: .seconds(30))
                        options.negotiateApiVersions = false
                        connection = try await KafkaConnection.connect(
                            host: endpoint.host, port: Int(endpoint.port), options: options, eventLoopGroup: group)
                    }
                    try await send(request, over: connection!)
                    break
                } catch {
                    await connection?.close()
                    connection = nil
                    if attempt % 10 == 1 { logger.warning("controller request to broker \(broker) failed (attempt \(attempt)): \(error)") }
                    try? await Task.sleep(for: .milliseconds(min(100 * attempt, 1000)))
                }
            }
        }
        await connection?.close()
    }

    private func send(_ request: ControllerRequest, over connection: KafkaConnection) async throws {
        switch request {
        case .leaderAndIsr(_, let brokerEpoch, let controllerEpoch, let controllerID, let partitions):
            let live = try await zk.getAllBrokers().values.filter { broker in partitions.contains { $0.leaderAndIsr.leader == broker.id } }
            _ = try await connection.send(
                ControllerWire.leaderAndIsrRequest(
                    controllerID: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch, partitions: partitions,
                    liveLeaders: Array(live)),
                version: ControllerWire.leaderAndIsrVersion)
        case .updateMetadata(_, let brokerEpoch, let controllerEpoch, let controllerID, let liveBrokers, let partitions):
            _ = try await connection.send(
                ControllerWire.updateMetadataRequest(
                    controllerID: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch, liveBrokers: liveBrokers,
                    partitions: partitions),
                version: ControllerWire.updateMetadataVersion)
        case .stopReplica(_, let brokerEpoch, let controllerEpoch, let controllerID, let partitions, let delete):
            _ = try await connection.send(
                ControllerWire.stopReplicaRequest(
                    controllerID: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch, partitions: partitions,
                    delete: delete),
                version: ControllerWire.stopReplicaVersion)
        }
    }
}
