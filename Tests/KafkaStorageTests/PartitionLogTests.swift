import Foundation
import KafkaModel
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaStorage

@Suite struct PartitionLogTests {
    @Test func appendAssignsOffsetsInPlaceAndReadsBack() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        let batches = [makeBatch(count: 3), makeBatch(count: 2, seed: 1), makeBatch(count: 1, seed: 2)]
        var infos: [LogAppendInfo] = []
        for batch in batches { infos.append(try log.appendAsLeader(batch, leaderEpoch: 7)) }
        #expect(infos.map(\.firstOffset) == [0, 3, 5])
        #expect(infos.map(\.lastOffset) == [2, 4, 5])
        #expect(infos.allSatisfy { $0.logAppendTime == -1 && $0.logStartOffset == 0 })
        #expect(log.logEndOffset == 6)

        // On disk: the producer's bytes, with only base offset and leader epoch rewritten.
        let file = readFile(segmentPath(directory, 0, ".log"))
        #expect(file.count == batches.reduce(0) { $0 + $1.header.totalSize })
        var position = 0
        for (batch, info) in zip(batches, infos) {
            var expected = batch
            expected.assignOffsets(baseOffset: info.firstOffset, partitionLeaderEpoch: 7)
            let stored = Array(file[position..<position + batch.header.totalSize])
            #expect(stored == bytes(of: expected.buffer))
            #expect(Array(stored[17...]) == Array(bytes(of: batch.buffer)[17...]))  // CRC and body untouched
            position += batch.header.totalSize
        }

        let all = try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20))
        #expect(all.map(\.base) == [0, 3, 5])
        // Reading from inside a batch starts at the batch that contains the offset.
        #expect(try batchOffsets(log.readBatches(from: 4, maxBytes: 1 << 20)).map(\.base) == [3, 5])
        #expect(try batchOffsets(log.readBatches(from: 1, maxBytes: 1 << 20)).map(\.base) == [0, 3, 5])
        let slice = try log.read(from: 5, maxBytes: 1 << 20)
        #expect(slice.position == batches[0].header.totalSize + batches[1].header.totalSize)
        #expect(slice.length == batches[2].header.totalSize)
        #expect(slice.firstBatchOffset == 5)
        #expect(slice.file?.descriptor ?? -1 >= 0)
        // At the log end: empty. Outside the log: OFFSET_OUT_OF_RANGE.
        #expect(try log.read(from: 6, maxBytes: 100).isEmpty)
        do {
            _ = try log.read(from: 7, maxBytes: 100)
            Issue.record("expected offsetOutOfRange")
        } catch {
            #expect(error.code == .offsetOutOfRange)
            #expect(error.kafkaErrorCode == .offsetOutOfRange)
        }
    }

    @Test func minOneMessageLetsTheFirstBatchExceedTheLimit() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        let big = makeBatch(count: 2, valueSize: 500)
        _ = try log.appendAsLeader(big, leaderEpoch: 0)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        let first = try log.read(from: 0, maxBytes: 10)
        #expect(first.length == big.header.totalSize)
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: 10)).map(\.base) == [0])
        // Without it, the limit holds (Kafka returns the partial bytes; whole-batch reads drop them).
        #expect(try log.read(from: 0, maxBytes: 10, minOneMessage: false).length == 10)
        #expect(try log.readBatches(from: 0, maxBytes: 10, minOneMessage: false).readableBytes == 0)
        // A limit that ends inside the second batch: the range ends there too.
        let partial = try log.read(from: 0, maxBytes: big.header.totalSize + 5)
        #expect(partial.length == big.header.totalSize + 5)
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: big.header.totalSize + 5)).map(\.base) == [0])
    }

    @Test func maxOffsetCapsReadsAtTheHighWatermark() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        for _ in 0..<3 { _ = try log.appendAsLeader(makeBatch(count: 3), leaderEpoch: 0) }  // 0-2, 3-5, 6-8
        #expect(log.updateHighWatermark(6) == 6)
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20, maxOffset: log.highWatermark)).map(\.base) == [0, 3])
        // A cap inside a batch excludes that batch.
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20, maxOffset: 4)).map(\.base) == [0])
        #expect(try log.read(from: 3, maxBytes: 1 << 20, maxOffset: 4).isEmpty)
        #expect(try log.read(from: 6, maxBytes: 1 << 20, maxOffset: 6).isEmpty)
        #expect(try log.read(from: 7, maxBytes: 1 << 20, maxOffset: 6).isEmpty)
        // The high watermark is clamped to [log start, log end].
        #expect(log.updateHighWatermark(100) == 9)
        #expect(log.updateHighWatermark(-5) == 0)
        #expect(try log.read(from: 0, maxBytes: 1 << 20, maxOffset: 9).highWatermark == 0)
    }

    @Test func offsetIndexHasAnEntryPerIntervalWithBatchLastOffsetAndStartPosition() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.indexIntervalBytes = 100
        let log = try openLog(directory, config: config)
        var positions: [Int] = []
        var lastOffsets: [Int64] = []
        var position = 0
        for index in 0..<10 {
            let batch = makeBatch(count: 2, timestamp: 1000 + Int64(index) * 10, valueSize: 30, seed: UInt8(index))  // ~130 bytes
            let info = try log.appendAsLeader(batch, leaderEpoch: 0)
            positions.append(position)
            lastOffsets.append(info.lastOffset)
            position += batch.header.totalSize
        }
        try log.flush()  // writes the index entries kept in memory
        let entries = indexEntries(segmentPath(directory, 0, ".index"))
        // Kafka adds an entry once more than index.interval.bytes went by: every batch but the first here.
        #expect(entries.map(\.offset) == lastOffsets.dropFirst().map { Int32($0) })
        #expect(entries.map(\.position) == positions.dropFirst().map { Int32($0) })
        #expect(fileSize(segmentPath(directory, 0, ".index")) == 9 * 8)
        let times = timeIndexEntries(segmentPath(directory, 0, ".timeindex"))
        #expect(times.count == 9)
        #expect(times.first?.timestamp == 1_011)
        #expect(times.first?.offset == 3)
        for offset in Int64(0)..<20 {
            let read = try batchOffsets(log.readBatches(from: offset, maxBytes: 1))
            #expect(read.count == 1 && read[0].base <= offset && read[0].last >= offset)
        }
    }

    @Test func timestampLookupFindsTheFirstRecordAtOrAfterTheTarget() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.indexIntervalBytes = 0
        config.segmentBytes = 400
        let log = try openLog(directory, config: config)
        // Batch i has 3 records with timestamps 1000*i + 0, 1, 2 (offsets 3i, 3i+1, 3i+2).
        for index in 0..<12 {
            _ = try log.appendAsLeader(makeBatch(count: 3, timestamp: 1000 * Int64(index)), leaderEpoch: 0)
        }
        #expect(log.segmentBaseOffsets.count > 2)
        #expect(try log.offset(forTimestamp: 0) == TimestampOffset(offset: 0, timestamp: 0))
        #expect(try log.offset(forTimestamp: 5001) == TimestampOffset(offset: 16, timestamp: 5001))
        #expect(try log.offset(forTimestamp: 5003) == TimestampOffset(offset: 18, timestamp: 6000))
        #expect(try log.offset(forTimestamp: 11002) == TimestampOffset(offset: 35, timestamp: 11002))
        #expect(try log.offset(forTimestamp: 11003) == nil)
        #expect(try log.offset(forTimestamp: 5001, maxOffset: 16) == nil)
        // Below the log start the answer starts at the log start.
        log.updateHighWatermark(36)
        try log.deleteRecords(before: 17)
        #expect(try log.offset(forTimestamp: 0) == TimestampOffset(offset: 17, timestamp: 5002))
    }

    @Test func logAppendTimeStampsTheBrokerClock() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.messageTimestampType = .logAppendTime
        let clock = ManualClock(1_234_567)
        let log = try openLog(directory, config: config, clock: clock)
        let info = try log.appendAsLeader(makeBatch(count: 2, timestamp: 5), leaderEpoch: 0)
        #expect(info.logAppendTime == 1_234_567)
        let stored = try RecordBatch.split(log.readBatches(from: 0, maxBytes: 1 << 20)).batches[0]
        #expect(stored.header.maxTimestamp == 1_234_567)
        #expect(stored.header.timestampType == .logAppendTime)
        try stored.verifyChecksum()
        #expect(try log.offset(forTimestamp: 1_000_000) == TimestampOffset(offset: 0, timestamp: 1_234_567))
    }

    @Test func rollsOnSegmentBytes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 250
        let log = try openLog(directory, config: config)
        let size = makeBatch().header.totalSize
        for _ in 0..<10 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        let perSegment = Int64(250 / size)
        #expect(log.segmentBaseOffsets == stride(from: 0, to: 10, by: Int(perSegment)).map { Int64($0) })
        for base in log.segmentBaseOffsets {
            #expect(fileSize(segmentPath(directory, base, ".log")) <= 250)
            #expect(fileSize(segmentPath(directory, base, ".index")) % 8 == 0)
            #expect(fileSize(segmentPath(directory, base, ".timeindex")) % 12 == 0)
        }
        // Reads stay within one segment and continue in the next.
        let first = try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20))
        #expect(first.count == Int(perSegment))
        #expect(try batchOffsets(log.readBatches(from: perSegment, maxBytes: 1 << 20)).first?.base == perSegment)
        // A batch larger than segment.bytes is refused.
        do {
            _ = try log.appendAsLeader(makeBatch(valueSize: 300), leaderEpoch: 0)
            Issue.record("expected recordTooLarge")
        } catch {
            #expect(error.code == .recordTooLarge)
        }
    }

    @Test func rollsOnSegmentMsByBatchTimestampOrWallClock() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentMs = 1000
        let clock = ManualClock()
        let log = try openLog(directory, config: config, clock: clock)
        _ = try log.appendAsLeader(makeBatch(timestamp: 10_000), leaderEpoch: 0)
        _ = try log.appendAsLeader(makeBatch(timestamp: 11_000), leaderEpoch: 0)  // exactly segment.ms: no roll
        #expect(log.segmentBaseOffsets == [0])
        _ = try log.appendAsLeader(makeBatch(timestamp: 11_001), leaderEpoch: 0)
        #expect(log.segmentBaseOffsets == [0, 2])
        // The time index of the rolled segment got its final entry.
        #expect(timeIndexEntries(segmentPath(directory, 0, ".timeindex")).last?.timestamp == 11_000)

        // Without timestamps, the segment's age on the clock counts.
        let directory2 = TemporaryDirectory()
        defer { directory2.remove() }
        let log2 = try openLog(directory2, config: config, clock: clock)
        _ = try log2.appendAsLeader(makeBatch(timestamp: -1), leaderEpoch: 0)
        clock.advance(by: 999)
        _ = try log2.appendAsLeader(makeBatch(timestamp: -1), leaderEpoch: 0)
        #expect(log2.segmentBaseOffsets == [0])
        clock.advance(by: 2)
        _ = try log2.appendAsLeader(makeBatch(timestamp: -1), leaderEpoch: 0)
        #expect(log2.segmentBaseOffsets == [0, 2])
    }

    @Test func rollsWhenTheIndexIsFull() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentIndexBytes = 24  // 3 offset entries, 2 time entries
        config.indexIntervalBytes = 0
        let log = try openLog(directory, config: config)
        for index in 0..<8 { _ = try log.appendAsLeader(makeBatch(timestamp: Int64(index) * 10), leaderEpoch: 0) }
        // Entries come from the 2nd batch on; the time index (2 entries) fills after the 3rd batch.
        #expect(log.segmentBaseOffsets == [0, 3, 6])
        #expect(indexEntries(segmentPath(directory, 0, ".index")).count == 2)
        #expect(timeIndexEntries(segmentPath(directory, 0, ".timeindex")).count == 2)
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20)).map(\.base) == [0, 1, 2])
    }

    @Test func rollsWhenRelativeOffsetsWouldOverflow() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsFollower([makeFollowerBatch(baseOffset: 0, count: 2)])
        let far = Int64(Int32.max) + 10
        _ = try log.appendAsFollower([makeFollowerBatch(baseOffset: far)])
        #expect(log.segmentBaseOffsets == [0, far])
        #expect(log.logEndOffset == far + 1)
        #expect(try batchOffsets(log.readBatches(from: 2, maxBytes: 1 << 20)).map(\.base) == [far])
        #expect(FileManager.default.fileExists(atPath: segmentPath(directory, far, ".log")))
    }

    @Test func followerAppendKeepsOffsetsAndChecksThem() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        let info = try log.appendAsFollower([makeFollowerBatch(baseOffset: 0, count: 3, epoch: 1), makeFollowerBatch(baseOffset: 3, epoch: 2)])
        #expect(info?.firstOffset == 0 && info?.lastOffset == 3 && info?.logAppendTime == -1)
        #expect(log.leaderEpochEntries == [.init(epoch: 1, startOffset: 0), .init(epoch: 2, startOffset: 3)])
        #expect(try log.appendAsFollower([]) == nil)
        // Below the log end: refused, nothing written.
        do {
            _ = try log.appendAsFollower([makeFollowerBatch(baseOffset: 10), makeFollowerBatch(baseOffset: 3)])
            Issue.record("expected invalidAppendOffset")
        } catch {
            #expect(error.code == .invalidAppendOffset)
        }
        #expect(log.logEndOffset == 4)
        // A corrupt batch is refused.
        var corrupt = makeFollowerBatch(baseOffset: 4)
        var buffer = corrupt.buffer
        buffer.setInteger(UInt8(0xFF), at: buffer.readerIndex + buffer.readableBytes - 1)
        corrupt = try RecordBatch(buffer: buffer)
        #expect(throws: StorageError.self) { try log.appendAsFollower([corrupt]) }
        // Gaps are allowed (the leader's offsets are kept).
        _ = try log.appendAsFollower([makeFollowerBatch(baseOffset: 7, epoch: 2)])
        #expect(log.logEndOffset == 8)
        #expect(try batchOffsets(log.readBatches(from: 4, maxBytes: 1 << 20)).map(\.base) == [7])
    }

    @Test func leaderEpochCacheIsPersistedAndFollowsTruncation() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 1)
        _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 1)
        _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 3)
        try log.assignEpochStartOffset(epoch: 4, startOffset: log.logEndOffset)
        let path = directory.file("topic-0/leader-epoch-checkpoint")
        #expect(String(decoding: readFile(path), as: UTF8.self) == "0\n3\n1 0\n3 4\n4 6\n")
        #expect(log.endOffset(forEpoch: 1) == (1, 4))
        #expect(log.endOffset(forEpoch: 4) == (4, 6))
        try log.truncate(to: 4)
        #expect(String(decoding: readFile(path), as: UTF8.self) == "0\n1\n1 0\n")
    }

    @Test func retentionByTimeDeletesOnlyOldSegmentsBelowTheHighWatermark() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        config.retentionMs = 10_000
        config.fileDeleteDelayMs = 1000
        let log = try openLog(directory, config: config)
        // Two batches per segment, timestamps 0, 1000, ..., 9000.
        for index in 0..<10 { _ = try log.appendAsLeader(makeBatch(timestamp: Int64(index) * 1000), leaderEpoch: 0) }
        #expect(log.segmentBaseOffsets == [0, 2, 4, 6, 8])

        // Segments 0-1 (newest 1000) and 2-3 (newest 3000) are expired at 13_500, but the high
        // watermark (3) only covers the first.
        log.updateHighWatermark(3)
        #expect(try log.deleteOldSegments(now: 13_500) == 1)
        #expect(log.segmentBaseOffsets == [2, 4, 6, 8])
        #expect(log.logStartOffset == 2)
        #expect(FileManager.default.fileExists(atPath: segmentPath(directory, 0, ".log.deleted")))
        #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, 0, ".log")))
        log.updateHighWatermark(10)
        #expect(try log.deleteOldSegments(now: 13_500) == 1)
        #expect(log.segmentBaseOffsets == [4, 6, 8])
        // After file.delete.delay.ms the .deleted files go.
        #expect(try log.deleteOldSegments(now: 14_600) == 0)
        #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, 0, ".log.deleted")))
        #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, 2, ".index.deleted")))
        // Reads below the new start are out of range.
        #expect(throws: StorageError.self) { try log.read(from: 3, maxBytes: 100) }

        // Everything expired: a new empty active segment is rolled first; it is never deleted.
        #expect(try log.deleteOldSegments(now: 100_000) == 3)
        #expect(log.segmentBaseOffsets == [10])
        #expect(log.logStartOffset == 10 && log.logEndOffset == 10)
        #expect(try log.deleteOldSegments(now: 200_000) == 0)
        #expect(log.segmentBaseOffsets == [10])
        _ = try log.appendAsLeader(makeBatch(timestamp: 200_000), leaderEpoch: 0)
        #expect(log.logEndOffset == 11)
    }

    @Test func retentionByBytesDeletesOldestWholeSegments() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        config.retentionMs = -1
        let log = try openLog(directory, config: config)
        for _ in 0..<10 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        let segmentSize = Int64(2 * makeBatch().header.totalSize)
        log.updateHighWatermark(10)
        var updated = config
        updated.retentionBytes = 2 * segmentSize + 1  // room for two whole segments and a byte
        try log.updateConfig(updated)
        #expect(try log.deleteOldSegments() == 2)
        #expect(log.segmentBaseOffsets == [4, 6, 8])
        #expect(Int64(log.size) == 3 * segmentSize)
        #expect(try log.deleteOldSegments() == 0)
    }

    @Test func deleteRecordsMovesTheLogStartUpToTheHighWatermark() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        let log = try openLog(directory, config: config)
        for _ in 0..<10 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        log.updateHighWatermark(7)
        #expect(throws: StorageError.self) { try log.deleteRecords(before: 8) }
        #expect(try log.deleteRecords(before: 5) == 5)
        #expect(log.logStartOffset == 5)
        #expect(log.segmentBaseOffsets == [4, 6, 8])  // segment 4-5 holds the new start
        #expect(throws: StorageError.self) { try log.read(from: 4, maxBytes: 100) }
        #expect(try batchOffsets(log.readBatches(from: 5, maxBytes: 1 << 20)).map(\.base) == [5])
        #expect(try log.deleteRecords(before: 3) == 5)  // never moves back
        #expect(try log.deleteRecords(before: 7) == 7)
        #expect(log.segmentBaseOffsets == [6, 8])
    }

    @Test func truncateRemovesEverythingFromTheOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 300
        config.indexIntervalBytes = 0
        let log = try openLog(directory, config: config)
        for _ in 0..<10 { _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 0) }  // batches at 0, 2, ..., 18
        let bases = log.segmentBaseOffsets
        #expect(bases.count >= 3)
        log.updateHighWatermark(20)
        try log.flush()

        #expect(try log.truncate(to: 9))  // inside the batch 8-9: the whole batch goes
        #expect(log.logEndOffset == 8)
        #expect(log.highWatermark == 8 && log.recoveryPoint == 8)
        #expect(log.segmentBaseOffsets == bases.filter { $0 <= 9 })
        for base in bases where base > 9 {
            #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, base, ".log")))
        }
        #expect(try batchOffsets(log.readBatches(from: 0, maxBytes: 1 << 20)).last?.last ?? 0 <= 7)
        #expect(try !log.truncate(to: 8))
        // The indexes were cut too: every entry points below the new end.
        let active = log.segmentBaseOffsets.last!
        #expect(indexEntries(segmentPath(directory, active, ".index")).allSatisfy { active + Int64($0.offset) < 8 })
        #expect(timeIndexEntries(segmentPath(directory, active, ".timeindex")).allSatisfy { active + Int64($0.offset) < 8 })
        // Appends continue from the new end.
        #expect(try log.appendAsLeader(makeBatch(), leaderEpoch: 1).firstOffset == 8)
        var offsets: [Int64] = []
        var next: Int64 = 0
        while next < log.logEndOffset {
            let read = try batchOffsets(log.readBatches(from: next, maxBytes: 1 << 20))
            offsets += read.map(\.base)
            next = read.last!.last + 1
        }
        #expect(offsets == [0, 2, 4, 6, 8])
    }

    @Test func truncateFullyStartsAnEmptyLogAtTheOffset() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        let log = try openLog(directory, config: config)
        for _ in 0..<6 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 2) }
        try log.truncateFully(startingAt: 100)
        #expect(log.segmentBaseOffsets == [100])
        #expect(log.logStartOffset == 100 && log.logEndOffset == 100 && log.highWatermark == 100)
        #expect(log.leaderEpochEntries.isEmpty)
        #expect(try log.read(from: 100, maxBytes: 100).isEmpty)
        #expect(try log.appendAsLeader(makeBatch(), leaderEpoch: 3).firstOffset == 100)
        // Truncating below the log start does the same.
        try log.truncate(to: 50)
        #expect(log.logStartOffset == 50 && log.logEndOffset == 50 && log.segmentBaseOffsets == [50])
    }

    @Test func aReadKeepsItsFileAfterTheSegmentIsDeleted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        config.fileDeleteDelayMs = 0
        let log = try openLog(directory, config: config)
        for _ in 0..<6 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        let slice = try log.read(from: 0, maxBytes: 1 << 20)
        let before = try slice.readBytes()
        log.updateHighWatermark(6)
        try log.deleteRecords(before: 4)
        #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, 0, ".log")))
        // The slice still reads the same bytes from its open descriptor.
        #expect(try slice.readBytes() == before)
        #expect(try batchOffsets(slice.readBytes()).map(\.base) == [0, 1])
    }

    @Test func readersRunConcurrentlyWithAnAppender() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 2000
        config.indexIntervalBytes = 200
        let log = try openLog(directory, config: config)
        let total = 400
        let done = DispatchGroup()
        let failures = LockedCounter()
        DispatchQueue.global().async(group: done) {
            for _ in 0..<total {
                if (try? log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 0)) == nil { failures.increment() }
            }
        }
        for _ in 0..<3 {
            DispatchQueue.global().async(group: done) {
                for _ in 0..<300 {
                    let end = log.logEndOffset
                    guard end > 0 else { continue }
                    let offset = Int64.random(in: 0..<end)
                    guard let read = try? log.readBatches(from: offset, maxBytes: 500),
                        let batches = try? RecordBatch.split(read).batches, let first = batches.first,
                        first.header.baseOffset <= offset, first.header.lastOffset >= offset,
                        batches.allSatisfy(\.isChecksumValid)
                    else {
                        failures.increment()
                        continue
                    }
                }
            }
        }
        done.wait()
        #expect(failures.value == 0)
        #expect(log.logEndOffset == Int64(2 * total))
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
