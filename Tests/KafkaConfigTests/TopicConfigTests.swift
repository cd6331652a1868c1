import KafkaCompression
import KafkaConfig
import KafkaModel
import KafkaRecords
import KafkaStorage
import Testing

@Suite("Topic configs")
struct TopicConfigTests {
    @Test("without overrides, a topic takes the broker's log defaults")
    func brokerDefaults() throws {
        let config = try broker(["log.retention.minutes": "30", "message.max.bytes": "2000", "log.cleanup.policy": "compact"])
        let topic = try TopicConfig(overrides: [:], broker: config)
        #expect(topic.log.retentionMs == 1_800_000)
        #expect(topic.settings.maxMessageBytes == 2000)
        #expect(topic.settings.cleanupPolicy == .compact)
        #expect(topic.log == config.logConfig)
    }

    @Test("overrides win over broker defaults and reach both LogConfig and the settings")
    func overrides() throws {
        let config = try broker(["log.retention.hours": "1"])
        let topic = try TopicConfig(overrides: [
            "retention.ms": "5000", "segment.bytes": "1048576", "segment.ms": "60000", "retention.bytes": "-1",
            "segment.index.bytes": "1024", "index.interval.bytes": "10", "flush.messages": "1", "flush.ms": "0",
            "file.delete.delay.ms": "5", "max.message.bytes": "100", "compression.type": "lz4", "min.insync.replicas": "2",
            "cleanup.policy": "compact,delete", "unclean.leader.election.enable": "true",
            "message.timestamp.type": "LogAppendTime", "message.timestamp.difference.max.ms": "1000",
            "delete.retention.ms": "1", "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "2",
            "max.compaction.lag.ms": "3", "preallocate": "true", "message.downconversion.enable": "false",
        ], broker: config)
        var log = LogConfig()
        log.retentionMs = 5000
        log.segmentBytes = 1_048_576
        log.segmentMs = 60000
        log.segmentIndexBytes = 1024
        log.indexIntervalBytes = 10
        log.flushMessages = 1
        log.flushMs = 0
        log.fileDeleteDelayMs = 5
        log.messageTimestampType = .logAppendTime
        log.compact = true
        log.deleteRetentionMs = 1
        log.minCleanableDirtyRatio = 0.25
        log.minCompactionLagMs = 2
        #expect(topic.log == log)
        let compactOnly = try TopicConfig(overrides: ["cleanup.policy": "compact"], broker: config)
        #expect(compactOnly.log.compact && !compactOnly.log.deleteByRetention)
        let settings = topic.settings
        #expect(settings.maxMessageBytes == 100)
        #expect(settings.compressionType == .lz4)
        #expect(settings.compressionType.codec == .lz4)
        #expect(settings.minInsyncReplicas == 2)
        #expect(settings.cleanupPolicy == [.compact, .delete])
        #expect(settings.uncleanLeaderElectionEnable)
        #expect(settings.messageTimestampType == .logAppendTime)
        #expect(settings.messageTimestampDifferenceMaxMs == 1000)
        #expect(settings.deleteRetentionMs == 1)
        #expect(settings.minCleanableDirtyRatio == 0.25)
        #expect(settings.minCompactionLagMs == 2)
        #expect(settings.maxCompactionLagMs == 3)
        #expect(settings.preallocate)
        #expect(!settings.messageDownconversionEnable)
        let validator = settings.recordBatchValidator
        #expect(validator.maxMessageBytes == 100)
        #expect(validator.requiresKeys)
        #expect(validator.timestampType == .logAppendTime)
        #expect(validator.maxTimestampDifferenceMs == 1000)
    }

    @Test("an unknown topic key is INVALID_CONFIG with Kafka's wording and a hint")
    func unknownKey() {
        let typo = configError { try TopicConfig.validate(["retention.msx": "1"], broker: try broker([:])) }
        #expect(typo?.kafkaErrorCode == .invalidConfig)
        #expect(typo?.kind == .unknownKey)
        #expect(typo?.message == "Unknown topic config name: retention.msx. Did you mean retention.ms?")
        let brokerName = configError { _ = try TopicConfig(overrides: ["log.retention.hours": "1"]) }
        #expect(brokerName?.message.contains("the topic-level name is retention.ms") == true)
        let synonym = configError { _ = try TopicConfig(overrides: ["message.max.bytes": "1"]) }
        #expect(synonym?.message.contains("max.message.bytes") == true)
    }

    @Test("bad topic values: type, range, choices, compaction lags, storage limits")
    func badValues() {
        let cases: [(String, String)] = [
            ("retention.ms", "-2"), ("retention.ms", "soon"), ("segment.ms", "0"), ("min.insync.replicas", "0"),
            ("compression.type", "brotli"), ("compression.type", "ZSTD"), ("cleanup.policy", "compact,archive"),
            ("message.timestamp.type", "NoTimestamp"), ("min.cleanable.dirty.ratio", "2"), ("preallocate", "1"),
            ("max.message.bytes", "-1"), ("segment.bytes", "13"), ("segment.bytes", "20"), ("segment.index.bytes", "8"),
        ]
        for (key, value) in cases {
            let error = configError { _ = try TopicConfig(overrides: [key: value]) }
            #expect(error?.kind == .invalidValue, "\(key)=\(value)")
            #expect(error?.key == key, "\(key)=\(value)")
            #expect(error?.kafkaErrorCode == .invalidConfig)
        }
        let lags = configError { _ = try TopicConfig(overrides: ["min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"]) }
        #expect(lags?.message.contains("min.compaction.lag.ms (10) > max.compaction.lag.ms (5)") == true)
    }

    @Test("all compression types and values that are valid")
    func validValues() throws {
        for type in ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"] {
            #expect(try TopicConfig(overrides: ["compression.type": type]).settings.compressionType.rawValue == type)
        }
        #expect(try TopicConfig(overrides: ["retention.ms": "-1"]).log.retentionMs == -1)
        #expect(try TopicConfig(overrides: ["retention.bytes": "-5"]).log.retentionBytes == -5)
        #expect(try TopicConfig(overrides: ["leader.replication.throttled.replicas": "0:1,1:2"]).overrides.count == 1)
    }
}
