import KafkaModel
import Foundation
import KafkaRecords
import NIOCore
import Testing

@testable import KafkaStorage

/// Random operations on a log, checked after each one against a simple model: the list of
/// (offsets, batch bytes) the log should hold, plus the log start, log end and high watermark.
@Suite struct RandomizedLogTests {
    struct ModelBatch {
        let base: Int64
        let last: Int64
        let bytes: [UInt8]
        let timestamps: [Int64]
        var next: Int64 { last + 1 }
    }

    struct Model {
        var batches: [ModelBatch] = []
        var logStart: Int64 = 0
        var logEnd: Int64 = 0
        var highWatermark: Int64 = 0
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomOperationsMatchTheModel(seed: UInt64) throws {
        let directory = TemporaryDirectory("random\(seed)")
        defer { directory.remove() }
        var random = SplitMix64(seed: seed)
        var config = LogConfig()
        config.segmentBytes = Int.random(in: 600...1500, using: &random)
        config.indexIntervalBytes = Int.random(in: 0...300, using: &random)
        config.segmentIndexBytes = Int.random(in: 24...240, using: &random)
        config.fileDeleteDelayMs = Int64.random(in: 0...1, using: &random) * 100
        config.retentionMs = -1
        let clock = ManualClock(1_000_000)
        let captured = CapturedLog()
        var log = try openLog(directory, config: config, clock: clock, captured: captured)
        var model = Model()
        let placeholder = try PartitionLog.open(
            directory: directory.file("other-0"), topicPartition: TopicPartition(topic: "other", partition: 0),
            logger: captured.logger)
        var epoch: Int32 = 0
        var nextTimestamp: Int64 = 10_000

        func check(_ step: Int, _ operation: String) throws {
            let context = Comment(rawValue: "seed \(seed) step \(step) after \(operation)")
            #expect(log.logEndOffset == model.logEnd, context)
            #expect(log.logStartOffset == model.logStart, context)
            #expect(log.highWatermark == model.highWatermark, context)
        }

        /// Reads the whole log batch by batch and compares it with the model, byte for byte.
        func checkEverything(_ step: Int) throws {
            var read: [[UInt8]] = []
            var next = model.logStart
            while next < model.logEnd {
                let (batches, _) = try RecordBatch.split(log.readBatches(from: next, maxBytes: 700))
                guard let last = batches.last else { break }
                read += batches.map { bytes(of: $0.buffer) }
                next = last.header.lastOffset + 1
            }
            let expected = model.batches.filter { $0.last >= model.logStart }.map(\.bytes)
            #expect(read == expected, "seed \(seed) step \(step): full read differs")
        }

        for step in 0..<350 {
            let roll = Int.random(in: 0..<100, using: &random)
            var operation = ""
            switch roll {
            case 0..<40:
                operation = "append"
                if Int.random(in: 0..<10, using: &random) == 0 { epoch += 1 }
                let count = Int.random(in: 1...4, using: &random)
                let timestamp = nextTimestamp + Int64.random(in: -50...100, using: &random)
                nextTimestamp += 60
                let batch = makeBatch(
                    count: count, timestamp: timestamp, valueSize: Int.random(in: 0...120, using: &random),
                    seed: UInt8.random(in: 0...255, using: &random))
                let info = try log.appendAsLeader(batch, leaderEpoch: epoch)
                #expect(info.firstOffset == model.logEnd)
                var stored = batch
                stored.assignOffsets(baseOffset: info.firstOffset, partitionLeaderEpoch: epoch)
                model.batches.append(
                    ModelBatch(
                        base: info.firstOffset, last: info.lastOffset, bytes: bytes(of: stored.buffer),
                        timestamps: (0..<count).map { timestamp + Int64($0) }))
                model.logEnd = info.nextOffset

            case 40..<58:
                operation = "read"
                let offset = Int64.random(in: model.logStart...model.logEnd, using: &random)
                let maxBytes = Int.random(in: 1...900, using: &random)
                let cap: Int64? = Bool.random(using: &random) ? model.highWatermark : nil
                let result = try log.readBatches(from: offset, maxBytes: maxBytes, maxOffset: cap)
                let (batches, trailing) = try RecordBatch.split(result)
                #expect(trailing == 0)
                let limit = min(cap ?? model.logEnd, model.logEnd)
                let expected = model.batches.filter { $0.last >= offset && $0.last < limit }
                if let first = expected.first, offset < limit {
                    #expect(!batches.isEmpty, "seed \(seed) step \(step): empty read from \(offset)")
                    #expect(batches.map { bytes(of: $0.buffer) } == expected.prefix(batches.count).map(\.bytes))
                    #expect(result.readableBytes <= max(maxBytes, first.bytes.count))
                } else {
                    #expect(batches.isEmpty, "seed \(seed) step \(step): read from \(offset) should be empty")
                }

            case 58..<63:
                operation = "timestamp lookup"
                let target = Int64.random(in: 9_900...(nextTimestamp + 200), using: &random)
                var expected: TimestampOffset?
                search: for batch in model.batches {
                    for (index, timestamp) in batch.timestamps.enumerated()
                    where timestamp >= target && batch.base + Int64(index) >= model.logStart {
                        expected = TimestampOffset(offset: batch.base + Int64(index), timestamp: timestamp)
                        break search
                    }
                }
                #expect(try log.offset(forTimestamp: target) == expected, "seed \(seed) step \(step): lookup \(target)")

            case 63..<73:
                operation = "high watermark"
                let offset = Int64.random(in: model.logStart...model.logEnd, using: &random)
                model.highWatermark = log.updateHighWatermark(offset)
                #expect(model.highWatermark == offset)

            case 73..<78:
                operation = "truncate"
                let low = max(0, model.logStart - 3)
                let offset = Int64.random(in: low...model.logEnd, using: &random)
                let floorBase = log.segmentBaseOffsets.last { $0 <= offset } ?? 0
                try log.truncate(to: offset)
                if offset < model.logStart {
                    model = Model(batches: [], logStart: offset, logEnd: offset, highWatermark: offset)
                } else if offset < model.logEnd {
                    model.batches.removeAll { $0.last >= offset }
                    model.logEnd = max(floorBase, model.batches.last?.next ?? floorBase)
                    model.highWatermark = min(model.highWatermark, model.logEnd)
                    model.logStart = min(model.logStart, model.logEnd)
                }

            case 78..<82:
                operation = "delete records"
                let offset = Int64.random(in: model.logStart...model.highWatermark, using: &random)
                #expect(try log.deleteRecords(before: offset) == offset)
                model.logStart = offset
                let firstBase = log.segmentBaseOffsets[0]
                #expect(model.batches.filter { $0.base < firstBase }.allSatisfy { $0.last < model.highWatermark })
                model.batches.removeAll { $0.base < firstBase }

            case 82..<87:
                operation = "retention"
                var updated = config
                updated.retentionBytes = Int64.random(in: 0...3000, using: &random)
                try log.updateConfig(updated)
                try log.deleteOldSegments(now: clock.milliseconds)
                let firstBase = log.segmentBaseOffsets[0]
                let removed = model.batches.filter { $0.base < firstBase }
                #expect(removed.allSatisfy { $0.last < model.highWatermark }, "seed \(seed) step \(step): retention above HW")
                model.batches.removeAll { $0.base < firstBase }
                model.logStart = max(model.logStart, firstBase)
                try log.updateConfig(config)

            case 87..<90:
                operation = "roll"
                try log.roll()

            case 90..<95:
                operation = "clean reopen"
                let (recoveryPoint, logStart, highWatermark) = (log.logEndOffset, log.logStartOffset, log.highWatermark)
                try log.close()
                log = try openLog(
                    directory, config: config, clock: clock, captured: captured, recoveryPoint: recoveryPoint,
                    logStartOffset: logStart, highWatermark: highWatermark, cleanShutdown: true)
                #expect(log.recoveryPoint == model.logEnd)

            default:
                operation = "crash"
                let (recoveryPoint, logStart, highWatermark) = (log.recoveryPoint, log.logStartOffset, log.highWatermark)
                let lastBase = log.segmentBaseOffsets.last!
                log = placeholder  // the crashed log is released without closing, as after kill -9
                let path = segmentPath(directory, lastBase, ".log")
                let size = fileSize(path)
                var inLast = model.batches.filter { $0.base >= lastBase }
                if size > 0 && Bool.random(using: &random) {
                    // Lose a torn tail of the active segment.
                    let cut = Int.random(in: 1...size, using: &random)
                    truncateFile(path, to: size - cut)
                    var end = 0
                    var survivors = 0
                    for batch in inLast {
                        end += batch.bytes.count
                        if end <= size - cut { survivors += 1 } else { break }
                    }
                    inLast = Array(inLast.prefix(survivors))
                    model.batches = model.batches.filter { $0.base < lastBase } + inLast
                    model.logEnd = inLast.last?.next ?? lastBase
                    model.logStart = min(model.logStart, model.logEnd)
                    model.highWatermark = min(model.highWatermark, model.logEnd)
                }
                log = try openLog(
                    directory, config: config, clock: clock, captured: captured, recoveryPoint: recoveryPoint,
                    logStartOffset: logStart, highWatermark: highWatermark)
            }
            clock.advance(by: 7)
            try check(step, operation)
            if step % 25 == 0 { try checkEverything(step) }
        }
        try checkEverything(-1)
        try log.close()
    }
}
