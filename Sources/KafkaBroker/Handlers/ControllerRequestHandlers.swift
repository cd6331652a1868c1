import KafkaCoordination
import KafkaModel
import KafkaProtocol

// The controller's requests as they travel between brokers, and the broker side that receives them.
// The sender (BrokerControllerChannel) writes the versions below; the receiver reads any version it
// advertises.
enum ControllerWire {
    static let leaderAndIsrVersion: Int16 = 4
    static let updateMetadataVersion: Int16 = 6
    static let stopReplicaVersion: Int16 = 3

    static func partitionStates(_ request: LeaderAndIsrRequest) -> [PartitionState] {
        let grouped = request.topicStates.flatMap { topic in topic.partitionStates.map { (topic.topicName, $0) } }
        return (grouped + request.ungroupedPartitionStates.map { ($0.topicName, $0) }).map(partitionState)
    }

    /// A partition's state as either message carries it (v0-1 and v4- name the topic in different
    /// places, hence the name passed separately).
    private static func partitionState(_ topic: String, _ state: some WirePartitionState) -> PartitionState {
        PartitionState(
            partition: TopicPartition(topic: topic, partition: state.partitionIndex),
            leaderAndIsr: LeaderAndIsr(
                leader: state.leader, leaderEpoch: state.leaderEpoch, isr: state.isr, controllerEpoch: state.controllerEpoch,
                zkVersion: state.stateVersion),
            replicas: state.replicas)
    }

    static func leaderAndIsrRequest(controllerID: Int32, controllerEpoch: Int32, brokerEpoch: Int64, partitions: [PartitionState], liveLeaders: [BrokerInfo]) -> LeaderAndIsrRequest {
        let byTopic = Dictionary(grouping: partitions, by: \.partition.topic)
        return LeaderAndIsrRequest(
            controllerId: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch,
            topicStates: byTopic.keys.sorted().map { topic in
                LeaderAndIsrRequest.LeaderAndIsrTopicState(
                    topicName: topic,
                    partitionStates: byTopic[topic]!.map { state in
                        LeaderAndIsrRequest.LeaderAndIsrPartitionState(
                            topicName: topic, partitionIndex: state.partition.partition,
                            controllerEpoch: state.leaderAndIsr.controllerEpoch, leader: state.leaderAndIsr.leader,
                            leaderEpoch: state.leaderAndIsr.leaderEpoch, isr: state.leaderAndIsr.isr,
                            partitionEpoch: state.leaderAndIsr.zkVersion, replicas: state.replicas)
                    })
            },
            liveLeaders: liveLeaders.compactMap { broker in
                broker.endpoints.first.map { LeaderAndIsrRequest.LeaderAndIsrLiveLeader(brokerId: broker.id, hostName: $0.host, port: $0.port) }
            })
    }

    static func partitionStates(_ request: UpdateMetadataRequest) -> [PartitionState] {
        let grouped = request.topicStates.flatMap { topic in topic.partitionStates.map { (topic.topicName, $0) } }
        return (grouped + request.ungroupedPartitionStates.map { ($0.topicName, $0) }).map(partitionState)
    }

    static func brokers(_ request: UpdateMetadataRequest) -> [BrokerInfo] {
        request.liveBrokers.map { broker in
            let endpoints = broker.endpoints.isEmpty
                ? [BrokerEndpoint(listenerName: "PLAINTEXT", host: broker.v0Host, port: broker.v0Port)]
                : broker.endpoints.map { BrokerEndpoint(listenerName: $0.listener.isEmpty ? "PLAINTEXT" : $0.listener, host: $0.host, port: $0.port) }
            return BrokerInfo(id: broker.id, endpoints: endpoints, rack: broker.rack, timestamp: 0)
        }
    }

    static func updateMetadataRequest(controllerID: Int32, controllerEpoch: Int32, brokerEpoch: Int64, liveBrokers: [BrokerInfo], partitions: [PartitionState]) -> UpdateMetadataRequest {
        let byTopic = Dictionary(grouping: partitions, by: \.partition.topic)
        return UpdateMetadataRequest(
            controllerId: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch,
            topicStates: byTopic.keys.sorted().map { topic in
                UpdateMetadataRequest.UpdateMetadataTopicState(
                    topicName: topic,
                    partitionStates: byTopic[topic]!.map { state in
                        UpdateMetadataRequest.UpdateMetadataPartitionState(
                            topicName: topic, partitionIndex: state.partition.partition,
                            controllerEpoch: state.leaderAndIsr.controllerEpoch, leader: state.leaderAndIsr.leader,
                            leaderEpoch: state.leaderAndIsr.leaderEpoch, isr: state.leaderAndIsr.isr,
                            zkVersion: state.leaderAndIsr.zkVersion, replicas: state.replicas)
                    })
            },
            liveBrokers: liveBrokers.map { broker in
                UpdateMetadataRequest.UpdateMetadataBroker(
                    id: broker.id,
                    endpoints: broker.endpoints.map {
                        UpdateMetadataRequest.UpdateMetadataEndpoint(port: $0.port, host: $0.host, listener: $0.listenerName, securityProtocol: 0)
                    },
                    rack: broker.rack)
            })
    }

    static func stopped(_ request: StopReplicaRequest) -> (partitions: [TopicPartition], delete: Bool) {
        if !request.topicStates.isEmpty {
            let states = request.topicStates.flatMap { topic in topic.partitionStates.map { (topic.topicName, $0) } }
            return (states.map { TopicPartition(topic: $0.0, partition: $0.1.partitionIndex) }, states.contains { $0.1.deletePartition })
        }
        let v1 = request.topics.flatMap { topic in topic.partitionIndexes.map { TopicPartition(topic: topic.name, partition: $0) } }
        let v0 = request.ungroupedPartitions.map { TopicPartition(topic: $0.topicName, partition: $0.partitionIndex) }
        return (v1 + v0, request.deletePartitions)
    }

    static func stopReplicaRequest(controllerID: Int32, controllerEpoch: Int32, brokerEpoch: Int64, partitions: [TopicPartition], delete: Bool) -> StopReplicaRequest {
        let byTopic = Dictionary(grouping: partitions, by: \.topic)
        return StopReplicaRequest(
            controllerId: controllerID, controllerEpoch: controllerEpoch, brokerEpoch: brokerEpoch,
            topicStates: byTopic.keys.sorted().map { topic in
                StopReplicaRequest.StopReplicaTopicState(
                    topicName: topic,
                    partitionStates: byTopic[topic]!.map {
                        StopReplicaRequest.StopReplicaPartitionState(partitionIndex: $0.partition, leaderEpoch: -1, deletePartition: delete)
                    })
            })
    }
}

/// The fields LeaderAndIsr and UpdateMetadata share for a partition.
protocol WirePartitionState {
    var partitionIndex: Int32 { get }
    var controllerEpoch: Int32 { get }
    var leader: Int32 { get }
    var leaderEpoch: Int32 { get }
    var isr: [Int32] { get }
    var replicas: [Int32] { get }
    /// The state znode's version (LeaderAndIsr calls it the partition epoch).
    var stateVersion: Int32 { get }
}

extension LeaderAndIsrRequest.LeaderAndIsrPartitionState: WirePartitionState {
    var stateVersion: Int32 { partitionEpoch }
}

extension UpdateMetadataRequest.UpdateMetadataPartitionState: WirePartitionState {
    var stateVersion: Int32 { zkVersion }
}

extension KafkaServer {
    func leaderAndIsr(_ request: LeaderAndIsrRequest, _ context: RequestContext) async -> LeaderAndIsrResponse {
        let partitions = ControllerWire.partitionStates(request)
        let error = await handleControllerRequest(.leaderAndIsr(
            broker: brokerID, brokerEpoch: request.brokerEpoch, controllerEpoch: request.controllerEpoch,
            controllerID: request.controllerId, partitions: partitions))
        return LeaderAndIsrResponse(
            errorCode: error.rawValue,
            partitionErrors: partitions.map {
                LeaderAndIsrResponse.LeaderAndIsrPartitionError(topicName: $0.partition.topic, partitionIndex: $0.partition.partition, errorCode: error.rawValue)
            })
    }

    func updateMetadata(_ request: UpdateMetadataRequest, _ context: RequestContext) async -> UpdateMetadataResponse {
        let error = await handleControllerRequest(.updateMetadata(
            broker: brokerID, brokerEpoch: request.brokerEpoch, controllerEpoch: request.controllerEpoch,
            controllerID: request.controllerId, liveBrokers: ControllerWire.brokers(request),
            partitions: ControllerWire.partitionStates(request)))
        return UpdateMetadataResponse(errorCode: error.rawValue)
    }

    func stopReplica(_ request: StopReplicaRequest, _ context: RequestContext) async -> StopReplicaResponse {
        let (partitions, delete) = ControllerWire.stopped(request)
        let error = await handleControllerRequest(.stopReplica(
            broker: brokerID, brokerEpoch: request.brokerEpoch, controllerEpoch: request.controllerEpoch,
            controllerID: request.controllerId, partitions: partitions, delete: delete))
        return StopReplicaResponse(
            errorCode: error.rawValue,
            partitionErrors: partitions.map {
                StopReplicaResponse.StopReplicaPartitionError(topicName: $0.topic, partitionIndex: $0.partition, errorCode: error.rawValue)
            })
    }
}
