import KafkaModel

/// A partition's full state as the controller hands it to brokers.
public struct PartitionState: Sendable, Hashable {
    public var partition: TopicPartition
    public var leaderAndIsr: LeaderAndIsr
    public var replicas: [Int32]

    public init(partition: TopicPartition, leaderAndIsr: LeaderAndIsr, replicas: [Int32]) {
        self.partition = partition
        self.leaderAndIsr = leaderAndIsr
        self.replicas = replicas
    }
}

/// A decision of the controller for one broker. Each carries the controller epoch and the target
/// broker's epoch, so a broker refuses one from a deposed controller or meant for an earlier
/// incarnation of itself (STALE_CONTROLLER_EPOCH, STALE_BROKER_EPOCH).
public enum ControllerRequest: Sendable, Hashable {
    /// Become leader or follower of these partitions.
    case leaderAndIsr(broker: Int32, brokerEpoch: Int64, controllerEpoch: Int32, controllerID: Int32, partitions: [PartitionState])
    /// The live brokers and the leaders of these partitions (all, when the broker is new).
    case updateMetadata(broker: Int32, brokerEpoch: Int64, controllerEpoch: Int32, controllerID: Int32, liveBrokers: [BrokerInfo], partitions: [PartitionState])
    /// Stop serving these partitions, and delete them when the topic is being deleted.
    case stopReplica(broker: Int32, brokerEpoch: Int64, controllerEpoch: Int32, controllerID: Int32, partitions: [TopicPartition], delete: Bool)

    public var broker: Int32 {
        switch self {
        case .leaderAndIsr(let broker, _, _, _, _), .updateMetadata(let broker, _, _, _, _, _), .stopReplica(let broker, _, _, _, _, _): broker
        }
    }

    /// The epoch of the broker registration the request is meant for.
    public var brokerEpoch: Int64 {
        switch self {
        case .leaderAndIsr(_, let epoch, _, _, _), .updateMetadata(_, let epoch, _, _, _, _), .stopReplica(_, let epoch, _, _, _, _): epoch
        }
    }

    /// The epoch of the controller that made the decision.
    public var controllerEpoch: Int32 {
        switch self {
        case .leaderAndIsr(_, _, let epoch, _, _), .updateMetadata(_, _, let epoch, _, _, _), .stopReplica(_, _, let epoch, _, _, _): epoch
        }
    }
}

/// Carries the controller's decisions to the brokers. The broker supplies the real one (Kafka's
/// inter-broker requests); tests record what was sent.
public protocol ControllerChannel: Sendable {
    func send(_ requests: [ControllerRequest]) async
}

/// Sends nothing: for a controller whose decisions are read from ZooKeeper only.
public struct SilentControllerChannel: ControllerChannel {
    public init() {}
    public func send(_ requests: [ControllerRequest]) async {}
}
