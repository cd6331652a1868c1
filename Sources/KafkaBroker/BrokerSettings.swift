import KafkaConfig
import KafkaCoordination
import KafkaStorage

/// What the broker needs from its configuration, already validated (the `odradek server` command
/// builds it from server.properties).
public struct BrokerSettings: Sendable {
    /// A listener: `PLAINTEXT://host:port`. Port 0 binds a free port (tests).
    public struct Listener: Sendable, Equatable {
        public var name: String
        public var host: String
        public var port: Int
        public init(name: String, host: String, port: Int) {
            self.name = name
            self.host = host
            self.port = port
        }
    }

    /// `broker.id`; -1 takes one from `/brokers/seqid`.
    public var brokerID: Int32 = -1
    public var rack: String?
    public var listeners: [Listener] = [Listener(name: "PLAINTEXT", host: "", port: 9092)]
    /// `advertised.listeners`; empty means the listeners themselves.
    public var advertisedListeners: [Listener] = []
    public var logDirs: [String] = ["/tmp/kafka-logs"]
    public var zooKeeper: ZooKeeperConfig
    public var numPartitions = 1
    public var defaultReplicationFactor = 1
    public var autoCreateTopics = true
    public var deleteTopicEnable = true
    public var uncleanLeaderElection = false
    /// `replica.lag.time.max.ms`.
    public var replicaLagTimeMaxMs: Int64 = 30_000
    /// `socket.request.max.bytes`.
    public var maxRequestSize = 104_857_600
    /// `log.retention.check.interval.ms`.
    public var retentionCheckIntervalMs: Int64 = 300_000
    /// `log.cleaner.enable`: run the log cleaner every `log.cleaner.backoff.ms`.
    public var logCleanerEnable = true
    /// `log.cleaner.backoff.ms`.
    public var logCleanerBackoffMs: Int64 = 15_000
    /// `log.cleaner.dedupe.buffer.size` and `log.cleaner.threads`: they bound the cleaner's key map.
    public var logCleanerDedupeBufferSize: Int64 = 134_217_728
    public var logCleanerThreads = 1
    /// `log.flush.scheduler.interval.ms`.
    public var flushSchedulerIntervalMs: Int64 = .max
    /// `controlled.shutdown.enable`, `.max.retries`, `.retry.backoff.ms`: on SIGTERM, ask the
    /// controller to move leaderships away first.
    public var controlledShutdown = true
    public var controlledShutdownMaxRetries = 3
    public var controlledShutdownRetryBackoffMs: Int64 = 5_000
    /// `auto.leader.rebalance.enable`, `leader.imbalance.check.interval.seconds`,
    /// `leader.imbalance.per.broker.percentage`.
    public var autoLeaderRebalance = true
    public var leaderImbalanceCheckIntervalSeconds: Int64 = 300
    public var leaderImbalancePerBrokerPercentage = 10
    /// Consumer groups and committed offsets.
    public var groups = GroupSettings()
    /// The broker's own log defaults (`log.*` keys).
    public var logConfig = LogConfig()
    /// The broker's defaults for the produce-side topic settings.
    public var partitionSettings = PartitionSettings()
    /// Combines a topic's overrides (`/config/topics/<topic>`) with the broker's defaults. Throws for
    /// overrides the broker cannot apply; the default ignores overrides.
    /// The whole validated configuration, for DescribeConfigs; nil when built by hand (tests).
    public var brokerConfig: BrokerConfig?
    public var resolveTopicConfig: @Sendable ([String: String]) throws -> (LogConfig, PartitionSettings)

    public init(zooKeeper: ZooKeeperConfig) {
        self.zooKeeper = zooKeeper
        resolveTopicConfig = { _ in (LogConfig(), PartitionSettings()) }
    }
}
