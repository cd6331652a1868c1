import KafkaCompression
import KafkaModel
import Foundation
import KafkaRecords
import Logging
import NIOCore
import Testing

@testable import KafkaStorage

/// A record as read back: offset, key and value as strings (nil value: a tombstone).
private struct Stored: Hashable, CustomStringConvertible {
    let offset: Int64
    let key: String?
    let value: String?
    var description: String { "\(offset):\(key ?? "null")=\(value ?? "null")" }
}

private func compactConfig(segmentBytes: Int = 1 << 20, ratio: Double = 0.5) -> LogConfig {
    var config = LogConfig()
    config.compact = true
    config.deleteByRetention = false
    config.segmentBytes = segmentBytes
    config.minCleanableDirtyRatio = ratio
    config.deleteRetentionMs = 10_000
    return config
}

/// Appends one batch of `key=value` pairs ("k=" alone is a tombstone) as the leader.
@discardableResult
private func append(
    _ log: PartitionLog, _ pairs: [String], timestamp: Int64 = 1_000, codec: CompressionCodec = .none, producerId: Int64 = -1
) throws -> LogAppendInfo {
    var builder = RecordBatchBuilder(codec: codec)
    if producerId >= 0 {
        builder.producerId = producerId
        builder.producerEpoch = 0
        builder.baseSequence = Int32(log.producerState(for: producerId).map { $0.batches.last!.lastSequence + 1 } ?? 0)
    }
    for (index, pair) in pairs.enumerated() {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let value: [UInt8]? = parts.count > 1 && !parts[1].isEmpty ? Array(parts[1].utf8) : nil
        builder.append(key: parts[0] == "null" ? nil : Array(parts[0].utf8), value: value, timestamp: timestamp + Int64(index))
    }
    return try log.appendAsLeader(try builder.build(), leaderEpoch: 0)
}

/// Every record from the log start to the log end, read through `readBatches` (CRCs checked).
private func readAll(_ log: PartitionLog) throws -> [Stored] {
    var records: [Stored] = []
    var offset = log.logStartOffset
    while offset < log.logEndOffset {
        let (batches, _) = try RecordBatch.split(try log.readBatches(from: offset, maxBytes: 1 << 20))
        guard !batches.isEmpty else { break }
        for batch in batches {
            try batch.verifyChecksum()
            for record in try batch.records() where record.offset >= offset {
                records.append(
                    Stored(
                        offset: record.offset, key: record.key.map { String(decoding: $0, as: UTF8.self) },
                        value: record.value.map { String(decoding: $0, as: UTF8.self) }))
            }
            offset = batch.header.nextOffset
        }
    }
    return records
}

/// What compaction of `records` below `end` must leave: the last record of each key there, and
/// everything from `end` on.
private func compacted(_ records: [Stored], below end: Int64, dropTombstones: Bool = false) -> [Stored] {
    var latest: [String: Int64] = [:]
    for record in records where record.offset < end {
        if let key = record.key { latest[key] = record.offset }
    }
    return records.filter { record in
        if record.offset >= end { return true }
        guard let key = record.key, latest[key] == record.offset else { return false }
        return record.value != nil || !dropTombstones
    }
}

private func cleaner(capacity: Int = 1_000) -> Cleaner {
    Cleaner(mapCapacity: capacity, logger: CapturedLog().logger)
}

private func leftovers(_ directory: TemporaryDirectory) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.file("topic-0"))) ?? [])
        .filter { $0.hasSuffix(".cleaned") || $0.hasSuffix(".swap") }
}

@Suite struct LogCleanerTests {
    /// A log of three rolled segments of overwrites and one active segment, its records, and the
    /// active segment's base offset.
    private func overwrittenLog(_ directory: TemporaryDirectory) throws -> (PartitionLog, [Stored], Int64) {
        let log = try openLog(directory, config: compactConfig())
        try writeOverwrites(log)
        return (log, try readAll(log), log.segmentBaseOffsets.last!)
    }

    private func writeOverwrites(_ log: PartitionLog) throws {
        try append(log, ["a=1", "b=1", "c=1", "d=1", "e=1"])  // 0-4
        try append(log, ["a=2", "b=2"])  // 5-6
        try log.roll()
        try append(log, ["c=3", "a=3"])  // 7-8
        try append(log, ["null=x", "f=3"])  // 9-10
        try log.roll()
        try append(log, ["b=4", "a=4"])  // 11-12
        try log.roll()
        try append(log, ["a=5", "a=6"])  // 13-14, active
        log.updateHighWatermark(log.logEndOffset)
    }

    @Test func theLatestValueOfEachKeySurvivesAtItsOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (log, before, activeBase) = try overwrittenLog(directory)
        let activeBytes = readFile(segmentPath(directory, activeBase, ".log"))

        let result = try #require(try cleaner().clean(log, checkpoint: nil, now: 10_000))

        #expect(result.endOffset == activeBase)
        let after = try readAll(log)
        #expect(after == compacted(before, below: activeBase))
        #expect(after.map(\.description) == ["3:d=1", "4:e=1", "7:c=3", "10:f=3", "11:b=4", "12:a=4", "13:a=5", "14:a=6"])
        // The active segment is untouched; the three cleaned segments became one.
        #expect(readFile(segmentPath(directory, activeBase, ".log")) == activeBytes)
        #expect(log.segmentBaseOffsets == [0, activeBase])
        #expect(leftovers(directory).isEmpty)
        // A rewritten batch keeps its base and last offsets.
        let (batches, _) = try RecordBatch.split(try log.readBatches(from: 0, maxBytes: 1 << 20))
        #expect(batches[0].header.baseOffset == 0 && batches[0].header.lastOffset == 4 && batches[0].header.recordCount == 2)
        // Fetching an offset cleaned away starts at the batch holding the next survivor.
        #expect(try log.read(from: 5, maxBytes: 1 << 20).firstBatchOffset == 7)
        #expect(try log.read(from: 0, maxBytes: 1 << 20).firstBatchOffset == 0)
        // Reopening (indexes rebuilt or checked) reads the same.
        try log.close()
        let reopened = try openLog(directory, config: compactConfig())
        #expect(try readAll(reopened) == after)
    }

    @Test func tombstonesLastDeleteRetentionAfterCleaningThenGo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(100_000)
        let config = compactConfig()
        let manager = try LogManager(
            logDirectories: [directory.path], defaultConfig: config, clock: clock.storageClock, logger: CapturedLog().logger)
        let logCleaner = LogCleaner(logManager: manager, clock: clock.storageClock, logger: CapturedLog().logger)
        let log = try manager.getOrCreateLog(TopicPartition(topic: "topic", partition: 0))
        try append(log, ["a=1", "b=1", "c=1"])
        try append(log, ["a=", "b=2"])
        try log.roll()
        try append(log, ["c=2"])
        try log.roll()
        try append(log, ["d=1"])
        log.updateHighWatermark(log.logEndOffset)

        #expect(logCleaner.runOnce().count == 1)
        let firstPass = clock.milliseconds
        #expect(try readAll(log).map(\.description) == ["3:a=null", "4:b=2", "5:c=2", "6:d=1"])
        let (batches, _) = try RecordBatch.split(try log.readBatches(from: 3, maxBytes: 1 << 20))
        #expect(batches[0].header.hasDeleteHorizon && batches[0].header.baseTimestamp == firstPass + config.deleteRetentionMs)

        clock.advance(by: config.deleteRetentionMs - 1)
        #expect(logCleaner.runOnce().isEmpty)
        #expect(try readAll(log).map(\.description) == ["3:a=null", "4:b=2", "5:c=2", "6:d=1"])

        clock.advance(by: 1)
        #expect(logCleaner.runOnce().count == 1)
        #expect(try readAll(log).map(\.description) == ["4:b=2", "5:c=2", "6:d=1"])
        try manager.shutdown()
    }

    @Test func aLogBelowTheDirtyRatioIsLeftAlone() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory, config: compactConfig(ratio: 0.5))
        try append(log, (0..<20).map { "k\($0)=first-value-\($0)" })
        try log.roll()
        try append(log, ["k0=x"])
        log.updateHighWatermark(log.logEndOffset)
        let first = try #require(try cleaner().clean(log, checkpoint: nil, now: 10_000))
        #expect(first.endOffset == 20)

        // One small dirty segment against a large clean one: a ratio well below 0.5.
        try append(log, ["k1=y"])
        try log.roll()
        try append(log, ["k2=z"])
        log.updateHighWatermark(log.logEndOffset)
        let before = try readAll(log)
        let segments = log.segmentBaseOffsets
        #expect(try cleaner().clean(log, checkpoint: first.endOffset, now: 10_000) == nil)
        #expect(try readAll(log) == before)
        #expect(log.segmentBaseOffsets == segments)

        var eager = compactConfig(ratio: 0.01)
        eager.segmentBytes = 1 << 20
        try log.updateConfig(eager)
        let second = try #require(try cleaner().clean(log, checkpoint: first.endOffset, now: 10_000))
        #expect(second.firstDirtyOffset == 20 && second.endOffset == 22)
        #expect(try readAll(log) == compacted(before, below: 22))
        #expect(!(try readAll(log)).contains { $0.value == "first-value-1" })
    }

    @Test func recordsYoungerThanTheCompactionLagStayDirty() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = compactConfig()
        config.minCompactionLagMs = 60_000
        let now: Int64 = 1_000_000
        let log = try openLog(directory, config: config)
        try append(log, ["a=1", "b=1"], timestamp: now - 120_000)  // old enough
        try append(log, ["a=2"], timestamp: now - 110_000)
        try log.roll()
        try append(log, ["a=3", "b=3"], timestamp: now - 1_000)  // too young
        try log.roll()
        try append(log, ["b=4"], timestamp: now)
        log.updateHighWatermark(log.logEndOffset)
        let before = try readAll(log)

        let result = try #require(try cleaner().clean(log, checkpoint: nil, now: now))
        #expect(result.endOffset == 3)
        #expect(try readAll(log).map(\.description) == ["1:b=1", "2:a=2", "3:a=3", "4:b=3", "5:b=4"])
        #expect(try readAll(log) == compacted(before, below: 3))
        // Nothing old enough is dirty any more.
        #expect(try cleaner().clean(log, checkpoint: result.endOffset, now: now) == nil)
    }

    @Test(arguments: [CompressionCodec.gzip, .snappy, .lz4, .zstd])
    func compressedBatchesAreFilteredAndRecompressed(codec: CompressionCodec) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory, config: compactConfig())
        try append(log, ["a=1", "b=1", "c=1", "d=1", "e=1"], codec: codec)
        try append(log, ["b=2", "d=2", "f="], codec: codec)
        try log.roll()
        try append(log, ["g=1"])
        log.updateHighWatermark(log.logEndOffset)
        let before = try readAll(log)

        _ = try #require(try cleaner().clean(log, checkpoint: nil, now: 10_000))
        #expect(try readAll(log) == compacted(before, below: 8))
        #expect(try readAll(log).map(\.description) == ["0:a=1", "2:c=1", "4:e=1", "5:b=2", "6:d=2", "7:f=null", "8:g=1"])
        let (batches, _) = try RecordBatch.split(try log.readBatches(from: 0, maxBytes: 1 << 20))
        #expect(batches.count == 2)
        for batch in batches {
            #expect(batch.header.compressionCodec == codec)
        }
        #expect(batches[0].header.recordCount == 3 && batches[0].header.lastOffset == 4)
        // The second batch was rewritten only to get a delete horizon for its tombstone.
        #expect(batches[1].header.hasDeleteHorizon && batches[1].header.recordCount == 3)
    }

    @Test(arguments: [LogCleaner.CrashPoint.afterCleanedFiles, .afterSwapFiles, .afterOldSegmentsDeleted])
    func aCrashWhileCleaningLosesAndDuplicatesNothing(crashPoint: LogCleaner.CrashPoint) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (log, before, activeBase) = try overwrittenLog(directory)

        #expect(throws: StorageError.self) {
            _ = try cleaner().clean(log, checkpoint: nil, now: 10_000, crashPoint: crashPoint)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.file("topic-0"))) ?? []
        switch crashPoint {
        case .afterCleanedFiles:
            #expect(names.contains("00000000000000000000.log.cleaned"))
            #expect(names.contains("00000000000000000000.log"))
        case .afterSwapFiles:
            #expect(names.contains("00000000000000000000.log.swap"))
            #expect(names.contains("00000000000000000000.log") && names.contains("00000000000000000007.log"))
        case .afterOldSegmentsDeleted:
            #expect(names.contains("00000000000000000000.log.swap"))
            #expect(!names.contains("00000000000000000000.log") && !names.contains("00000000000000000007.log"))
        }

        // The broker "restarts" without a clean shutdown.
        let captured = CapturedLog()
        let reopened = try openLog(directory, config: compactConfig(), captured: captured)
        let after = try readAll(reopened)
        #expect(leftovers(directory).isEmpty)
        #expect(Set(after.map(\.offset)).count == after.count)
        #expect(after.map(\.offset) == after.map(\.offset).sorted())
        if crashPoint == .afterCleanedFiles {
            #expect(after == before)
            #expect(reopened.segmentBaseOffsets == [0, 7, 11, activeBase])
        } else {
            #expect(after == compacted(before, below: activeBase))
            #expect(reopened.segmentBaseOffsets == [0, activeBase])
            #expect(captured.contains("Completing the interrupted swap"))
        }
        // Whatever survived, cleaning again reaches the same compacted log.
        reopened.updateHighWatermark(reopened.logEndOffset)
        _ = try cleaner().clean(reopened, checkpoint: nil, now: 10_000)
        #expect(try readAll(reopened) == compacted(before, below: activeBase))
    }

    @Test func theCheckpointIsWrittenAndASecondPassDoesNothing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock(100_000)
        let manager = try LogManager(
            logDirectories: [directory.path], defaultConfig: compactConfig(), clock: clock.storageClock, logger: CapturedLog().logger)
        let logCleaner = LogCleaner(logManager: manager, clock: clock.storageClock, logger: CapturedLog().logger)
        let log = try manager.getOrCreateLog(TopicPartition(topic: "topic", partition: 0))
        try writeOverwrites(log)
        let activeBase = log.segmentBaseOffsets.last!

        let results = logCleaner.runOnce()
        #expect(results[TopicPartition(topic: "topic", partition: 0)]?.endOffset == activeBase)
        let path = directory.file(OffsetCheckpointFile.cleanerOffsetFileName)
        #expect(String(decoding: readFile(path), as: UTF8.self) == "0\n1\ntopic 0 \(activeBase)\n")
        #expect(try logCleaner.checkpoints(logDirectory: directory.path) == [TopicPartition(topic: "topic", partition: 0): activeBase])

        let segments = log.segmentBaseOffsets
        let bytes = readFile(segmentPath(directory, 0, ".log"))
        #expect(logCleaner.runOnce().isEmpty)
        #expect(log.segmentBaseOffsets == segments)
        #expect(readFile(segmentPath(directory, 0, ".log")) == bytes)

        // A new cleaner (a restarted broker) starts from the checkpoint: still nothing to do.
        let restarted = LogCleaner(logManager: manager, clock: clock.storageClock, logger: CapturedLog().logger)
        #expect(restarted.runOnce().isEmpty)
        try manager.shutdown()
    }

    @Test func theLastBatchOfAProducerStaysAsAnEmptyBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory, config: compactConfig())
        // Timestamps near the clock's, so the producer has not expired.
        let now = ManualClock().milliseconds
        try append(log, ["a=1"], timestamp: now, producerId: 7)  // 0
        try append(log, ["a=2"], timestamp: now)  // 1
        try log.roll()
        try append(log, ["b=1"])
        log.updateHighWatermark(log.logEndOffset)

        _ = try #require(try cleaner().clean(log, checkpoint: nil, now: 10_000))
        #expect(try readAll(log).map(\.description) == ["1:a=2", "2:b=1"])
        let (batches, _) = try RecordBatch.split(try log.readBatches(from: 0, maxBytes: 1 << 20))
        #expect(batches[0].header.producerId == 7 && batches[0].header.recordCount == 0 && batches[0].header.lastOffset == 0)
        try log.close()
        let reopened = try openLog(directory, config: compactConfig())
        #expect(reopened.producerState(for: 7)?.batches.last?.lastOffset == 0)
    }

    @Test func appendsDuringCleaningArePreserved() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory, config: compactConfig(segmentBytes: 4_096))
        for round in 0..<30 {
            try append(log, (0..<10).map { "k\($0)=round-\(round)" })
        }
        log.updateHighWatermark(log.logEndOffset)
        let before = try readAll(log)
        let start = log.logEndOffset

        let appender = Thread {
            for index in 0..<400 {
                _ = try? append(log, ["new\(index)=v\(index)"])
                log.updateHighWatermark(log.logEndOffset)
            }
        }
        appender.start()
        var passes = 0
        var checkpoint: Int64?
        while log.logEndOffset < start + 400 || passes < 3 {
            if let result = try cleaner().clean(log, checkpoint: checkpoint, now: 10_000) {
                checkpoint = result.endOffset
            }
            passes += 1
        }
        while log.logEndOffset < start + 400 { usleep(1_000) }

        let after = try readAll(log)
        let appended = after.filter { $0.offset >= start }
        #expect(appended.count == 400)
        #expect(appended.map(\.offset) == Array(start..<(start + 400)))
        #expect(appended.map(\.value) == (0..<400).map { "v\($0)" })
        // The records written before survive as the latest per key.
        var latest: [String: String] = [:]
        for record in after where record.offset < start { latest[record.key!] = record.value }
        #expect(latest == Dictionary(uniqueKeysWithValues: (0..<10).map { ("k\($0)", "round-29") }))
        #expect(after.filter { $0.offset < start }.count <= before.count)
    }
}
