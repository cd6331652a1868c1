import KafkaConfig
import KafkaCoordination
import KafkaStorage

extension BrokerSettings {
    /// The settings a validated server.properties gives.
    public init(config: BrokerConfig) throws {
        self.init(zooKeeper: try ZooKeeperConfig(properties: config.properties))
        brokerID = Int32(config.brokerID)
        rack = config.brokerRack
        listeners = config.listeners.map { Listener(name: $0.name, host: $0.host, port: $0.port) }
        advertisedListeners = config.advertisedListeners.map { Listener(name: $0.name, host: $0.host, port: $0.port) }
        logDirs = config.logDirs
        numPartitions = config.numPartitions
        defaultReplicationFactor = config.defaultReplicationFactor
        autoCreateTopics = config.autoCreateTopicsEnable
        deleteTopicEnable = config.deleteTopicEnable
        uncleanLeaderElection = config.uncleanLeaderElectionEnable
        maxRequestSize = config.socketRequestMaxBytes
        replicaLagTimeMaxMs = config.replicaLagTimeMaxMs
        retentionCheckIntervalMs = config.logRetentionCheckIntervalMs
        flushSchedulerIntervalMs = config.logFlushSchedulerIntervalMs
        logCleanerEnable = config.logCleanerEnable
        logCleanerBackoffMs = config.logCleanerBackoffMs
        logCleanerDedupeBufferSize = config.logCleanerDedupeBufferSize
        logCleanerThreads = config.logCleanerThreads
        logConfig = config.logConfig
        controlledShutdown = config.controlledShutdownEnable
        controlledShutdownMaxRetries = config.controlledShutdownMaxRetries
        controlledShutdownRetryBackoffMs = config.controlledShutdownRetryBackoffMs
        autoLeaderRebalance = config.autoLeaderRebalanceEnable
        leaderImbalanceCheckIntervalSeconds = config.leaderImbalanceCheckIntervalSeconds
        leaderImbalancePerBrokerPercentage = config.leaderImbalancePerBrokerPercentage
        groups = GroupSettings(config)
        partitionSettings = PartitionSettings(config.defaultTopicConfig.settings)
        brokerConfig = config
        resolveTopicConfig = { overrides in
            let topic = try TopicConfig(overrides: overrides, broker: config)
            return (topic.log, PartitionSettings(topic.settings))
        }
    }
}

extension PartitionSettings {
    init(_ settings: TopicSettings) {
        self.init()
        maxMessageBytes = settings.maxMessageBytes
        compression = settings.compressionType.codec
        minInsyncReplicas = settings.minInsyncReplicas
        timestampType = settings.messageTimestampType
        maxTimestampDifferenceMs = settings.messageTimestampDifferenceMaxMs
        compacted = settings.cleanupPolicy.contains(.compact)
    }
}
