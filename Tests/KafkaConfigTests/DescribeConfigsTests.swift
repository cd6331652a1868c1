import KafkaConfig
import Testing

@Suite("DescribeConfigs")
struct DescribeConfigsTests {
    func entry(_ entries: [ConfigEntry], _ name: String) -> ConfigEntry? { entries.first { $0.name == name } }

    @Test("numbering of sources and types matches the protocol")
    func numbering() {
        #expect(ConfigSource.topicConfig.rawValue == 1)
        #expect(ConfigSource.dynamicBrokerConfig.rawValue == 2)
        #expect(ConfigSource.dynamicDefaultBrokerConfig.rawValue == 3)
        #expect(ConfigSource.staticBrokerConfig.rawValue == 4)
        #expect(ConfigSource.defaultConfig.rawValue == 5)
        #expect(ConfigType.boolean.rawValue == 1)
        #expect(ConfigType.long.rawValue == 5)
        #expect(ConfigType.password.rawValue == 9)
    }

    @Test("topic: an override comes first, then broker synonyms in Kafka's order")
    func topicOverride() throws {
        let config = try broker(["log.retention.ms": "604800000"])
        let topic = try TopicConfig(overrides: ["retention.ms": "60000"], broker: config)
        let retention = try #require(entry(topic.describe(broker: config), "retention.ms"))
        #expect(retention.value == "60000")
        #expect(retention.source == .topicConfig)
        #expect(!retention.isDefault)
        #expect(!retention.readOnly)
        #expect(retention.type == .long)
        #expect(retention.synonyms == [
            ConfigSynonym(name: "retention.ms", value: "60000", source: .topicConfig),
            ConfigSynonym(name: "log.retention.ms", value: "604800000", source: .staticBrokerConfig),
            ConfigSynonym(name: "log.retention.hours", value: "168", source: .defaultConfig),
        ])
        #expect(retention.documentation?.isEmpty == false)
    }

    @Test("topic: a value from the broker's static file, and a value from Kafka's default")
    func topicFromBroker() throws {
        let config = try broker(["log.segment.bytes": "1048576", "log.retention.hours": "24"])
        let entries = try TopicConfig(overrides: [:], broker: config).describe(broker: config)
        let segment = try #require(entry(entries, "segment.bytes"))
        #expect(segment.value == "1048576")
        #expect(segment.source == .staticBrokerConfig)
        #expect(segment.synonyms.map(\.source) == [.staticBrokerConfig, .defaultConfig])
        let cleanup = try #require(entry(entries, "cleanup.policy"))
        #expect(cleanup.source == .defaultConfig)
        #expect(cleanup.isDefault)
        #expect(cleanup.synonyms == [ConfigSynonym(name: "log.cleanup.policy", value: "delete", source: .defaultConfig)])
        #expect(cleanup.type == .list)
        // Kafka lists only synonyms from log.retention.ms on, so hours alone leave none.
        let retention = try #require(entry(entries, "retention.ms"))
        #expect(retention.value == "86400000")
        #expect(retention.synonyms.isEmpty)
        #expect(retention.source == .defaultConfig)
        let flush = try #require(entry(entries, "flush.ms"))
        #expect(flush.value == String(Int64.max))
        #expect(entries.count == TopicConfig.keys.count)
    }

    @Test("topic: dynamic broker layers come before static; names filter; synonyms and docs optional")
    func topicDynamic() throws {
        let config = try broker(["broker.id": "1", "log.retention.hours": "168"])
            .applyingDynamic(defaults: ["log.retention.ms": "259200000"], broker: [:])
        let topic = try TopicConfig(overrides: [:], broker: config)
        let entries = topic.describe(broker: config, names: ["retention.ms"], includeSynonyms: false, includeDocumentation: false)
        #expect(entries.count == 1)
        #expect(entries[0].value == "259200000")
        #expect(entries[0].source == .dynamicDefaultBrokerConfig)
        #expect(entries[0].synonyms.isEmpty)
        #expect(entries[0].documentation == nil)
        let full = try #require(entry(topic.describe(broker: config), "retention.ms"))
        #expect(full.synonyms.map(\.source) == [.dynamicDefaultBrokerConfig, .staticBrokerConfig, .defaultConfig])
    }

    @Test("broker: sources, read-only flags, sensitive values, retention synonyms")
    func brokerEntries() throws {
        let config = try broker(["broker.id": "1", "num.partitions": "3", "zookeeper.auth.digest": "u:secret"])
            .applyingDynamic(defaults: ["log.retention.ms": "1000"], broker: ["log.retention.ms": "2000", "min.insync.replicas": "2"])
        let entries = config.describe()
        #expect(entries.count == BrokerConfig.keys.count)

        let partitions = try #require(entry(entries, "num.partitions"))
        #expect(partitions.value == "3")
        #expect(partitions.source == .staticBrokerConfig)
        #expect(partitions.readOnly)
        #expect(partitions.synonyms.map(\.source) == [.staticBrokerConfig, .defaultConfig])

        let retention = try #require(entry(entries, "log.retention.ms"))
        #expect(retention.value == "2000")
        #expect(!retention.readOnly)
        #expect(retention.synonyms == [
            ConfigSynonym(name: "log.retention.ms", value: "2000", source: .dynamicBrokerConfig),
            ConfigSynonym(name: "log.retention.ms", value: "1000", source: .dynamicDefaultBrokerConfig),
            ConfigSynonym(name: "log.retention.hours", value: "168", source: .defaultConfig),
        ])
        let hours = try #require(entry(entries, "log.retention.hours"))
        #expect(hours.source == .defaultConfig)
        #expect(hours.synonyms == [ConfigSynonym(name: "log.retention.hours", value: "168", source: .defaultConfig)])

        let roll = try #require(entry(entries, "log.roll.ms"))
        #expect(roll.value == nil)
        #expect(roll.synonyms.isEmpty)
        #expect(roll.source == .defaultConfig)

        let digest = try #require(entry(entries, "zookeeper.auth.digest"))
        #expect(digest.isSensitive)
        #expect(digest.value == nil)
        #expect(digest.type == .password)
        #expect(digest.synonyms == [ConfigSynonym(name: "zookeeper.auth.digest", value: nil, source: .staticBrokerConfig)])

        let ratio = try #require(entry(entries, "log.cleaner.io.max.bytes.per.second"))
        #expect(ratio.value == "1.7976931348623157E308")
    }

    @Test("cluster-wide default resource lists only the dynamic default keys")
    func brokerDefaults() throws {
        let config = try broker(["min.insync.replicas": "1"])
            .applyingDynamic(defaults: ["min.insync.replicas": "2"], broker: ["log.retention.ms": "5"])
        let entries = config.describeDynamicDefaults()
        #expect(entries.map(\.name) == ["min.insync.replicas"])
        #expect(entries[0].value == "2")
        #expect(entries[0].source == .dynamicDefaultBrokerConfig)
        #expect(entries[0].synonyms == [ConfigSynonym(name: "min.insync.replicas", value: "2", source: .dynamicDefaultBrokerConfig)])
    }
}
