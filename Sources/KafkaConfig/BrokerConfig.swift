import KafkaStorage

/// The broker's configuration: server.properties plus `--override`s (static), and the dynamic
/// overrides from /config/brokers/<default> and /config/brokers/<id>, validated against Kafka's keys
/// and rules. Built once; a dynamic change builds a new value with `applyingDynamic`.
public struct BrokerConfig: Sendable {
    // MARK: Layers

    /// server.properties with the `--override`s applied.
    public let staticProperties: [String: String]
    /// Cluster-wide dynamic overrides (/config/brokers/<default>).
    public let dynamicDefaultProperties: [String: String]
    /// This broker's dynamic overrides (/config/brokers/<id>).
    public let dynamicBrokerProperties: [String: String]
    /// The merged raw map: static, then cluster-wide dynamic, then per-broker dynamic.
    public let properties: [String: String]
    /// The effective parsed value of every key that has one (keys without a default and unset are absent).
    public let values: [String: ConfigValue]
    /// Keys set in `properties` that Odradek accepts but does not act on, for a startup warning.
    public let ignoredKeys: [String]

    // MARK: Server basics

    /// `broker.id`; -1 means "generate one in ZooKeeper".
    public let brokerID: Int
    /// `broker.id.generation.enable`.
    public let brokerIDGenerationEnable: Bool
    /// `reserved.broker.max.id`: generated ids start above it.
    public let reservedBrokerMaxID: Int
    /// `broker.rack`.
    public let brokerRack: String?

    // MARK: Socket server

    /// `listeners`, parsed; an empty host binds every interface.
    public let listeners: [Listener]
    /// `advertised.listeners` (or `listeners` when unset); an empty host means the broker's host name.
    public let advertisedListeners: [Listener]
    /// `listener.security.protocol.map`, keyed by upper-cased listener name.
    public let listenerSecurityProtocolMap: [String: SecurityProtocol]
    /// `inter.broker.listener.name`, or the listener named after `security.inter.broker.protocol`.
    public let interBrokerListenerName: String
    /// `num.network.threads`.
    public let numNetworkThreads: Int
    /// `num.io.threads`.
    public let numIOThreads: Int
    /// `background.threads`.
    public let backgroundThreads: Int
    /// `queued.max.requests`.
    public let queuedMaxRequests: Int
    /// `socket.send.buffer.bytes`; -1 keeps the OS default.
    public let socketSendBufferBytes: Int
    /// `socket.receive.buffer.bytes`; -1 keeps the OS default.
    public let socketReceiveBufferBytes: Int
    /// `socket.request.max.bytes`.
    public let socketRequestMaxBytes: Int
    /// `socket.listen.backlog.size`.
    public let socketListenBacklogSize: Int
    /// `connections.max.idle.ms`.
    public let connectionsMaxIdleMs: Int64
    /// `message.max.bytes`.
    public let messageMaxBytes: Int

    // MARK: Logs

    /// `log.dirs`, or `log.dir` when unset.
    public let logDirs: [String]
    /// `num.partitions`.
    public let numPartitions: Int
    /// `default.replication.factor`.
    public let defaultReplicationFactor: Int
    /// `num.recovery.threads.per.data.dir`.
    public let numRecoveryThreadsPerDataDir: Int
    /// `auto.create.topics.enable`.
    public let autoCreateTopicsEnable: Bool
    /// `delete.topic.enable`.
    public let deleteTopicEnable: Bool
    /// `min.insync.replicas`.
    public let minInsyncReplicas: Int
    /// `compression.type`.
    public let compressionType: BrokerCompressionType
    /// `unclean.leader.election.enable`.
    public let uncleanLeaderElectionEnable: Bool
    /// `log.retention.check.interval.ms`.
    public let logRetentionCheckIntervalMs: Int64
    /// `log.flush.scheduler.interval.ms`.
    public let logFlushSchedulerIntervalMs: Int64
    /// `log.flush.offset.checkpoint.interval.ms`.
    public let logFlushOffsetCheckpointIntervalMs: Int
    /// `log.flush.start.offset.checkpoint.interval.ms`.
    public let logFlushStartOffsetCheckpointIntervalMs: Int
    /// `log.cleanup.policy`.
    public let logCleanupPolicy: CleanupPolicy
    /// `log.cleaner.enable`.
    public let logCleanerEnable: Bool
    /// `log.cleaner.threads`.
    public let logCleanerThreads: Int
    /// `log.cleaner.backoff.ms`.
    public let logCleanerBackoffMs: Int64
    /// `log.cleaner.dedupe.buffer.size`.
    public let logCleanerDedupeBufferSize: Int64
    /// Topic-level defaults derived from the log.* keys (Kafka's `extractLogConfigMap`), by topic key.
    public let topicDefaults: [String: String]
    /// The config of a topic without overrides: storage settings and the broker-side ones.
    public let defaultTopicConfig: TopicConfig

    /// Storage settings for a topic without overrides.
    public var logConfig: LogConfig { defaultTopicConfig.log }

    // MARK: Replication and controller

    /// `replica.lag.time.max.ms`.
    public let replicaLagTimeMaxMs: Int64
    /// `replica.socket.timeout.ms`.
    public let replicaSocketTimeoutMs: Int
    /// `replica.socket.receive.buffer.bytes`.
    public let replicaSocketReceiveBufferBytes: Int
    /// `replica.fetch.max.bytes`.
    public let replicaFetchMaxBytes: Int
    /// `replica.fetch.min.bytes`.
    public let replicaFetchMinBytes: Int
    /// `replica.fetch.wait.max.ms`.
    public let replicaFetchWaitMaxMs: Int
    /// `replica.fetch.backoff.ms`.
    public let replicaFetchBackoffMs: Int
    /// `replica.fetch.response.max.bytes`.
    public let replicaFetchResponseMaxBytes: Int
    /// `num.replica.fetchers`.
    public let numReplicaFetchers: Int
    /// `replica.high.watermark.checkpoint.interval.ms`.
    public let replicaHighWatermarkCheckpointIntervalMs: Int64
    /// `auto.leader.rebalance.enable`.
    public let autoLeaderRebalanceEnable: Bool
    /// `leader.imbalance.per.broker.percentage`.
    public let leaderImbalancePerBrokerPercentage: Int
    /// `leader.imbalance.check.interval.seconds`.
    public let leaderImbalanceCheckIntervalSeconds: Int64
    /// `controller.socket.timeout.ms`.
    public let controllerSocketTimeoutMs: Int
    /// `controlled.shutdown.enable`.
    public let controlledShutdownEnable: Bool
    /// `controlled.shutdown.max.retries`.
    public let controlledShutdownMaxRetries: Int
    /// `controlled.shutdown.retry.backoff.ms`.
    public let controlledShutdownRetryBackoffMs: Int64

    // MARK: Groups and offsets

    /// `group.initial.rebalance.delay.ms`.
    public let groupInitialRebalanceDelayMs: Int
    /// `group.min.session.timeout.ms`.
    public let groupMinSessionTimeoutMs: Int
    /// `group.max.session.timeout.ms`.
    public let groupMaxSessionTimeoutMs: Int
    /// `group.max.size`.
    public let groupMaxSize: Int
    /// `offsets.topic.num.partitions`.
    public let offsetsTopicNumPartitions: Int
    /// `offsets.topic.replication.factor`.
    public let offsetsTopicReplicationFactor: Int
    /// `offsets.topic.segment.bytes`.
    public let offsetsTopicSegmentBytes: Int
    /// `offsets.retention.minutes`.
    public let offsetsRetentionMinutes: Int
    /// `offsets.retention.check.interval.ms`.
    public let offsetsRetentionCheckIntervalMs: Int64
    /// `offsets.commit.timeout.ms`.
    public let offsetsCommitTimeoutMs: Int
    /// `offset.metadata.max.bytes`.
    public let offsetMetadataMaxBytes: Int

    // MARK: ZooKeeper and metrics

    /// `zookeeper.connect`.
    public let zookeeperConnect: String
    /// `zookeeper.session.timeout.ms`.
    public let zookeeperSessionTimeoutMs: Int
    /// `zookeeper.connection.timeout.ms`, or the session timeout when unset.
    public let zookeeperConnectionTimeoutMs: Int
    /// `zookeeper.set.acl`.
    public let zookeeperSetACL: Bool
    /// `zookeeper.auth.digest` (`user:password`).
    public let zookeeperAuthDigest: String?
    /// `metrics.port`; nil when the endpoint is off (0).
    public let metricsPort: Int?

    // MARK: - Building

    /// Validates `properties` (server.properties with overrides applied) as the static configuration.
    public init(properties: [String: String]) throws(ConfigError) {
        try self.init(static: properties, dynamicDefault: [:], dynamicBroker: [:])
    }

    /// Reads the file at `path`, applies `overrides` (`key=value` each, as after `--override`) and validates.
    public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> BrokerConfig {
        var properties = try PropertiesFile.load(path: path)
        // Unknown keys are checked here first so the message can say where they came from.
        for key in properties.keys.sorted() where keysByName[key] == nil {
            throw unknownKeyError(key, source: path)
        }
        for argument in overrides {
            let (key, value) = try PropertiesFile.parseOverride(argument)
            guard keysByName[key] != nil else { throw unknownKeyError(key, source: "--override \(argument)") }
            properties[key] = value
        }
        return try BrokerConfig(properties: properties)
    }

    /// A new config with the dynamic overrides from ZooKeeper applied on top of the static ones. Every
    /// key must be one Kafka lets change at run time (`ConfigKey.isDynamic`).
    public func applyingDynamic(defaults: [String: String], broker: [String: String]) throws(ConfigError) -> BrokerConfig {
        for (layer, source) in [(defaults, "/config/brokers/<default>"), (broker, "/config/brokers/\(brokerID)")] {
            for key in layer.keys.sorted() {
                guard let definition = Self.keysByName[key] else { throw Self.unknownKeyError(key, source: source) }
                guard definition.isDynamic else {
                    throw ConfigError(
                        .invalidValue, key: key,
                        "\(key) in \(source) cannot be changed while the broker runs; set it in server.properties and restart")
                }
            }
        }
        return try BrokerConfig(static: staticProperties, dynamicDefault: defaults, dynamicBroker: broker)
    }

    private init(
        static staticLayer: [String: String], dynamicDefault: [String: String], dynamicBroker: [String: String]
    ) throws(ConfigError) {
        staticProperties = staticLayer
        dynamicDefaultProperties = dynamicDefault
        dynamicBrokerProperties = dynamicBroker
        let merged = staticLayer.merging(dynamicDefault) { $1 }.merging(dynamicBroker) { $1 }
        properties = merged

        var parsed: [String: ConfigValue] = [:]
        for key in merged.keys.sorted() where Self.keysByName[key] == nil {
            throw Self.unknownKeyError(key, source: "server.properties")
        }
        for key in Self.keys {
            if let text = merged[key.name] {
                parsed[key.name] = try key.parse(text)
            } else if let value = key.parsedDefault {
                parsed[key.name] = value
            }
        }
        values = parsed
        ignoredKeys = merged.keys.filter { Self.keysByName[$0]?.isIgnored == true }.sorted()
        let read = Reader(values: parsed)

        brokerID = read.int("broker.id")
        brokerIDGenerationEnable = read.bool("broker.id.generation.enable")
        reservedBrokerMaxID = read.int("reserved.broker.max.id")
        brokerRack = read.optionalString("broker.rack")
        if brokerIDGenerationEnable {
            guard brokerID >= -1 && brokerID <= reservedBrokerMaxID else {
                throw ConfigError(
                    .invalidValue, key: "broker.id",
                    "broker.id=\(brokerID) must be -1 (generate) or from 0 to reserved.broker.max.id=\(reservedBrokerMaxID)")
            }
        } else if brokerID < 0 {
            throw ConfigError(
                .invalidValue, key: "broker.id", "broker.id=\(brokerID): set an id of 0 or more, or broker.id.generation.enable=true")
        }

        let protocolMap = try Listener.parseProtocolMap(read.string("listener.security.protocol.map"), key: "listener.security.protocol.map")
        listenerSecurityProtocolMap = protocolMap
        let listeners = try Listener.parseList(read.string("listeners"), key: "listeners", protocols: protocolMap)
        self.listeners = listeners
        let advertised = try read.optionalString("advertised.listeners").map { text throws(ConfigError) in
            try Listener.parseList(text, key: "advertised.listeners", protocols: protocolMap)
        } ?? listeners
        advertisedListeners = advertised
        interBrokerListenerName = try Self.interBrokerListener(read, merged: merged, listeners: listeners, advertised: advertised)

        numNetworkThreads = read.int("num.network.threads")
        numIOThreads = read.int("num.io.threads")
        backgroundThreads = read.int("background.threads")
        queuedMaxRequests = read.int("queued.max.requests")
        socketSendBufferBytes = read.int("socket.send.buffer.bytes")
        socketReceiveBufferBytes = read.int("socket.receive.buffer.bytes")
        socketRequestMaxBytes = read.int("socket.request.max.bytes")
        socketListenBacklogSize = read.int("socket.listen.backlog.size")
        connectionsMaxIdleMs = read.long("connections.max.idle.ms")
        messageMaxBytes = read.int("message.max.bytes")

        logDirs = parsed["log.dirs"] != nil ? read.list("log.dirs") : [read.string("log.dir")]
        guard !logDirs.contains(where: \.isEmpty) else {
            throw ConfigError(.invalidValue, key: "log.dir", "log.dir is empty: set log.dirs to at least one directory")
        }
        numPartitions = read.int("num.partitions")
        defaultReplicationFactor = read.int("default.replication.factor")
        numRecoveryThreadsPerDataDir = read.int("num.recovery.threads.per.data.dir")
        autoCreateTopicsEnable = read.bool("auto.create.topics.enable")
        deleteTopicEnable = read.bool("delete.topic.enable")
        minInsyncReplicas = read.int("min.insync.replicas")
        compressionType = BrokerCompressionType(rawValue: read.string("compression.type")) ?? .producer
        uncleanLeaderElectionEnable = read.bool("unclean.leader.election.enable")
        logRetentionCheckIntervalMs = read.long("log.retention.check.interval.ms")
        logFlushSchedulerIntervalMs = read.long("log.flush.scheduler.interval.ms")
        logFlushOffsetCheckpointIntervalMs = read.int("log.flush.offset.checkpoint.interval.ms")
        logFlushStartOffsetCheckpointIntervalMs = read.int("log.flush.start.offset.checkpoint.interval.ms")
        logCleanupPolicy = CleanupPolicy(names: read.list("log.cleanup.policy"))
        logCleanerEnable = read.bool("log.cleaner.enable")
        logCleanerThreads = read.int("log.cleaner.threads")
        logCleanerBackoffMs = read.long("log.cleaner.backoff.ms")
        logCleanerDedupeBufferSize = read.long("log.cleaner.dedupe.buffer.size")

        let derived = Self.topicDefaults(merged: merged, values: parsed)
        topicDefaults = derived
        do {
            defaultTopicConfig = try TopicConfig(overrides: [:], defaults: derived)
        } catch {
            throw ConfigError(error.kind, key: error.key.flatMap { TopicConfig.brokerSynonyms[$0]?.first?.name },
                "The broker's log defaults are invalid: \(error.message) (set through the log.* synonyms of the topic key)")
        }

        replicaLagTimeMaxMs = read.long("replica.lag.time.max.ms")
        replicaSocketTimeoutMs = read.int("replica.socket.timeout.ms")
        replicaSocketReceiveBufferBytes = read.int("replica.socket.receive.buffer.bytes")
        replicaFetchMaxBytes = read.int("replica.fetch.max.bytes")
        replicaFetchMinBytes = read.int("replica.fetch.min.bytes")
        replicaFetchWaitMaxMs = read.int("replica.fetch.wait.max.ms")
        replicaFetchBackoffMs = read.int("replica.fetch.backoff.ms")
        replicaFetchResponseMaxBytes = read.int("replica.fetch.response.max.bytes")
        numReplicaFetchers = read.int("num.replica.fetchers")
        replicaHighWatermarkCheckpointIntervalMs = read.long("replica.high.watermark.checkpoint.interval.ms")
        guard replicaFetchWaitMaxMs <= replicaSocketTimeoutMs else {
            throw ConfigError(
                .invalidValue, key: "replica.socket.timeout.ms",
                "replica.socket.timeout.ms=\(replicaSocketTimeoutMs) must be at least replica.fetch.wait.max.ms="
                    + "\(replicaFetchWaitMaxMs), or follower fetches time out needlessly")
        }
        guard Int64(replicaFetchWaitMaxMs) <= replicaLagTimeMaxMs else {
            throw ConfigError(
                .invalidValue, key: "replica.fetch.wait.max.ms",
                "replica.fetch.wait.max.ms=\(replicaFetchWaitMaxMs) must be at most replica.lag.time.max.ms="
                    + "\(replicaLagTimeMaxMs), or followers drop out of the ISR while waiting")
        }
        autoLeaderRebalanceEnable = read.bool("auto.leader.rebalance.enable")
        leaderImbalancePerBrokerPercentage = read.int("leader.imbalance.per.broker.percentage")
        leaderImbalanceCheckIntervalSeconds = read.long("leader.imbalance.check.interval.seconds")
        controllerSocketTimeoutMs = read.int("controller.socket.timeout.ms")
        controlledShutdownEnable = read.bool("controlled.shutdown.enable")
        controlledShutdownMaxRetries = read.int("controlled.shutdown.max.retries")
        controlledShutdownRetryBackoffMs = read.long("controlled.shutdown.retry.backoff.ms")

        groupInitialRebalanceDelayMs = read.int("group.initial.rebalance.delay.ms")
        groupMinSessionTimeoutMs = read.int("group.min.session.timeout.ms")
        groupMaxSessionTimeoutMs = read.int("group.max.session.timeout.ms")
        groupMaxSize = read.int("group.max.size")
        offsetsTopicNumPartitions = read.int("offsets.topic.num.partitions")
        offsetsTopicReplicationFactor = read.int("offsets.topic.replication.factor")
        offsetsTopicSegmentBytes = read.int("offsets.topic.segment.bytes")
        offsetsRetentionMinutes = read.int("offsets.retention.minutes")
        offsetsRetentionCheckIntervalMs = read.long("offsets.retention.check.interval.ms")
        offsetsCommitTimeoutMs = read.int("offsets.commit.timeout.ms")
        offsetMetadataMaxBytes = read.int("offset.metadata.max.bytes")

        guard let connect = read.optionalString("zookeeper.connect"), !connect.isEmpty else {
            throw ConfigError(
                .missingKey, key: "zookeeper.connect",
                "zookeeper.connect is required: set it to host:port[,host:port...][/chroot], e.g. zookeeper.connect=127.0.0.1:2181")
        }
        zookeeperConnect = connect
        zookeeperSessionTimeoutMs = read.int("zookeeper.session.timeout.ms")
        zookeeperConnectionTimeoutMs = read.optionalInt("zookeeper.connection.timeout.ms") ?? zookeeperSessionTimeoutMs
        zookeeperSetACL = read.bool("zookeeper.set.acl")
        zookeeperAuthDigest = read.optionalString("zookeeper.auth.digest")
        if let digest = zookeeperAuthDigest, !digest.dropFirst().contains(":") {
            throw ConfigError(.invalidValue, key: "zookeeper.auth.digest", "zookeeper.auth.digest must be user:password")
        }
        if zookeeperSetACL && zookeeperAuthDigest == nil {
            throw ConfigError(
                .missingKey, key: "zookeeper.auth.digest",
                "zookeeper.set.acl=true needs credentials: set zookeeper.auth.digest=user:password")
        }
        let port = read.int("metrics.port")
        metricsPort = port == 0 ? nil : port
    }

    /// Kafka's rules: advertised names are a subset of the listener names, nothing advertises 0.0.0.0,
    /// and the inter-broker listener is advertised.
    private static func interBrokerListener(
        _ read: Reader, merged: [String: String], listeners: [Listener], advertised: [Listener]
    ) throws(ConfigError) -> String {
        let names = listeners.map(\.name)
        for listener in advertised where !names.contains(listener.name) {
            throw ConfigError(
                .invalidValue, key: "advertised.listeners",
                "advertised.listeners names listener \(listener.name), which listeners does not define (it defines \(names.joined(separator: ", ")))")
        }
        for listener in advertised where listener.host == "0.0.0.0" || listener.host == "::" {
            let key = merged["advertised.listeners"] == nil ? "listeners" : "advertised.listeners"
            throw ConfigError(
                .invalidValue, key: "advertised.listeners",
                "advertised.listeners cannot use the non-routable address \(listener.host) (from \(key)): set "
                    + "advertised.listeners to an address clients can reach, e.g. \(listener.name)://127.0.0.1:\(listener.port)")
        }
        for listener in listeners where listener.securityProtocol != .plaintext {
            throw ConfigError(
                .invalidValue, key: "listeners",
                "listener \(listener.name) uses \(listener.securityProtocol.rawValue), but Odradek serves PLAINTEXT only: "
                    + "map it to PLAINTEXT in listener.security.protocol.map or remove it")
        }
        let name: String
        if let explicit = read.optionalString("inter.broker.listener.name") {
            guard merged["security.inter.broker.protocol"] == nil else {
                throw ConfigError(
                    .invalidValue, key: "inter.broker.listener.name",
                    "set only one of inter.broker.listener.name and security.inter.broker.protocol")
            }
            name = explicit.uppercased()
        } else {
            name = read.string("security.inter.broker.protocol")
        }
        guard advertised.contains(where: { $0.name == name }) else {
            throw ConfigError(
                .invalidValue, key: "inter.broker.listener.name",
                "the inter-broker listener \(name) is not in advertised.listeners "
                    + "(\(advertised.map(\.description).joined(separator: ","))): add it or set inter.broker.listener.name")
        }
        return name
    }

    /// The topic-level default of each topic key from its broker synonyms: the first synonym set
    /// explicitly, else the first with a default, converted to the topic key's unit.
    private static func topicDefaults(merged: [String: String], values: [String: ConfigValue]) -> [String: String] {
        var defaults: [String: String] = [:]
        for (topicKey, synonyms) in TopicConfig.brokerSynonyms {
            let chosen = synonyms.first { merged[$0.name] != nil } ?? synonyms.first { values[$0.name] != nil }
            guard let chosen, let value = values[chosen.name] else { continue }
            if case .integer(let number) = value {
                var converted = number * chosen.millisecondsPerUnit
                // Any negative retention means "forever" (KafkaConfig.logRetentionTimeMillis).
                if topicKey == "retention.ms" && converted < 0 { converted = -1 }
                defaults[topicKey] = String(converted)
            } else {
                defaults[topicKey] = value.text
            }
        }
        return defaults
    }
}

/// Typed reads of validated values. The key table and these reads are checked together by the
/// tests (every BrokerConfig init reads every key), so a miss is a programming error.
private struct Reader {
    let values: [String: ConfigValue]

    func int(_ key: String) -> Int { Int(long(key)) }

    func long(_ key: String) -> Int64 {
        guard case .integer(let number) = values[key] else { preconditionFailure("\(key) is not an integer with a default") }
        return number
    }

    func optionalInt(_ key: String) -> Int? {
        guard case .integer(let number) = values[key] else { return nil }
        return Int(number)
    }

    func bool(_ key: String) -> Bool {
        guard case .boolean(let flag) = values[key] else { preconditionFailure("\(key) is not a boolean with a default") }
        return flag
    }

    func string(_ key: String) -> String {
        guard let text = optionalString(key) else { preconditionFailure("\(key) is not a string with a default") }
        return text
    }

    func optionalString(_ key: String) -> String? {
        guard case .string(let text) = values[key] else { return nil }
        return text
    }

    func list(_ key: String) -> [String] {
        guard case .list(let items) = values[key] else { preconditionFailure("\(key) is not a list") }
        return items
    }
}
