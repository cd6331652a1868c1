import Foundation
import KafkaModel
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaStorage

/// A batch of `count` records from an idempotent producer, starting at `sequence`.
private func producerBatch(
    id: Int64, epoch: Int16, sequence: Int32, count: Int = 2, timestamp: Int64 = 1_700_000_000_000
) -> RecordBatch {
    var builder = RecordBatchBuilder()
    builder.producerId = id
    builder.producerEpoch = epoch
    builder.baseSequence = sequence
    for index in 0..<count {
        builder.append(key: nil, value: Array("v\(sequence)-\(index)".utf8), timestamp: timestamp + Int64(index))
    }
    return try! builder.build()
}

private func expectError(_ code: StorageError.Code, kafka: Int16, _ body: () throws(StorageError) -> Void) {
    do {
        try body()
        Issue.record("expected \(code)")
    } catch {
        #expect(error.code == code)
        #expect(error.kafkaErrorCode.rawValue == kafka)
    }
}

private func snapshotPath(_ directory: TemporaryDirectory, _ offset: Int64) -> String {
    segmentPath(directory, offset, ".snapshot")
}

private func snapshotFiles(_ directory: TemporaryDirectory) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.file("topic-0"))) ?? []).filter { $0.hasSuffix(".snapshot") }.sorted()
}

@Suite struct ProducerStateTests {
    @Test func aRetriedBatchIsADuplicateAnsweredWithTheOriginalOffsets() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsLeader(makeBatch(count: 3), leaderEpoch: 0)  // offsets 0-2, no producer
        var infos: [LogAppendInfo] = []
        for sequence in stride(from: Int32(0), to: 10, by: 2) {  // five batches: 3-4, 5-6, ..., 11-12
            infos.append(try log.appendAsLeader(producerBatch(id: 42, epoch: 0, sequence: sequence), leaderEpoch: 0))
        }
        #expect(infos.allSatisfy { !$0.isDuplicate })
        let size = fileSize(segmentPath(directory, 0, ".log"))

        // Every one of the last five is recognized, and nothing is written.
        for (index, sequence) in stride(from: Int32(0), to: 10, by: 2).enumerated() {
            let again = try log.appendAsLeader(producerBatch(id: 42, epoch: 0, sequence: sequence), leaderEpoch: 0)
            #expect(again.isDuplicate)
            #expect(again.firstOffset == infos[index].firstOffset && again.lastOffset == infos[index].lastOffset)
            #expect(again.logAppendTime == 1_700_000_000_001)  // the original batch's max timestamp, as Kafka answers
        }
        #expect(log.logEndOffset == 13)
        #expect(fileSize(segmentPath(directory, 0, ".log")) == size)

        // Same first sequence but another range is not a duplicate: it is out of order.
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 42, epoch: 0, sequence: 8, count: 1), leaderEpoch: 0)
        }

        // A sixth batch pushes the first out of the retained five.
        _ = try log.appendAsLeader(producerBatch(id: 42, epoch: 0, sequence: 10), leaderEpoch: 0)
        let state = try #require(log.producerState(for: 42))
        #expect(state.batches.map(\.firstSequence) == [2, 4, 6, 8, 10])
        #expect(state.batches.map(\.firstOffset) == [5, 7, 9, 11, 13])
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 42, epoch: 0, sequence: 0), leaderEpoch: 0)
        }
        #expect(log.logEndOffset == 15)
    }

    @Test func aSequenceGapIsRejectedAndNothingIsAppended() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsLeader(producerBatch(id: 1, epoch: 0, sequence: 0), leaderEpoch: 0)
        let size = fileSize(segmentPath(directory, 0, ".log"))
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 1, epoch: 0, sequence: 3), leaderEpoch: 0)
        }
        #expect(log.logEndOffset == 2)
        #expect(fileSize(segmentPath(directory, 0, ".log")) == size)
        #expect(log.producerState(for: 1)?.lastSequence == 1)
        // Other producers are independent; the right next sequence still goes in.
        _ = try log.appendAsLeader(producerBatch(id: 2, epoch: 0, sequence: 0), leaderEpoch: 0)
        let next = try log.appendAsLeader(producerBatch(id: 1, epoch: 0, sequence: 2), leaderEpoch: 0)
        #expect(next.firstOffset == 4 && !next.isDuplicate)
    }

    @Test func aNewEpochStartsAtZeroAndFencesTheOldOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 3, sequence: 0), leaderEpoch: 0)
        _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 3, sequence: 2), leaderEpoch: 0)
        // A higher epoch must begin at sequence 0.
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 4, sequence: 4), leaderEpoch: 0)
        }
        let bumped = try log.appendAsLeader(producerBatch(id: 5, epoch: 4, sequence: 0), leaderEpoch: 0)
        #expect(bumped.firstOffset == 4 && !bumped.isDuplicate)
        #expect(log.producerState(for: 5)?.producerEpoch == 4)
        #expect(log.producerState(for: 5)?.batches.count == 1)  // the old epoch's batches are forgotten
        // The old epoch is fenced, retries of its batches included.
        expectError(.invalidProducerEpoch, kafka: 47) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 3, sequence: 2), leaderEpoch: 0)
        }
        expectError(.invalidProducerEpoch, kafka: 47) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 3, sequence: 4), leaderEpoch: 0)
        }
        #expect(log.logEndOffset == 6)
    }

    @Test func unknownProducersAreAcceptedAtAnySequenceAndSequencesWrap() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        // Kafka 3.8's leader accepts an unknown producer id at any sequence (no UNKNOWN_PRODUCER_ID).
        _ = try log.appendAsLeader(producerBatch(id: 9, epoch: 0, sequence: Int32.max - 2), leaderEpoch: 0)
        #expect(log.producerState(for: 9)?.lastSequence == Int32.max - 1)
        // A batch across the wrap: Int32.max, 0.
        _ = try log.appendAsLeader(producerBatch(id: 9, epoch: 0, sequence: Int32.max), leaderEpoch: 0)
        #expect(log.producerState(for: 9)?.lastSequence == 0)
        let retry = try log.appendAsLeader(producerBatch(id: 9, epoch: 0, sequence: Int32.max), leaderEpoch: 0)
        #expect(retry.isDuplicate && retry.firstOffset == 2)
        _ = try log.appendAsLeader(producerBatch(id: 9, epoch: 0, sequence: 1, count: 1), leaderEpoch: 0)

        // Ending exactly at Int32.max: the next batch starts at 0.
        _ = try log.appendAsLeader(producerBatch(id: 10, epoch: 1, sequence: Int32.max - 1), leaderEpoch: 0)
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 10, epoch: 1, sequence: 1), leaderEpoch: 0)
        }
        _ = try log.appendAsLeader(producerBatch(id: 10, epoch: 1, sequence: 0), leaderEpoch: 0)
        #expect(log.producerState(for: 10)?.lastSequence == 1)
    }

    @Test func followersUpdateStateWithoutValidation() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        var batches: [RecordBatch] = []
        for (base, epoch, sequence) in [(Int64(0), Int16(2), Int32(0)), (2, 2, 7), (4, 1, 0)] {
            var batch = producerBatch(id: 77, epoch: epoch, sequence: sequence)
            batch.assignOffsets(baseOffset: base, partitionLeaderEpoch: 0)
            batches.append(batch)
        }
        _ = try log.appendAsFollower(batches)  // a gap and a lower epoch: the leader decided, the follower copies
        let state = try #require(log.producerState(for: 77))
        #expect(state.producerEpoch == 1 && state.lastSequence == 1 && state.lastOffset == 5)
        // Becoming leader, it validates from there.
        _ = try log.appendAsLeader(producerBatch(id: 77, epoch: 1, sequence: 2), leaderEpoch: 1)
        #expect(try log.appendAsLeader(producerBatch(id: 77, epoch: 1, sequence: 2), leaderEpoch: 1).isDuplicate)
    }

    @Test func stateSurvivesACleanCloseThroughTheSnapshot() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        do {
            let log = try openLog(directory, clock: clock)
            for sequence in stride(from: Int32(0), to: 6, by: 2) {
                _ = try log.appendAsLeader(producerBatch(id: 11, epoch: 1, sequence: sequence), leaderEpoch: 0)
            }
            _ = try log.appendAsLeader(producerBatch(id: 12, epoch: 0, sequence: 0, count: 1), leaderEpoch: 0)
            try log.close()
        }
        #expect(snapshotFiles(directory) == ["00000000000000000007.snapshot"])
        let captured = CapturedLog()
        let log = try openLog(directory, clock: clock, captured: captured, cleanShutdown: true)
        #expect(captured.contains("Loaded producer state", "00000000000000000007.snapshot", "2 producers"))
        let state = try #require(log.producerState(for: 11))
        #expect(state.producerEpoch == 1 && state.lastSequence == 5 && state.lastOffset == 5)
        // The snapshot keeps each producer's last batch (as Kafka's does): its retry is still a duplicate.
        let retry = try log.appendAsLeader(producerBatch(id: 11, epoch: 1, sequence: 4), leaderEpoch: 0)
        #expect(retry.isDuplicate && retry.firstOffset == 4 && retry.lastOffset == 5)
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try log.appendAsLeader(producerBatch(id: 11, epoch: 1, sequence: 7), leaderEpoch: 0)
        }
        #expect(try log.appendAsLeader(producerBatch(id: 11, epoch: 1, sequence: 6), leaderEpoch: 0).firstOffset == 7)
        #expect(log.activeProducers.keys.sorted() == [11, 12])
    }

    @Test func stateIsRebuiltFromTheLogAfterACrash() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 300  // a few batches per segment: rolls write snapshots along the way
        let clock = ManualClock()
        var offsets: [Int64] = []
        do {
            let log = try openLog(directory, config: config, clock: clock)
            for sequence in stride(from: Int32(0), to: 20, by: 2) {
                offsets.append(try log.appendAsLeader(producerBatch(id: 3, epoch: 0, sequence: sequence), leaderEpoch: 0).firstOffset)
            }
            #expect(log.segmentBaseOffsets.count > 2)
            #expect(!log.producerSnapshotOffsets.isEmpty)
            // No close: the process dies.
        }
        // From the latest roll's snapshot plus the batches after it.
        let captured = CapturedLog()
        let log = try openLog(directory, config: config, clock: clock, captured: captured)
        #expect(captured.contains("Loaded producer state", ".snapshot"))
        #expect(captured.contains("Rebuilt producer state", "to 20"))
        let state = try #require(log.producerState(for: 3))
        #expect(state.lastSequence == 19 && state.lastOffset == 19)
        let retry = try log.appendAsLeader(producerBatch(id: 3, epoch: 0, sequence: 18), leaderEpoch: 0)
        #expect(retry.isDuplicate && retry.firstOffset == offsets[9])

        // Without any snapshot the whole log is read, so the last five batches are all known again.
        for name in snapshotFiles(directory) { try FileManager.default.removeItem(atPath: directory.file("topic-0/" + name)) }
        let rebuilt = try openLog(directory, config: config, clock: clock)
        #expect(rebuilt.producerState(for: 3)?.batches.map(\.firstSequence) == [10, 12, 14, 16, 18])
        for (index, sequence) in stride(from: Int32(10), to: 20, by: 2).enumerated() {
            let again = try rebuilt.appendAsLeader(producerBatch(id: 3, epoch: 0, sequence: sequence), leaderEpoch: 0)
            #expect(again.isDuplicate && again.firstOffset == offsets[5 + index])
        }
        expectError(.outOfOrderSequence, kafka: 45) { () throws(StorageError) in
            _ = try rebuilt.appendAsLeader(producerBatch(id: 3, epoch: 0, sequence: 21), leaderEpoch: 0)
        }
    }

    @Test func aCorruptSnapshotIsDeletedAndIgnored() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        do {
            let log = try openLog(directory, clock: clock)
            _ = try log.appendAsLeader(producerBatch(id: 8, epoch: 0, sequence: 0), leaderEpoch: 0)
            _ = try log.appendAsLeader(producerBatch(id: 8, epoch: 0, sequence: 2), leaderEpoch: 0)
            try log.close()
        }
        let path = snapshotPath(directory, 4)
        var bytes = readFile(path)
        bytes[bytes.count - 20] ^= 0x01  // inside an entry: the CRC no longer matches
        writeFile(path, bytes)
        // Also an older snapshot that is plain garbage, and a torn one.
        writeFile(snapshotPath(directory, 2), [0, 1, 2])
        writeFile(snapshotPath(directory, 3), Array(bytes.prefix(9)))
        let captured = CapturedLog()
        let log = try openLog(directory, clock: clock, captured: captured, cleanShutdown: true)
        #expect(captured.contains("00000000000000000004.snapshot", "CRC"))
        #expect(snapshotFiles(directory).isEmpty)
        // Rebuilt from the log instead.
        #expect(log.producerState(for: 8)?.lastSequence == 3)
        #expect(try log.appendAsLeader(producerBatch(id: 8, epoch: 0, sequence: 2), leaderEpoch: 0).isDuplicate)
    }

    @Test func truncationRemovesLaterSnapshotsAndRebuildsState() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        for sequence in stride(from: Int32(0), to: 10, by: 2) {  // offsets 0-1, 2-3, ..., 8-9, a segment each
            _ = try log.appendAsLeader(producerBatch(id: 4, epoch: 0, sequence: sequence), leaderEpoch: 0)
            try log.roll()
        }
        #expect(log.producerSnapshotOffsets.last == 10)
        #expect(try log.truncate(to: 6))
        #expect(log.logEndOffset == 6)
        #expect(log.producerSnapshotOffsets.allSatisfy { $0 <= 6 })
        #expect(!FileManager.default.fileExists(atPath: snapshotPath(directory, 8)))
        let state = try #require(log.producerState(for: 4))
        #expect(state.lastSequence == 5 && state.lastOffset == 5)
        // The batch that was cut is new again, not a duplicate.
        let again = try log.appendAsLeader(producerBatch(id: 4, epoch: 0, sequence: 6), leaderEpoch: 1)
        #expect(!again.isDuplicate && again.firstOffset == 6)

        try log.truncateFully(startingAt: 20)
        #expect(log.activeProducers.isEmpty)
        #expect(snapshotFiles(directory).isEmpty)
        #expect(try !log.appendAsLeader(producerBatch(id: 4, epoch: 0, sequence: 30), leaderEpoch: 1).isDuplicate)
    }

    @Test func snapshotsBelowTheLogStartAreDeleted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        for sequence in stride(from: Int32(0), to: 8, by: 2) {
            _ = try log.appendAsLeader(producerBatch(id: 6, epoch: 0, sequence: sequence), leaderEpoch: 0)
            try log.roll()
        }
        #expect(log.producerSnapshotOffsets == [2, 4, 6, 8])  // one per roll; nothing is flushed, so all are kept
        log.updateHighWatermark(8)
        #expect(try log.deleteRecords(before: 5) == 5)
        #expect(log.producerSnapshotOffsets == [6, 8])
        #expect(snapshotFiles(directory) == ["00000000000000000006.snapshot", "00000000000000000008.snapshot"])
        // Producers stay known (Kafka keeps them in memory when the log start moves).
        #expect(log.producerState(for: 6)?.lastSequence == 7)
    }

    @Test func onceFlushedOnlyTheRecentSnapshotsAreKept() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        for sequence in stride(from: Int32(0), to: 10, by: 2) {
            _ = try log.appendAsLeader(producerBatch(id: 6, epoch: 0, sequence: sequence), leaderEpoch: 0)
            try log.roll()
        }
        #expect(log.producerSnapshotOffsets == [2, 4, 6, 8, 10])
        try log.flush()
        // As Kafka after the recovery point checkpoint: from the segment before the active one.
        try log.deleteOldProducerSnapshots()
        #expect(log.producerSnapshotOffsets == [8, 10])
        #expect(snapshotFiles(directory) == ["00000000000000000008.snapshot", "00000000000000000010.snapshot"])
    }

    @Test func idleProducersExpire() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        var config = LogConfig()
        config.producerIdExpirationMs = 60_000
        let log = try openLog(directory, config: config, clock: clock)
        _ = try log.appendAsLeader(producerBatch(id: 1, epoch: 0, sequence: 0, timestamp: clock.milliseconds), leaderEpoch: 0)
        clock.advance(by: 30_000)
        _ = try log.appendAsLeader(producerBatch(id: 2, epoch: 0, sequence: 0, timestamp: clock.milliseconds), leaderEpoch: 0)
        clock.advance(by: 31_000)
        #expect(log.removeExpiredProducers() == 1)
        #expect(log.activeProducers.keys.sorted() == [2])
        // An expired producer is unknown again: any sequence is accepted.
        _ = try log.appendAsLeader(producerBatch(id: 1, epoch: 0, sequence: 50, timestamp: clock.milliseconds), leaderEpoch: 0)
        try log.close()
        // Reloading drops entries that expired meanwhile.
        clock.advance(by: 45_000)
        let reopened = try openLog(directory, config: config, clock: clock, cleanShutdown: true)
        #expect(reopened.activeProducers.keys.sorted() == [1])
    }

    @Test func snapshotBytesAreKafkasFormat() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        _ = try log.appendAsLeader(producerBatch(id: 1000, epoch: 7, sequence: 0, count: 3, timestamp: 1_700_000_000_100), leaderEpoch: 0)
        _ = try log.appendAsLeader(producerBatch(id: 5, epoch: 0, sequence: 10, count: 2, timestamp: 1_700_000_000_200), leaderEpoch: 0)
        _ = try log.appendAsLeader(producerBatch(id: 1000, epoch: 7, sequence: 3, count: 4, timestamp: 1_700_000_000_300), leaderEpoch: 0)
        try log.close()

        // By hand, from Kafka's ProducerStateManager schema (version 1), big-endian.
        var body: [UInt8] = []
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.bigEndian) { body.append(contentsOf: $0) } }
        put(Int32(2))  // producer_entries array length
        // producer_id, epoch, last_sequence, last_offset, offset_delta, timestamp, coordinator_epoch, current_txn_first_offset
        put(Int64(5)); put(Int16(0)); put(Int32(11)); put(Int64(4)); put(Int32(1)); put(Int64(1_700_000_000_201)); put(Int32(-1)); put(Int64(-1))
        put(Int64(1000)); put(Int16(7)); put(Int32(6)); put(Int64(8)); put(Int32(3)); put(Int64(1_700_000_000_303)); put(Int32(-1)); put(Int64(-1))
        let crc = CRC32C.checksum(body)
        var expected: [UInt8] = [0x00, 0x01]
        withUnsafeBytes(of: crc.bigEndian) { expected.append(contentsOf: $0) }
        expected += body
        #expect(readFile(snapshotPath(directory, 9)) == expected)

        // And a hand-built file is read back.
        let entries = try ProducerStateManager.decodeSnapshot(expected, path: "hand-built")
        #expect(entries.map(\.producerId) == [5, 1000])
        #expect(entries[1].batches == [
            ProducerBatchMetadata(firstSequence: 3, lastSequence: 6, firstOffset: 5, lastOffset: 8, maxTimestamp: 1_700_000_000_303)
        ])
        // A wrapped range decodes to its first sequence below the wrap.
        #expect(ProducerStateManager.decrementSequence(1, by: 3) == Int32.max - 1)
    }
}
