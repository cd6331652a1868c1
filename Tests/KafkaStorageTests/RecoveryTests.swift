import KafkaModel
import Foundation
import KafkaRecords
import Testing

@testable import KafkaStorage

/// Crash tests: a log is written and abandoned without closing (as after kill -9), its files are
/// damaged the way a crash or a disk can damage them, and it is opened again.
@Suite struct RecoveryTests {
    /// Writes `count` single-record batches into a log and abandons it. Returns the batch sizes.
    @discardableResult
    func writeAndCrash(_ directory: TemporaryDirectory, count: Int, config: LogConfig = LogConfig(), flush: Bool = false) throws -> [Int] {
        let log = try openLog(directory, config: config)
        var sizes: [Int] = []
        for index in 0..<count {
            let batch = makeBatch(count: 1, timestamp: 1000 + Int64(index), seed: UInt8(index))
            _ = try log.appendAsLeader(batch, leaderEpoch: 1)
            sizes.append(batch.header.totalSize)
        }
        if flush { try log.flush() }
        return sizes
    }

    func allOffsets(_ log: PartitionLog) throws -> [Int64] {
        var offsets: [Int64] = []
        var next = log.logStartOffset
        while next < log.logEndOffset {
            let read = try batchOffsets(log.readBatches(from: next, maxBytes: 1 << 20))
            guard let last = read.last else { break }
            offsets += read.map(\.base)
            next = last.last + 1
        }
        return offsets
    }

    @Test func truncatedTailIsCutAtTheLastWholeBatch() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.indexIntervalBytes = 0
        let sizes = try writeAndCrash(directory, count: 10, config: config)
        let path = segmentPath(directory, 0, ".log")
        let total = sizes.reduce(0, +)
        truncateFile(path, to: total - 7)  // a torn last write

        let captured = CapturedLog()
        let log = try openLog(directory, config: config, captured: captured)
        #expect(log.logEndOffset == 9)
        #expect(try allOffsets(log) == Array(0..<9))
        #expect(fileSize(path) == total - sizes[9])
        #expect(captured.contains("00000000000000000000.log", "position \(total - sizes[9])", "next offset 9"))
        // The index was rebuilt and holds no entry for the lost batch.
        #expect(indexEntries(segmentPath(directory, 0, ".index")).allSatisfy { $0.offset < 9 })
        #expect(try log.appendAsLeader(makeBatch(), leaderEpoch: 1).firstOffset == 9)
    }

    @Test(arguments: [1, 11, 60, 61, 300])
    func garbageTailIsRemoved(garbageLength: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sizes = try writeAndCrash(directory, count: 5)
        let path = segmentPath(directory, 0, ".log")
        var generator = SplitMix64(seed: UInt64(garbageLength))
        appendToFile(path, (0..<garbageLength).map { _ in UInt8.random(in: 0...255, using: &generator) })

        let captured = CapturedLog()
        let log = try openLog(directory, captured: captured)
        #expect(log.logEndOffset == 5)
        #expect(try allOffsets(log) == Array(0..<5))
        #expect(fileSize(path) == sizes.reduce(0, +))
        #expect(captured.contains("Recovery truncated", "00000000000000000000.log", "next offset 5"))
    }

    @Test func aBatchWithABadCrcEndsTheLogAndLaterSegmentsGo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 250
        let sizes = try writeAndCrash(directory, count: 9, config: config)
        let perSegment = 250 / sizes[0]
        // Flip a byte inside the value of the second batch of the second segment.
        let path = segmentPath(directory, Int64(perSegment), ".log")
        var data = readFile(path)
        data[sizes[0] + sizes[1] - 2] ^= 0xFF
        writeFile(path, data)

        let captured = CapturedLog()
        let log = try openLog(directory, config: config, captured: captured)
        #expect(log.logEndOffset == Int64(perSegment + 1))
        #expect(try allOffsets(log) == Array(0...Int64(perSegment)))
        #expect(log.segmentBaseOffsets == [0, Int64(perSegment)])
        #expect(captured.contains("CRC"))
        #expect(captured.contains("Deleting"))
        #expect(!FileManager.default.fileExists(atPath: segmentPath(directory, Int64(2 * perSegment), ".log")))
    }

    @Test func offsetsGoingBackwardsEndTheLog() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sizes = try writeAndCrash(directory, count: 5)
        // The base offset is outside the CRC: only the monotonicity check can catch this.
        let path = segmentPath(directory, 0, ".log")
        var data = readFile(path)
        let position = sizes[0..<3].reduce(0, +)
        data[position + 7] = 1  // batch 3 now claims offset 1
        writeFile(path, data)
        let captured = CapturedLog()
        let log = try openLog(directory, captured: captured)
        #expect(log.logEndOffset == 3)
        #expect(fileSize(path) == position)
        #expect(captured.contains("offset 1 is below the expected 3"))
    }

    @Test func segmentsBelowTheRecoveryPointAreTrusted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 250
        let sizes = try writeAndCrash(directory, count: 9, config: config)
        let perSegment = 250 / sizes[0]
        // A bad CRC in the first segment, below the recovery point, is not looked for.
        let path = segmentPath(directory, 0, ".log")
        var data = readFile(path)
        data[sizes[0] - 2] ^= 0xFF
        writeFile(path, data)
        let log = try openLog(directory, config: config, recoveryPoint: Int64(perSegment))
        #expect(log.logEndOffset == 9)
        #expect(log.recoveryPoint == Int64(perSegment))
    }

    @Test func missingIndexesAreRebuilt() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.indexIntervalBytes = 100
        config.segmentBytes = 1000
        do {
            let log = try openLog(directory, config: config)
            for index in 0..<30 { _ = try log.appendAsLeader(makeBatch(count: 2, timestamp: Int64(index) * 10), leaderEpoch: 0) }
            try log.close()
        }
        let index = segmentPath(directory, 0, ".index")
        let timeIndex = segmentPath(directory, 0, ".timeindex")
        let originalIndex = readFile(index)
        let originalTimeIndex = readFile(timeIndex)
        #expect(!originalIndex.isEmpty)
        try FileManager.default.removeItem(atPath: index)
        try FileManager.default.removeItem(atPath: timeIndex)

        let captured = CapturedLog()
        let log = try openLog(directory, config: config, captured: captured, recoveryPoint: 60, cleanShutdown: true)
        #expect(captured.contains("missing"))
        #expect(readFile(index) == originalIndex)
        // The rebuilt time index matches, but for the final entry written on close.
        #expect(Array(originalTimeIndex.prefix(readFile(timeIndex).count)) == readFile(timeIndex))
        #expect(log.logEndOffset == 60)
        #expect(try log.offset(forTimestamp: 51) == TimestampOffset(offset: 11, timestamp: 51))
        #expect(try log.offset(forTimestamp: 52) == TimestampOffset(offset: 12, timestamp: 60))
    }

    @Test(arguments: ["torn", "unordered", "pastTheLog", "wrongOffset"])
    func corruptIndexesAreRebuilt(kind: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.indexIntervalBytes = 0
        do {
            let log = try openLog(directory, config: config)
            for _ in 0..<10 { _ = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 0) }
            try log.close()
        }
        let index = segmentPath(directory, 0, ".index")
        let original = readFile(index)
        var damaged = original
        switch kind {
        case "torn": damaged.removeLast(3)
        case "unordered": damaged.replaceSubrange(8..<16, with: original[0..<8])
        case "pastTheLog": damaged += [0, 0, 0, 30, 0x7F, 0, 0, 0]
        default: damaged[damaged.count - 5] ^= 1  // the last entry names an offset its batch does not end at
        }
        writeFile(index, damaged)

        let captured = CapturedLog()
        let log = try openLog(directory, config: config, captured: captured, recoveryPoint: 20, cleanShutdown: true)
        #expect(readFile(index) == original)
        #expect(captured.contains("rebuilding"))
        #expect(log.logEndOffset == 20)
        for offset in Int64(0)..<20 {
            let read = try batchOffsets(log.readBatches(from: offset, maxBytes: 1))
            #expect(read.first.map { $0.base <= offset && $0.last >= offset } == true)
        }
    }

    @Test func cleanShutdownMarkerSkipsTheScan() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let tp = TopicPartition(topic: "t", partition: 0)
        do {
            let manager = try LogManager(logDirectories: [root.path], logger: CapturedLog().logger)
            let log = try manager.getOrCreateLog(tp)
            for _ in 0..<5 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
            try manager.shutdown()
        }
        #expect(FileManager.default.fileExists(atPath: root.file(".kafka_cleanshutdown")))
        // Damage a CRC-covered byte of the third batch: only a scan would notice.
        let path = root.file("t-0/00000000000000000000.log")
        var data = readFile(path)
        let size = makeBatch().header.totalSize
        data[2 * size + 30] ^= 0xFF
        writeFile(path, data)

        do {
            let manager = try LogManager(logDirectories: [root.path], logger: CapturedLog().logger)
            #expect(manager.log(for: tp)?.logEndOffset == 5)  // trusted: no scan
            #expect(!FileManager.default.fileExists(atPath: root.file(".kafka_cleanshutdown")))  // removed after loading
            _ = manager  // crash: no shutdown
        }
        // Without the marker and with the recovery point checkpoint from before, the scan runs.
        try FileManager.default.removeItem(atPath: root.file("recovery-point-offset-checkpoint"))
        let captured = CapturedLog()
        let manager = try LogManager(logDirectories: [root.path], logger: captured.logger)
        #expect(manager.log(for: tp)?.logEndOffset == 2)
        #expect(captured.contains("CRC"))
    }

    @Test func tornCheckpointIsReportedAndTreatedAsAbsent() throws {
        let root = TemporaryDirectory()
        defer { root.remove() }
        let tp = TopicPartition(topic: "t", partition: 0)
        do {
            let manager = try LogManager(logDirectories: [root.path], logger: CapturedLog().logger)
            let log = try manager.getOrCreateLog(tp)
            for _ in 0..<5 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
            log.updateHighWatermark(4)
            try manager.writeCheckpoints()
        }
        let checkpoint = root.file("replication-offset-checkpoint")
        #expect(String(decoding: readFile(checkpoint), as: UTF8.self) == "0\n1\nt 0 4\n")
        writeFile(checkpoint, Array("0\n1\nt 0".utf8))  // torn
        writeFile(root.file("recovery-point-offset-checkpoint"), [0xDE, 0xAD, 0xBE, 0xEF])  // garbage

        let captured = CapturedLog()
        let manager = try LogManager(logDirectories: [root.path], logger: captured.logger)
        let log = try #require(manager.log(for: tp))
        #expect(captured.contains("replication-offset-checkpoint"))
        #expect(captured.contains("recovery-point-offset-checkpoint"))
        #expect(log.highWatermark == 0)
        #expect(log.logEndOffset == 5)  // full recovery from offset 0 found all data valid
    }

    @Test func garbageLeaderEpochCheckpointIsRebuiltFromTheBatches() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let log = try openLog(directory)
            _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 1)
            _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 1)
            _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 4)
            try log.close()
        }
        let path = directory.file("topic-0/leader-epoch-checkpoint")
        writeFile(path, Array("0\n5\n1 0\n".utf8))
        let captured = CapturedLog()
        let log = try openLog(directory, captured: captured, recoveryPoint: 3, cleanShutdown: true)
        #expect(log.leaderEpochEntries == [.init(epoch: 1, startOffset: 0), .init(epoch: 4, startOffset: 2)])
        #expect(String(decoding: readFile(path), as: UTF8.self) == "0\n2\n1 0\n4 2\n")
        #expect(captured.contains("leader-epoch-checkpoint"))
    }

    @Test func recoveryKeepsTheEpochCacheConsistentWithTruncation() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var sizes: [Int] = []
        do {
            let log = try openLog(directory)
            for epoch: Int32 in [1, 1, 2, 3] {
                let batch = makeBatch()
                sizes.append(batch.header.totalSize)
                _ = try log.appendAsLeader(batch, leaderEpoch: epoch)
            }
            #expect(log.leaderEpochEntries.count == 3)
        }
        truncateFile(segmentPath(directory, 0, ".log"), to: sizes.reduce(0, +) - 1)  // lose the epoch-3 batch
        let log = try openLog(directory)
        #expect(log.logEndOffset == 3)
        #expect(log.leaderEpochEntries == [.init(epoch: 1, startOffset: 0), .init(epoch: 2, startOffset: 2)])
    }

    @Test func leftoverFilesAreCleanedUp() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        try writeAndCrash(directory, count: 3)
        let partition = directory.file("topic-0")
        writeFile(partition + "/00000000000000000000.log.deleted", [1, 2, 3])
        writeFile(partition + "/00000000000000000050.log.cleaned", [1, 2, 3])
        writeFile(partition + "/00000000000000000050.index.swap", [1, 2, 3])
        writeFile(partition + "/leader-epoch-checkpoint.tmp", [1])
        writeFile(partition + "/00000000000000000077.index", [])  // orphan index
        _ = try openLog(directory)
        let names = try FileManager.default.contentsOfDirectory(atPath: partition).sorted()
        #expect(names == [
            "00000000000000000000.index", "00000000000000000000.log", "00000000000000000000.timeindex", "leader-epoch-checkpoint",
        ])
    }

    @Test func anInterruptedSwapIsCompleted() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 250
        let sizes = try writeAndCrash(directory, count: 9, config: config)
        let perSegment = 250 / sizes[0]
        // A cleaner output covering the first two segments, as Kafka would leave it: offsets 0..<2*perSegment.
        let partition = directory.file("topic-0")
        let first = readFile(segmentPath(directory, 0, ".log"))
        let second = readFile(segmentPath(directory, Int64(perSegment), ".log"))
        writeFile(partition + "/00000000000000000000.log.swap", first + second)
        let captured = CapturedLog()
        let log = try openLog(directory, config: config, captured: captured, recoveryPoint: 9)
        #expect(captured.contains("swap"))
        #expect(log.segmentBaseOffsets == [0, Int64(2 * perSegment)])
        #expect(log.logEndOffset == 9)
        #expect(try allOffsets(log) == Array(0..<9))
    }
}

/// A small seeded generator, so randomized tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
