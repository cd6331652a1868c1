import KafkaClient
import KafkaCoordination
import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import Synchronization

extension KafkaServer {
    // MARK: ControlledShutdown (controller side)

    func controlledShutdown(_ request: ControlledShutdownRequest) async -> ControlledShutdownResponse {
        guard let controller = coordinator?.controller else {
            return ControlledShutdownResponse(errorCode: KafkaErrorCode.notController.rawValue, remainingPartitions: [])
        }
        switch await controller.requestControlledShutdown(broker: request.brokerId, brokerEpoch: request.brokerEpoch) {
        case .success(let remaining):
            // Answer once the decisions have reached the brokers, the stopping one included: its own
            // Metadata then names the new leaders when it refuses the writes it was holding.
            _ = await waitUntil(timeoutMs: 5_000) { self.interBroker.isIdle }
            return ControlledShutdownResponse(
                errorCode: 0,
                remainingPartitions: remaining.map { .init(topicName: $0.topic, partitionIndex: $0.partition) })
        case .failure(let refusal):
            return ControlledShutdownResponse(errorCode: refusal.errorCode.rawValue, remainingPartitions: [])
        }
    }

    // MARK: ControlledShutdown (the stopping broker's side)

    /// Asks the controller, over the network as Kafka does (also when this broker is the controller),
    /// to move this broker's leaderships away; retries `controlled.shutdown.max.retries` times while
    /// the answer is an error or partitions remain. Gives up quietly: an unclean stop is still safe,
    /// only slower for clients.
    func moveLeadershipAway() async {
        guard let registration = coordinator?.registration else { return }
        // Stop replicating first: a follower still fetching would be taken back into the ISRs the
        // controller is about to take it out of, and acks=all would then wait for a broker that is leaving.
        leaving.withLock { $0 = true }
        for fetcher in fetchers.withLock({ fetchers in defer { fetchers = [:] }; return Array(fetchers.values) }) { await fetcher.stop() }
        let attempts = max(1, settings.controlledShutdownMaxRetries)
        for attempt in 1...attempts {
            if await handOver(attempt: attempt, brokerEpoch: registration.brokerEpoch) { return }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(settings.controlledShutdownRetryBackoffMs)) }
        }
        logger.warning("controlled shutdown did not complete after \(attempts) attempts; stopping anyway")
    }

    /// One ControlledShutdown round trip; writes to partitions being moved wait meanwhile. True when
    /// nothing is left to move.
    private func handOver(attempt: Int, brokerEpoch: Int64) async -> Bool {
        replicas.setHandingOver(true)
        defer { replicas.setHandingOver(false) }
        do {
            let remaining = try await sendControlledShutdown(brokerEpoch: brokerEpoch)
            // The controller has moved every other leadership: stop leading them here at once,
            // whether or not its LeaderAndIsr has arrived yet, so nothing more is acknowledged.
            replicas.resignLeadership(except: Set(remaining))
            if remaining.isEmpty {
                logger.info("controlled shutdown succeeded")
                return true
            }
            logger.warning("controlled shutdown attempt \(attempt): still leading \(remaining.count) partitions")
        } catch {
            logger.warning("controlled shutdown attempt \(attempt) failed: \(error)")
        }
        return false
    }

    private func sendControlledShutdown(brokerEpoch: Int64) async throws -> [TopicPartition] {
        guard let (data, _) = try await zk.read(ControllerZNode.path) else {
            throw KafkaClientError(.noBrokerAvailable, "no controller is elected")
        }
        let controllerID = try ControllerZNode.decode(data)
        guard let info = try await zk.getBroker(controllerID), let endpoint = info.endpoints.first else {
            throw KafkaClientError(.noBrokerAvailable, "controller \(controllerID) is not registered")
        }
        var options = KafkaConnection.Options(clientId: "broker-\(brokerID)-controlled-shutdown", requestTimeout: .seconds(30))
        options.negotiateApiVersions = false
        let connection = try await KafkaConnection.connect(
            host: endpoint.host, port: Int(endpoint.port), options: options, eventLoopGroup: eventLoopGroup)
        defer { Task { await connection.close() } }
        let response = try await connection.send(ControlledShutdownRequest(brokerId: brokerID, brokerEpoch: brokerEpoch), version: 3)
        let error = KafkaErrorCode(rawValue: response.errorCode)
        if error != .none {
            throw KafkaClientError(.kafkaError, "the controller (broker \(controllerID)) refused the controlled shutdown: \(error)", errorCode: error)
        }
        return response.remainingPartitions.map { TopicPartition(topic: $0.topicName, partition: $0.partitionIndex) }
    }

    // MARK: ElectLeaders

    func electLeaders(_ request: ElectLeadersRequest, _ context: RequestContext) async -> ElectLeadersResponse {
        let kind = ElectionKind(rawValue: context.version >= 1 ? request.electionType : 0)
        let requested = request.topicPartitions.map { topics in
            topics.flatMap { topic in topic.partitions.map { TopicPartition(topic: topic.topic, partition: $0) } }
        }
        func refused(_ code: KafkaErrorCode, _ message: String) -> ElectLeadersResponse {
            let partitions = requested ?? []
            return ElectLeadersResponse(
                throttleTimeMs: 0, errorCode: code.rawValue,
                replicaElectionResults: Self.byTopic(partitions) { _ in (code, message) })
        }
        guard let kind else { return refused(.invalidRequest, "unknown election type \(request.electionType)") }
        guard let controller = coordinator?.controller else { return refused(.notController, "this broker is not the controller") }
        switch await controller.requestElection(kind, partitions: requested) {
        case .failure(let refusal):
            return refused(refusal.errorCode, "\(refusal)")
        case .success(let results):
            _ = await waitUntil(timeoutMs: request.timeoutMs) { self.interBroker.isIdle }
            return ElectLeadersResponse(
                throttleTimeMs: 0, errorCode: 0,
                replicaElectionResults: Self.byTopic(Array(results.keys)) { tp in
                    switch results[tp] ?? nil {
                    case nil: (.none, nil)
                    case .notNeeded: (.electionNotNeeded, "Leader election not needed for topic partition")
                    case .unknownPartition: (.unknownTopicOrPartition, "The partition does not exist.")
                    case .noEligibleLeader:
                        kind == .preferred
                            ? (.preferredLeaderNotAvailable, "The preferred leader is not alive or not in the ISR.")
                            : (.eligibleLeadersNotAvailable, "No live replica of the partition.")
                    }
                })
        }
    }

    private static func byTopic(
        _ partitions: [TopicPartition], _ result: (TopicPartition) -> (KafkaErrorCode, String?)
    ) -> [ElectLeadersResponse.ReplicaElectionResult] {
        Dictionary(grouping: partitions, by: \.topic).sorted { $0.key < $1.key }.map { topic, tps in
            ElectLeadersResponse.ReplicaElectionResult(
                topic: topic,
                partitionResult: tps.sorted { $0.partition < $1.partition }.map { tp in
                    let (code, message) = result(tp)
                    return .init(partitionId: tp.partition, errorCode: code.rawValue, errorMessage: message)
                })
        }
    }
}

extension ControllerRefusal {
    var errorCode: KafkaErrorCode {
        switch self {
        case .notController: .notController
        case .brokerNotAvailable: .brokerNotAvailable
        case .staleBrokerEpoch: .staleBrokerEpoch
        case .failed: .unknownServerError
        }
    }
}
