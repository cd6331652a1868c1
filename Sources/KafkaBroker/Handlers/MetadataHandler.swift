import Logging
import KafkaCoordination
import KafkaModel
import KafkaProtocol

extension KafkaServer {
    /// Metadata: brokers, controller, cluster id, and each topic's partitions. A topic this cluster
    /// does not have is created when `auto.create.topics.enable` allows it and the client does not
    /// forbid it (v4+), answered LEADER_NOT_AVAILABLE until its leaders are elected.
    func metadata(_ request: MetadataRequest, _ context: RequestContext) async -> MetadataResponse {
        let version = context.version
        let brokers = metadata.liveBrokers
        let live = Set(brokers.map(\.id))
        var names: [String]
        if let topics = request.topics, !(version == 0 && topics.isEmpty) {
            names = topics.compactMap(\.name)
        } else {
            names = metadata.topics
        }
        var seen = Set<String>()
        names = names.filter { seen.insert($0).inserted }
        let mayCreate = settings.autoCreateTopics && (version < 4 || request.allowAutoTopicCreation)

        var topics: [MetadataResponse.MetadataResponseTopic] = []
        for name in names {
            guard let partitions = metadata.partitions(of: name) else {
                let error = await autoCreate(name, allowed: mayCreate)
                topics.append(MetadataResponse.MetadataResponseTopic(errorCode: error.rawValue, name: name))
                continue
            }
            let answered = partitions.keys.sorted().map { index -> MetadataResponse.MetadataResponsePartition in
                let state = partitions[index]!
                let leader = state.leaderAndIsr.leader
                let leaderLive = live.contains(leader)
                return MetadataResponse.MetadataResponsePartition(
                    errorCode: leaderLive ? 0 : KafkaErrorCode.leaderNotAvailable.rawValue,
                    partitionIndex: index, leaderId: leaderLive ? leader : -1, leaderEpoch: state.leaderAndIsr.leaderEpoch,
                    replicaNodes: state.replicas, isrNodes: state.leaderAndIsr.isr,
                    offlineReplicas: state.replicas.filter { !live.contains($0) })
            }
            topics.append(MetadataResponse.MetadataResponseTopic(
                errorCode: 0, name: name, isInternal: name == "__consumer_offsets", partitions: answered))
        }
        return MetadataResponse(
            brokers: brokers.compactMap { broker in
                guard let endpoint = broker.endpoints.first else { return nil }
                return MetadataResponse.MetadataResponseBroker(
                    nodeId: broker.id, host: endpoint.host, port: endpoint.port, rack: broker.rack)
            },
            clusterId: coordinator?.clusterID, controllerId: metadata.controllerID, topics: topics)
    }

    /// Creates a topic a client asked about, when allowed; answers the error code to report for it.
    private func autoCreate(_ name: String, allowed: Bool) async -> KafkaErrorCode {
        guard TopicPartition.isLegalTopicName(name) else { return .invalidTopicException }
        guard allowed else { return .unknownTopicOrPartition }
        let replicationFactor = min(settings.defaultReplicationFactor, max(metadata.liveBrokers.count, 1))
        do {
            try await zk.createTopic(name, partitions: settings.numPartitions, replicationFactor: replicationFactor)
            logger.info("auto-created topic \(name) with \(settings.numPartitions) partitions, replication factor \(replicationFactor)")
        } catch {
            logger.debug("auto-creating topic \(name): \(error)")  // most often: another request created it first
        }
        return .leaderNotAvailable
    }
}
