import Foundation
import KafkaConfig
import KafkaRecords
import KafkaStorage
import Testing

/// The smallest valid configuration.
let minimal = ["zookeeper.connect": "127.0.0.1:2181"]

func broker(_ extra: [String: String]) throws -> BrokerConfig {
    try BrokerConfig(properties: minimal.merging(extra) { $1 })
}

/// The error `body` throws, or nil.
func configError(_ body: () throws -> Void) -> ConfigError? {
    do {
        try body()
        return nil
    } catch {
        return error as? ConfigError
    }
}

@Suite("BrokerConfig")
struct BrokerConfigTests {
    @Test("every key's default parses and validates")
    func tableDefaults() throws {
        for key in BrokerConfig.keys + TopicConfig.keys {
            if let text = key.defaultValue { _ = try key.parse(text) }
        }
        #expect(Set(BrokerConfig.keys.map(\.name)).count == BrokerConfig.keys.count)
    }

    @Test("Kafka's defaults")
    func defaults() throws {
        let config = try broker([:])
        #expect(config.brokerID == -1)
        #expect(config.brokerRack == nil)
        #expect(config.listeners == [Listener(name: "PLAINTEXT", host: "", port: 9092)])
        #expect(config.advertisedListeners == config.listeners)
        #expect(config.interBrokerListenerName == "PLAINTEXT")
        #expect(config.logDirs == ["/tmp/kafka-logs"])
        #expect(config.numPartitions == 1)
        #expect(config.defaultReplicationFactor == 1)
        #expect(config.messageMaxBytes == 1_048_588)
        #expect(config.socketRequestMaxBytes == 104_857_600)
        #expect(config.socketSendBufferBytes == 102_400)
        #expect(config.numNetworkThreads == 3)
        #expect(config.numIOThreads == 8)
        #expect(config.minInsyncReplicas == 1)
        #expect(config.compressionType == .producer)
        #expect(!config.uncleanLeaderElectionEnable)
        #expect(config.replicaLagTimeMaxMs == 30_000)
        #expect(config.replicaFetchMaxBytes == 1_048_576)
        #expect(config.offsetsTopicNumPartitions == 50)
        #expect(config.offsetsTopicReplicationFactor == 3)
        #expect(config.offsetsRetentionMinutes == 10_080)
        #expect(config.groupInitialRebalanceDelayMs == 3000)
        #expect(config.groupMinSessionTimeoutMs == 6000)
        #expect(config.groupMaxSessionTimeoutMs == 1_800_000)
        #expect(config.zookeeperSessionTimeoutMs == 18_000)
        #expect(config.zookeeperConnectionTimeoutMs == 18_000)
        #expect(!config.zookeeperSetACL)
        #expect(config.metricsPort == nil)
        #expect(config.logCleanupPolicy == .delete)
        #expect(config.logConfig == LogConfig())
        #expect(config.ignoredKeys.isEmpty)
        #expect(config.properties == minimal)
    }

    @Test("typed accessors read the set values")
    func accessors() throws {
        let config = try broker([
            "broker.id": "7", "broker.rack": "r1", "num.partitions": "6", "auto.create.topics.enable": "FALSE",
            "compression.type": "zstd", "metrics.port": "9404", "log.cleanup.policy": "compact, delete",
            "zookeeper.connection.timeout.ms": "5000", "zookeeper.set.acl": "true", "zookeeper.auth.digest": "u:p",
        ])
        #expect(config.brokerID == 7)
        #expect(config.brokerRack == "r1")
        #expect(config.numPartitions == 6)
        #expect(!config.autoCreateTopicsEnable)
        #expect(config.compressionType == .zstd)
        #expect(config.metricsPort == 9404)
        #expect(config.logCleanupPolicy == [.compact, .delete])
        #expect(config.zookeeperConnectionTimeoutMs == 5000)
        #expect(config.zookeeperAuthDigest == "u:p")
    }

    @Test("log.retention precedence: ms over minutes over hours; negative means forever")
    func retentionPrecedence() throws {
        #expect(try broker([:]).logConfig.retentionMs == 168 * 3_600_000)
        #expect(try broker(["log.retention.hours": "1"]).logConfig.retentionMs == 3_600_000)
        #expect(try broker(["log.retention.hours": "1", "log.retention.minutes": "2"]).logConfig.retentionMs == 120_000)
        let all = try broker(["log.retention.hours": "1", "log.retention.minutes": "2", "log.retention.ms": "3"])
        #expect(all.logConfig.retentionMs == 3)
        #expect(try broker(["log.retention.ms": "-1"]).logConfig.retentionMs == -1)
        #expect(try broker(["log.retention.hours": "-5"]).logConfig.retentionMs == -1)
    }

    @Test("log.roll.ms over log.roll.hours; log.flush.interval.ms falls back to the scheduler interval")
    func rollAndFlush() throws {
        #expect(try broker(["log.roll.hours": "2"]).logConfig.segmentMs == 7_200_000)
        #expect(try broker(["log.roll.hours": "2", "log.roll.ms": "500"]).logConfig.segmentMs == 500)
        #expect(try broker([:]).logConfig.flushMs == .max)
        #expect(try broker(["log.flush.scheduler.interval.ms": "3000"]).logConfig.flushMs == 3000)
        #expect(try broker(["log.flush.scheduler.interval.ms": "3000", "log.flush.interval.ms": "10"]).logConfig.flushMs == 10)
    }

    @Test("log.* keys reach LogConfig")
    func logConfig() throws {
        let config = try broker([
            "log.segment.bytes": "1048576", "log.index.size.max.bytes": "4096", "log.index.interval.bytes": "100",
            "log.retention.bytes": "5000000", "log.flush.interval.messages": "10",
            "log.message.timestamp.type": "LogAppendTime", "log.segment.delete.delay.ms": "0",
        ])
        var expected = LogConfig()
        expected.segmentBytes = 1_048_576
        expected.segmentIndexBytes = 4096
        expected.indexIntervalBytes = 100
        expected.retentionBytes = 5_000_000
        expected.flushMessages = 10
        expected.messageTimestampType = .logAppendTime
        expected.fileDeleteDelayMs = 0
        #expect(config.logConfig == expected)
    }

    @Test("log.dirs wins over log.dir")
    func logDirs() throws {
        #expect(try broker(["log.dir": "/a"]).logDirs == ["/a"])
        #expect(try broker(["log.dir": "/a", "log.dirs": "/b, /c"]).logDirs == ["/b", "/c"])
        #expect(configError { _ = try broker(["log.dirs": "/b,/b"]) }?.key == "log.dirs")
    }

    @Test("an unknown key names it, suggests the closest key and says how to fix it")
    func unknownKey() {
        let error = configError { _ = try broker(["num.partiton": "3"]) }
        #expect(error?.kind == .unknownKey)
        #expect(error?.key == "num.partiton")
        #expect(error?.message.contains("'num.partiton'") == true)
        #expect(error?.message.contains("Did you mean 'num.partitions'?") == true)
        #expect(error?.message.contains("Correct the spelling or remove the key") == true)

        let far = configError { _ = try broker(["completely.different": "1"]) }
        #expect(far?.message.contains("Did you mean") == false)
        #expect(far?.message.contains("etc/server.properties") == true)
    }

    @Test("Kafka keys for missing features say so")
    func unsupportedKeys() {
        #expect(configError { _ = try broker(["ssl.keystore.location": "/x"]) }?.kind == .unsupportedKey)
        let kraft = configError { _ = try broker(["process.roles": "broker"]) }
        #expect(kraft?.message.contains("KRaft") == true)
    }

    @Test("a bad value names the key, the value and what is allowed")
    func badValues() {
        let notNumber = configError { _ = try broker(["num.partitions": "three"]) }
        #expect(notNumber?.kind == .invalidValue)
        #expect(notNumber?.message == "Invalid value 'three' for configuration num.partitions: expected a 32-bit integer, at least 1")
        let belowMin = configError { _ = try broker(["num.partitions": "0"]) }
        #expect(belowMin?.message.contains("at least 1") == true)
        let tooBig = configError { _ = try broker(["message.max.bytes": "3000000000"]) }
        #expect(tooBig?.message.contains("32-bit") == true)
        let choice = configError { _ = try broker(["log.message.timestamp.type": "createtime"]) }
        #expect(choice?.message.contains("one of CreateTime, LogAppendTime") == true)
        let flag = configError { _ = try broker(["delete.topic.enable": "yes"]) }
        #expect(flag?.message.contains("true or false") == true)
        let policy = configError { _ = try broker(["log.cleanup.policy": "delete,archive"]) }
        #expect(policy?.message.contains("compact, delete") == true)
        let ratio = configError { _ = try broker(["log.cleaner.min.cleanable.ratio": "1.5"]) }
        #expect(ratio?.message.contains("between 0.0 and 1.0") == true)
        let port = configError { _ = try broker(["metrics.port": "70000"]) }
        #expect(port?.key == "metrics.port")
    }

    @Test("a sensitive value is not echoed in errors")
    func sensitive() {
        let error = configError { _ = try broker(["zookeeper.auth.digest": "nocolon"]) }
        #expect(error?.key == "zookeeper.auth.digest")
        #expect(error?.message.contains("nocolon") == false)
    }

    @Test("cross-key rules: zookeeper.connect required, ACLs need credentials, broker.id range, replica timeouts")
    func crossKeyRules() {
        #expect(configError { _ = try BrokerConfig(properties: [:]) }?.key == "zookeeper.connect")
        #expect(configError { _ = try broker(["zookeeper.set.acl": "true"]) }?.key == "zookeeper.auth.digest")
        #expect(configError { _ = try broker(["broker.id": "1001"]) }?.key == "broker.id")
        #expect(configError { _ = try broker(["broker.id": "-2"]) }?.key == "broker.id")
        #expect(configError { _ = try broker(["broker.id": "-1", "broker.id.generation.enable": "false"]) }?.key == "broker.id")
        #expect(configError { _ = try broker(["replica.fetch.wait.max.ms": "40000"]) } != nil)
        #expect(configError { _ = try broker(["log.cleaner.min.compaction.lag.ms": "10", "log.cleaner.max.compaction.lag.ms": "5"]) } != nil)
        // Storage's own floor: a segment must hold a batch header.
        #expect(configError { _ = try broker(["log.segment.bytes": "20"]) }?.key == "log.segment.bytes")
    }

    @Test("ignored keys are accepted and reported")
    func ignoredKeys() throws {
        let config = try broker(["transaction.state.log.replication.factor": "1", "log.preallocate": "true"])
        #expect(config.ignoredKeys == ["log.preallocate", "transaction.state.log.replication.factor"])
    }

    @Test("load: file, then overrides; errors say where the key came from")
    func load() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("odradek-config-\(UUID()).properties").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "zookeeper.connect=zk:2181\nnum.partitions=2\nbroker.id=1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let config = try BrokerConfig.load(path: path, overrides: ["num.partitions=5", "broker.rack = r2"])
        #expect(config.numPartitions == 5)
        #expect(config.brokerRack == "r2")
        #expect(config.brokerID == 1)
        #expect(config.staticProperties["num.partitions"] == "5")

        let override = configError { _ = try BrokerConfig.load(path: path, overrides: ["num.partition=5"]) }
        #expect(override?.message.contains("--override") == true)
        try "zookeeper.connect=zk:2181\nlog.dirz=/x\n".write(toFile: path, atomically: true, encoding: .utf8)
        let inFile = configError { _ = try BrokerConfig.load(path: path) }
        #expect(inFile?.message.contains(path) == true)
        #expect(inFile?.message.contains("Did you mean 'log.dir") == true)
    }

    @Test("dynamic overrides: per-broker over cluster-wide over static; read-only keys refused")
    func dynamic() throws {
        let config = try broker(["broker.id": "1", "log.retention.hours": "24", "min.insync.replicas": "1"])
        let updated = try config.applyingDynamic(
            defaults: ["min.insync.replicas": "2", "log.retention.ms": "1000"], broker: ["min.insync.replicas": "3"])
        #expect(updated.minInsyncReplicas == 3)
        #expect(updated.logConfig.retentionMs == 1000)
        #expect(updated.properties["min.insync.replicas"] == "3")
        #expect(updated.staticProperties == config.staticProperties)

        let readOnly = configError { _ = try config.applyingDynamic(defaults: [:], broker: ["broker.id": "2"]) }
        #expect(readOnly?.message.contains("/config/brokers/1") == true)
        #expect(readOnly?.message.contains("restart") == true)
        #expect(configError { _ = try config.applyingDynamic(defaults: ["min.insync.replica": "2"], broker: [:]) }?.kind == .unknownKey)
    }
}

@Suite("Listeners")
struct ListenerTests {
    let plaintext: [String: SecurityProtocol] = ["PLAINTEXT": .plaintext, "INTERNAL": .plaintext]

    @Test("hosts: empty, names, IPv4, bracketed IPv6; names upper-cased")
    func parsing() throws {
        let list = try Listener.parseList(
            "PLAINTEXT://:9092, internal://broker-1.example.com:9093", key: "listeners", protocols: plaintext)
        #expect(list == [
            Listener(name: "PLAINTEXT", host: "", port: 9092), Listener(name: "INTERNAL", host: "broker-1.example.com", port: 9093),
        ])
        #expect(list[0].bindHost == nil)
        let v6 = try Listener.parse("PLAINTEXT://[::1]:9092", key: "listeners", protocols: plaintext)
        #expect(v6.host == "::1")
        #expect(v6.description == "PLAINTEXT://[::1]:9092")
        #expect(try Listener.parse("PLAINTEXT://127.0.0.1:0", key: "listeners", protocols: plaintext).port == 0)
    }

    @Test("malformed listeners are rejected with the expected form")
    func malformed() {
        for bad in ["PLAINTEXT:9092", "PLAINTEXT://host", "PLAINTEXT://host:99999", "PLAINTEXT://ho st:1", "://h:1", ""] {
            #expect(throws: ConfigError.self, "\(bad)") { try Listener.parseList(bad, key: "listeners", protocols: plaintext) }
        }
        let error = configError { _ = try Listener.parseList("OTHER://:1", key: "listeners", protocols: plaintext) }
        #expect(error?.message.contains("listener.security.protocol.map") == true)
    }

    @Test("duplicate names and ports are rejected")
    func duplicates() {
        #expect(throws: ConfigError.self) {
            try Listener.parseList("PLAINTEXT://:1,PLAINTEXT://:2", key: "listeners", protocols: plaintext)
        }
        #expect(throws: ConfigError.self) {
            try Listener.parseList("PLAINTEXT://:1,INTERNAL://h:1", key: "listeners", protocols: plaintext)
        }
        #expect(throws: Never.self) {
            try Listener.parseList("PLAINTEXT://a:1,INTERNAL://b:1", key: "listeners", protocols: plaintext)
        }
    }

    @Test("advertised listeners: default to listeners, never 0.0.0.0, names from listeners")
    func advertised() throws {
        let config = try broker(["listeners": "PLAINTEXT://0.0.0.0:9092", "advertised.listeners": "PLAINTEXT://broker1:9092"])
        #expect(config.listeners[0].host == "0.0.0.0")
        #expect(config.advertisedListeners == [Listener(name: "PLAINTEXT", host: "broker1", port: 9092)])

        let zeros = configError { _ = try broker(["listeners": "PLAINTEXT://0.0.0.0:9092"]) }
        #expect(zeros?.key == "advertised.listeners")
        #expect(zeros?.message.contains("0.0.0.0") == true)
        let unknownName = configError {
            _ = try broker(["listeners": "PLAINTEXT://:9092", "advertised.listeners": "PLAINTEXT://h:9092,EXTERNAL://h:9093",
                            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,EXTERNAL:PLAINTEXT"])
        }
        #expect(unknownName?.key == "advertised.listeners")
    }

    @Test("inter-broker listener: named, or from security.inter.broker.protocol; only PLAINTEXT served")
    func interBroker() throws {
        let map = "INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"
        let config = try broker([
            "listeners": "INTERNAL://10.0.0.1:9093,EXTERNAL://1.2.3.4:9092", "listener.security.protocol.map": map,
            "inter.broker.listener.name": "internal",
        ])
        #expect(config.interBrokerListenerName == "INTERNAL")
        #expect(config.listenerSecurityProtocolMap["EXTERNAL"] == .plaintext)
        // Without a name, the PLAINTEXT listener is the default, and here there is none.
        #expect(configError { _ = try broker(["listeners": "INTERNAL://h:1", "listener.security.protocol.map": map]) }?.key
            == "inter.broker.listener.name")
        #expect(configError {
            _ = try broker(["inter.broker.listener.name": "PLAINTEXT", "security.inter.broker.protocol": "PLAINTEXT"])
        } != nil)
        let tls = configError { _ = try broker(["listeners": "PLAINTEXT://:9092,SSL://:9093"]) }
        #expect(tls?.message.contains("PLAINTEXT only") == true)
        #expect(configError { _ = try broker(["listener.security.protocol.map": "PLAINTEXT:TLS"]) }?.key
            == "listener.security.protocol.map")
    }
}
