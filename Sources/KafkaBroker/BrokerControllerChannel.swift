import Synchronization
import KafkaCoordination
import KafkaModel
import Logging

/// Carries the controller's decisions to the brokers: to this broker directly, to the others as
/// Kafka's inter-broker requests (LeaderAndIsr, UpdateMetadata, StopReplica) over their listeners.
struct BrokerControllerChannel: ControllerChannel {
    unowned let local: KafkaServer
    let logger: Logger

    init(local: KafkaServer, logger: Logger) {
        self.local = local
        self.logger = logger
    }

    func send(_ requests: [ControllerRequest]) async {
        for request in requests {
            if request.broker == local.brokerID {
                _ = await local.handleControllerRequest(request)
            } else {
                await local.sendToBroker(request)
            }
        }
    }
}

extension KafkaServer {
    /// Applies a controller decision addressed to this broker; refuses those from a deposed
    /// controller (an older controller epoch) or meant for an earlier incarnation of this broker.
    func handleControllerRequest(_ request: ControllerRequest) async -> KafkaErrorCode {
        guard acceptsBrokerEpoch(request.brokerEpoch) else {
            logger.warning("refused a controller request meant for broker epoch \(request.brokerEpoch) (stale broker epoch)")
            return .staleBrokerEpoch
        }
        guard replicas.acceptControllerEpoch(request.controllerEpoch) else {
            logger.warning("refused a controller request of controller epoch \(request.controllerEpoch) (stale controller epoch)")
            return .staleControllerEpoch
        }
        switch request {
        case .leaderAndIsr(_, _, _, _, let partitions):
            let results = await replicas.becomeLeaderOrFollower(partitions)
            let accepted = partitions.filter { results[$0.partition] == KafkaErrorCode.none }
            metadata.learnLeaders(accepted)
            updateFetchers(accepted)
            if partitions.contains(where: { $0.partition.topic == GroupCoordinator.topic }) { await followOffsetsTopic() }
            return .none
        case .updateMetadata(_, _, _, let controllerID, let liveBrokers, let partitions):
            metadata.update(controllerID: controllerID, liveBrokers: liveBrokers, partitions: partitions)
            return .none
        case .stopReplica(_, _, _, _, let partitions, let delete):
            fetchers.withLock { fetchers in for fetcher in fetchers.values { partitions.forEach(fetcher.remove) } }
            await replicas.stopReplicas(partitions, delete: delete)
            if partitions.contains(where: { $0.topic == GroupCoordinator.topic }) { await followOffsetsTopic() }
            return .none
        }
    }

    /// Followed partitions go to the fetcher of their leader; led ones leave every fetcher.
    private func updateFetchers(_ decisions: [PartitionState]) {
        let reference = KafkaServerRef(value: self)
        fetchers.withLock { fetchers in
            for decision in decisions {
                let tp = decision.partition
                for fetcher in fetchers.values { fetcher.remove(tp) }
                let leader = decision.leaderAndIsr.leader
                guard leader != brokerID, leader >= 0, decision.replicas.contains(brokerID), !leaving.withLock({ $0 }) else { continue }
                let fetcher = fetchers[leader] ?? ReplicaFetcher(leader: leader, server: reference, logger: logger)
                fetchers[leader] = fetcher
                fetcher.add(tp, leaderEpoch: decision.leaderAndIsr.leaderEpoch)
            }
        }
    }

    /// A request carrying broker epoch -1 comes from a controller that does not know it; otherwise
    /// it must not be older than this broker's registration (KIP-380).
    private func acceptsBrokerEpoch(_ epoch: Int64) -> Bool {
        guard epoch >= 0, let current = coordinator?.registration.brokerEpoch, current > 0 else { return true }
        return epoch >= current
    }

    /// Queues a controller decision for another broker.
    func sendToBroker(_ request: ControllerRequest) async {
        interBroker.enqueue(request)
    }
}
