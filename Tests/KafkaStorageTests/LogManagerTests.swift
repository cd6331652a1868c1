import KafkaModel
import Foundation
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaStorage

@Suite struct LogManagerTests {
    @Test func createsLogsInTheDirectoryWithFewestPartitions() throws {
        let first = TemporaryDirectory("a")
        let second = TemporaryDirectory("b")
        defer { first.remove(); second.remove() }
        let manager = try LogManager(logDirectories: [first.path, second.path], logger: CapturedLog().logger)
        for partition in Int32(0)..<4 {
            _ = try manager.getOrCreateLog(TopicPartition(topic: "orders", partition: partition))
        }
        let inFirst = try FileManager.default.contentsOfDirectory(atPath: first.path).filter { $0.hasPrefix("orders-") }
        let inSecond = try FileManager.default.contentsOfDirectory(atPath: second.path).filter { $0.hasPrefix("orders-") }
        #expect(inFirst.count == 2 && inSecond.count == 2)
        #expect(FileManager.default.fileExists(atPath: first.path + "/orders-0/00000000000000000000.log"))
        // The same partition is not created twice.
        let again = try manager.getOrCreateLog(TopicPartition(topic: "orders", partition: 0))
        #expect(again === manager.log(for: TopicPartition(topic: "orders", partition: 0)))
        #expect(throws: StorageError.self) { try manager.getOrCreateLog(TopicPartition(topic: "../etc", partition: 0)) }
        try manager.shutdown()
    }

    @Test func shutdownWritesCheckpointsAndMarkerAndReopensTheSameState() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let clock = ManualClock()
        do {
            let manager = try LogManager(logDirectories: [root.path], clock: clock.storageClock, logger: CapturedLog().logger)
            let a = try manager.getOrCreateLog(TopicPartition(topic: "a", partition: 0))
            let b = try manager.getOrCreateLog(TopicPartition(topic: "b", partition: 1))
            for _ in 0..<6 { _ = try a.appendAsLeader(makeBatch(), leaderEpoch: 0) }
            for _ in 0..<3 { _ = try b.appendAsLeader(makeBatch(count: 2), leaderEpoch: 0) }
            a.updateHighWatermark(5)
            try a.deleteRecords(before: 2)
            b.updateHighWatermark(6)
            try manager.shutdown()
            #expect(throws: StorageError.self) { try a.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        }
        #expect(String(decoding: readFile(root.file("recovery-point-offset-checkpoint")), as: UTF8.self) == "0\n2\na 0 6\nb 1 6\n")
        #expect(String(decoding: readFile(root.file("log-start-offset-checkpoint")), as: UTF8.self) == "0\n2\na 0 2\nb 1 0\n")
        #expect(String(decoding: readFile(root.file("replication-offset-checkpoint")), as: UTF8.self) == "0\n2\na 0 5\nb 1 6\n")
        #expect(FileManager.default.fileExists(atPath: root.file(".kafka_cleanshutdown")))

        let manager = try LogManager(logDirectories: [root.path], clock: clock.storageClock, logger: CapturedLog().logger)
        let a = try #require(manager.log(for: TopicPartition(topic: "a", partition: 0)))
        #expect(a.logStartOffset == 2 && a.logEndOffset == 6 && a.highWatermark == 5 && a.recoveryPoint == 6)
        #expect(throws: StorageError.self) { try a.read(from: 1, maxBytes: 100) }
        #expect(manager.log(for: TopicPartition(topic: "b", partition: 1))?.highWatermark == 6)
        #expect(!FileManager.default.fileExists(atPath: root.file(".kafka_cleanshutdown")))
    }

    @Test func deleteLogRenamesThenRemovesTheDirectory() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let tp = TopicPartition(topic: "gone", partition: 0)
        let manager = try LogManager(logDirectories: [root.path], logger: CapturedLog().logger)
        let log = try manager.getOrCreateLog(tp)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        let slice = try log.read(from: 0, maxBytes: 100)
        #expect(try manager.deleteLog(tp))
        #expect(try !manager.deleteLog(tp))
        #expect(manager.log(for: tp) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix("gone") }.isEmpty)
        #expect(try slice.readBytes().readableBytes == slice.length)  // an in-flight read still has its file
        #expect(throws: StorageError.self) { try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }

        // A deletion interrupted by a crash is finished at startup.
        try FileManager.default.createDirectory(atPath: root.file("old-0.0123abcd-delete"), withIntermediateDirectories: true)
        writeFile(root.file("old-0.0123abcd-delete/00000000000000000000.log"), [1, 2, 3])
        try manager.shutdown()
        let reopened = try LogManager(logDirectories: [root.path], logger: CapturedLog().logger)
        #expect(!FileManager.default.fileExists(atPath: root.file("old-0.0123abcd-delete")))
        #expect(reopened.allLogs.isEmpty)
    }

    @Test func runRetentionAndFlushCoverEveryLog() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        config.retentionMs = 1000
        config.flushMs = 500
        let clock = ManualClock(0)
        let manager = try LogManager(
            logDirectories: [root.path], defaultConfig: config, clock: clock.storageClock, logger: CapturedLog().logger)
        var logs: [PartitionLog] = []
        for partition in Int32(0)..<3 {
            let log = try manager.getOrCreateLog(TopicPartition(topic: "t", partition: partition))
            for index in 0..<6 { _ = try log.appendAsLeader(makeBatch(timestamp: Int64(index) * 100), leaderEpoch: 0) }
            log.updateHighWatermark(6)
            logs.append(log)
        }
        // Segments hold timestamps (0,100), (200,300), (400,500): at 1200 only the first is older than 1000 ms.
        #expect(manager.runRetention(now: 1200) == 3)
        #expect(logs.allSatisfy { $0.logStartOffset == 2 })
        #expect(logs.allSatisfy { $0.recoveryPoint < 6 })
        manager.flushDirtyLogs(now: clock.milliseconds + 500)
        #expect(logs.allSatisfy { $0.recoveryPoint == 6 })
        try manager.shutdown()
    }

    @Test func topicConfigOverridesTheDefault() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let special = {
            var config = LogConfig()
            config.messageTimestampType = .logAppendTime
            return config
        }()
        let manager = try LogManager(
            logDirectories: [root.path], topicConfig: { $0 == "special" ? special : nil }, logger: CapturedLog().logger)
        let log = try manager.getOrCreateLog(TopicPartition(topic: "special", partition: 0))
        #expect(log.config.messageTimestampType == .logAppendTime)
        #expect(try log.appendAsLeader(makeBatch(), leaderEpoch: 0).logAppendTime > 0)
        let plain = try manager.getOrCreateLog(TopicPartition(topic: "plain", partition: 0))
        #expect(plain.config.messageTimestampType == .createTime)
        try manager.shutdown()
    }
}
