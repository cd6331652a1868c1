import KafkaModel
import Foundation
import KafkaRecords
import Testing

@testable import KafkaStorage

@Suite struct FormatTests {
    @Test func segmentFileNamesHaveTwentyDigits() {
        #expect(LogSegment.fileName(baseOffset: 0, suffix: ".log") == "00000000000000000000.log")
        #expect(LogSegment.fileName(baseOffset: 1234, suffix: ".index") == "00000000000000001234.index")
        #expect(LogSegment.fileName(baseOffset: Int64.max, suffix: ".timeindex") == "09223372036854775807.timeindex")
        #expect(LogSegment.baseOffset(fileName: "00000000000000001234.log", suffix: ".log") == 1234)
        #expect(LogSegment.baseOffset(fileName: "1234.log", suffix: ".log") == nil)
        #expect(LogSegment.baseOffset(fileName: "0000000000000000123x.log", suffix: ".log") == nil)
        #expect(LogSegment.baseOffset(fileName: "00000000000000001234.log.deleted", suffix: ".log") == nil)
    }

    @Test func topicPartitionDirectoryNames() {
        #expect(TopicPartition(directoryName: "orders-3") == TopicPartition(topic: "orders", partition: 3))
        #expect(TopicPartition(directoryName: "my-topic-12") == TopicPartition(topic: "my-topic", partition: 12))
        #expect(TopicPartition(directoryName: "orders-3.abc-delete") == nil)
        #expect(TopicPartition(directoryName: "orders") == nil)
        #expect(TopicPartition(directoryName: "orders-x") == nil)
        #expect(TopicPartition(directoryName: "orders-01") == nil)
        #expect(TopicPartition(directoryName: "orders--1") == TopicPartition(topic: "orders-", partition: 1))
        #expect(TopicPartition(directoryName: "..-1") == nil)
        #expect(TopicPartition(topic: "a.b_c-d", partition: 7).directoryName == "a.b_c-d-7")
        #expect(!TopicPartition.isLegalTopicName("bad/name"))
        #expect(!TopicPartition.isLegalTopicName("bad name"))
        #expect(!TopicPartition.isLegalTopicName(String(repeating: "a", count: 250)))
    }

    @Test func offsetIndexFileIsBigEndianRelativeOffsetAndPosition() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("00000000000000000100.index")
        let index = try OffsetIndex(path: path, baseOffset: 100, maxIndexSize: 80)
        try index.append(offset: 105, position: 0)
        try index.append(offset: 0x1_0203 + 100, position: 0x0405_0607)
        // Entries are kept in memory until persisted (at flush, roll and close).
        #expect(readFile(path) == [])
        try index.persist()
        #expect(readFile(path) == [0, 0, 0, 5, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
        #expect(index.lookup(99) == (100, 0) || index.lookup(99).position == 0)
        #expect(index.lookup(104).position == 0 && index.lookup(104).offset == 100)
        #expect(index.lookup(105).offset == 105)
        #expect(index.lookup(200).offset == 105)
        #expect(index.lookup(0x1_0203 + 100).position == 0x0405_0607)
        #expect(index.maxEntries == 10)

        // Reopening reads the same entries back.
        let reopened = try OffsetIndex(path: path, baseOffset: 100, maxIndexSize: 80)
        #expect(reopened.entryCount == 2)
        #expect(reopened.lastEntry?.offset == Int64(0x1_0203 + 100))
    }

    @Test func offsetIndexRejectsTornAndUnorderedFiles() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let torn = directory.file("torn.index")
        writeFile(torn, [0, 0, 0, 1, 0, 0, 0, 10, 0, 0])
        #expect(throws: StorageError.self) { try OffsetIndex(path: torn, baseOffset: 0, maxIndexSize: 80) }
        let unordered = directory.file("unordered.index")
        writeFile(unordered, [0, 0, 0, 5, 0, 0, 0, 10, 0, 0, 0, 3, 0, 0, 0, 20])
        do {
            _ = try OffsetIndex(path: unordered, baseOffset: 0, maxIndexSize: 80)
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .corruptIndex)
            #expect(error.message.contains("unordered.index"))
        }
    }

    @Test func timeIndexFileIsBigEndianTimestampAndRelativeOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("00000000000000000010.timeindex")
        let index = try TimeIndex(path: path, baseOffset: 10, maxIndexSize: 36)
        try index.maybeAppend(timestamp: 0x0102_0304_0506_0708, offset: 12)
        try index.maybeAppend(timestamp: 5, offset: 13)  // not larger: skipped
        try index.persist()
        #expect(readFile(path) == [1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 2])
        try index.maybeAppend(timestamp: 0x0102_0304_0506_0709, offset: 20)
        try index.maybeAppend(timestamp: 0x0102_0304_0506_070A, offset: 21)
        #expect(index.isFull)
        try index.maybeAppend(timestamp: 0x0102_0304_0506_070B, offset: 22)  // full
        #expect(index.entryCount == 3)
        try index.maybeAppend(timestamp: 0x0102_0304_0506_070B, offset: 22, allowWhenFull: true)
        #expect(index.entryCount == 4)
        #expect(index.lookup(0) == 10)
        #expect(index.lookup(0x0102_0304_0506_0708) == 12)
        #expect(index.lookup(0x0102_0304_0506_0709) == 20)
        try index.persist()
        #expect(timeIndexEntries(path).map(\.offset) == [2, 10, 11, 12])
    }

    @Test func offsetCheckpointFileText() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(path: directory.file("recovery-point-offset-checkpoint"))
        #expect(try file.read().isEmpty)
        try file.write([
            TopicPartition(topic: "orders", partition: 1): 99210,
            TopicPartition(topic: "orders", partition: 0): 1534,
            TopicPartition(topic: "a-b", partition: 2): 0,
        ])
        let text = String(decoding: readFile(file.path), as: UTF8.self)
        #expect(text == "0\n3\na-b 2 0\norders 0 1534\norders 1 99210\n")
        #expect(try file.read() == [
            TopicPartition(topic: "orders", partition: 1): 99210,
            TopicPartition(topic: "orders", partition: 0): 1534,
            TopicPartition(topic: "a-b", partition: 2): 0,
        ])
        #expect(!FileManager.default.fileExists(atPath: file.path + ".tmp"))
        // Kafka separates fields with any whitespace run.
        writeFile(file.path, Array("0\n1\norders  0 7\n".utf8))
        #expect(try file.read() == [TopicPartition(topic: "orders", partition: 0): 7])
    }

    @Test(arguments: [
        "0\n2\norders 0 1534\n",  // fewer entries than announced (torn)
        "0\n1\norders 0 1534",  // no final newline (torn)
        "1\n1\norders 0 1534\n",  // unknown version
        "0\nx\n",  // garbage count
        "0\n1\norders zero 1534\n",  // garbage partition
        "0\n1\norders 0\n",  // missing field
        "\u{0}\u{0}\u{0}\u{0}\n",  // zeroed blocks after a crash
        "",  // empty file
    ])
    func tornOrGarbageCheckpointIsReportedNotCrashed(text: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = OffsetCheckpointFile(path: directory.file("replication-offset-checkpoint"))
        writeFile(file.path, Array(text.utf8))
        do {
            _ = try file.read()
            Issue.record("expected .corruptCheckpoint for \(text.debugDescription)")
        } catch {
            #expect(error.code == .corruptCheckpoint)
            #expect(error.message.contains("replication-offset-checkpoint"))
        }
    }

    @Test func leaderEpochCheckpointText() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = LeaderEpochCheckpointFile(path: directory.file("leader-epoch-checkpoint"))
        #expect(try file.read() == nil)
        let entries = [
            LeaderEpochCache.Entry(epoch: 0, startOffset: 0), LeaderEpochCache.Entry(epoch: 2, startOffset: 1534),
            LeaderEpochCache.Entry(epoch: 5, startOffset: 99210),
        ]
        try file.write(entries)
        #expect(String(decoding: readFile(file.path), as: UTF8.self) == "0\n3\n0 0\n2 1534\n5 99210\n")
        #expect(try file.read() == entries)
        writeFile(file.path, Array("0\n2\n5 10\n2 20\n".utf8))
        #expect(throws: StorageError.self) { try file.read() }
        writeFile(file.path, Array("0\n2\n5 10\n".utf8))
        #expect(throws: StorageError.self) { try file.read() }
    }

    @Test func logConfigHasKafkaDefaults() throws {
        let config = LogConfig()
        #expect(config.segmentBytes == 1_073_741_824)
        #expect(config.segmentMs == 604_800_000)
        #expect(config.segmentIndexBytes == 10_485_760)
        #expect(config.indexIntervalBytes == 4096)
        #expect(config.retentionMs == 604_800_000)
        #expect(config.retentionBytes == -1)
        #expect(config.flushMessages == Int64.max)
        #expect(config.flushMs == Int64.max)
        #expect(config.messageTimestampType == .createTime)
        #expect(config.fileDeleteDelayMs == 60_000)
        #expect(config.syncOnAppend == false)
        try config.validate()
        var bad = config
        bad.segmentBytes = 10
        #expect(throws: StorageError.self) { try bad.validate() }
    }
}
