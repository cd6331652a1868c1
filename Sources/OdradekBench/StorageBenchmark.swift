import Foundation
import KafkaModel
import KafkaRecords
import KafkaStorage
import Logging
import NIOCore

/// The storage engine against the machine's own limits, measured in the same run:
/// - append of 1 KiB records in 16 KiB and 1 MiB batches, against a plain sequential write of the
///   same bytes to a new file (1 MiB write() calls, as dd bs=1M); both end with an fsync;
/// - read of a hot 1 GiB log, against plain 1 MiB pread() calls over the same files;
/// - recovery of a 1 GiB log after an unclean stop, against a plain read-and-CRC of its bytes.
enum StorageBenchmark {
    static let totalBytes = 1 << 30
    static let logger = Logger(label: "bench")

    static func run(runs: Int, directory: String, which: (String) -> Bool) throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        for batchBytes in [16 << 10, 1 << 20] where which("append") {
            var subject: [Double] = []
            var reference: [Double] = []
            var sameSize: [Double] = []
            for _ in 0...runs {  // the first round warms up
                reference.append(try rawWrite(directory: directory))
                subject.append(try append(batchBytes: batchBytes, directory: directory).gbps)
                if batchBytes != 1 << 20 { sameSize.append(try rawWrite(directory: directory, chunk: batchBytes)) }
            }
            Row(name: "append 1 KiB records in \(batchBytes >> 10) KiB batches, 1 GiB + fsync", subjectGBps: Array(subject.dropFirst()),
                referenceGBps: Array(reference.dropFirst()), referenceName: "sequential write(1 MiB)+fsync", goal: "ratio >= 0.8").print()
            if !sameSize.isEmpty {
                Row(name: "  same run, against writes of the batch size", subjectGBps: Array(subject.dropFirst()),
                    referenceGBps: Array(sameSize.dropFirst()), referenceName: "sequential write(\(batchBytes >> 10) KiB)+fsync").print()
            }
        }
        if which("read") {
            let (log, _) = try append(batchBytes: 1 << 20, directory: directory, keep: true)
            var subject: [Double] = []
            var reference: [Double] = []
            for _ in 0...runs {
                subject.append(try readLog(log))
                reference.append(try rawRead(directory: directory + "/bench-0"))
            }
            try log.close()
            Row(name: "read hot 1 GiB log (1 MiB reads into memory)", subjectGBps: Array(subject.dropFirst()),
                referenceGBps: Array(reference.dropFirst()), referenceName: "pread(1 MiB) of the segment files", goal: ">= 3 GB/s").print()
        }
        if which("recovery") {
            var seconds: [Double] = []
            var reference: [Double] = []
            for _ in 0..<runs {
                let (log, _) = try append(batchBytes: 16 << 10, directory: directory, keep: true)
                // An unclean stop: no close, no clean-shutdown marker, recovery point 0.
                _ = log
                seconds.append(try Measure.seconds {
                    let reopened = try PartitionLog.open(
                        directory: directory + "/bench-0", topicPartition: TopicPartition(topic: "bench", partition: 0),
                        recoveryPoint: 0, hadCleanShutdown: false, logger: logger)
                    try reopened.close()
                })
                reference.append(try Measure.seconds { _ = try rawRead(directory: directory + "/bench-0", checksum: true) })
            }
            let ratios = zip(seconds, reference).map { $0 / $1 }
            print("recovery of a 1 GiB log (16 KiB batches) after an unclean stop: median \(Measure.format(Measure.median(seconds), 3)) s over \(seconds.count) runs (min \(Measure.format(seconds.min() ?? 0, 3)), max \(Measure.format(seconds.max() ?? 0, 3))); plain read+CRC of the same bytes median \(Measure.format(Measure.median(reference), 3)) s; time ratio median \(Measure.format(Measure.median(ratios))); goal <= 2 s")
        }
    }

    /// One batch of 1 KiB records filling about `batchBytes`, built once and appended repeatedly.
    static func batch(bytes: Int) throws -> RecordBatch {
        var builder = RecordBatchBuilder()
        let value = [UInt8](repeating: 0x61, count: 1000)
        for i in 0..<max(1, bytes / 1024) {
            builder.append(key: Array("key-\(i)".utf8), value: value, timestamp: 1_700_000_000_000 + Int64(i))
        }
        return try builder.build()
    }

    static func append(batchBytes: Int, directory: String, keep: Bool = false) throws -> (log: PartitionLog, gbps: Double) {
        let path = directory + "/bench-0"
        try? FileManager.default.removeItem(atPath: path)
        let log = try PartitionLog.open(directory: path, topicPartition: TopicPartition(topic: "bench", partition: 0), logger: logger)
        let template = try batch(bytes: batchBytes)
        let count = totalBytes / template.header.totalSize
        // Each batch in its own buffer, as batches arrive from the network: the append rewrites the
        // header in place instead of copying a shared buffer.
        var batches = (0..<count).map { _ in try! RecordBatch(buffer: ByteBuffer(bytes: template.buffer.readableBytesView)) }
        let seconds = try Measure.seconds {
            while let next = batches.popLast() { _ = try log.appendAsLeader(next, leaderEpoch: 0) }
            try log.flush()
        }
        let gbps = Measure.gbps(bytes: count * template.header.totalSize, seconds: seconds)
        if !keep {
            try log.close()
            try? FileManager.default.removeItem(atPath: path)
        }
        return (log, gbps)
    }

    static func rawWrite(directory: String, chunk chunkSize: Int = 1 << 20) throws -> Double {
        let path = directory + "/raw.out"
        unlink(path)
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        guard fd >= 0 else { throw TestError("cannot create \(path)") }
        let chunk = [UInt8](repeating: 0x61, count: chunkSize)
        let seconds = Measure.seconds {
            for _ in 0..<(totalBytes / chunkSize) { _ = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
            fsync(fd)
        }
        close(fd)
        unlink(path)
        return Measure.gbps(bytes: totalBytes, seconds: seconds)
    }

    static func readLog(_ log: PartitionLog) throws -> Double {
        var offset = log.logStartOffset
        var bytes = 0
        let seconds = try Measure.seconds {
            while offset < log.logEndOffset {
                var buffer = try log.readBatches(from: offset, maxBytes: 1 << 20)
                guard buffer.readableBytes > 0 else { break }
                bytes += buffer.readableBytes
                // Next offset: after the last whole batch read.
                var last: Int64 = offset
                while buffer.readableBytes >= RecordBatchHeader.logOverhead,
                    let base = buffer.getInteger(at: buffer.readerIndex, as: Int64.self),
                    let length = buffer.getInteger(at: buffer.readerIndex + 8, as: Int32.self),
                    let delta = buffer.getInteger(at: buffer.readerIndex + RecordBatchHeader.Offset.lastOffsetDelta, as: Int32.self)
                {
                    last = base + Int64(delta)
                    buffer.moveReaderIndex(forwardBy: Int(length) + RecordBatchHeader.logOverhead)
                }
                offset = last + 1
            }
        }
        return Measure.gbps(bytes: bytes, seconds: seconds)
    }

    /// Reads every .log file of the directory with 1 MiB pread calls (optionally CRC-ing them).
    static func rawRead(directory: String, checksum: Bool = false) throws -> Double {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".log") }.sorted()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        var crc: UInt32 = 0
        let seconds = Measure.seconds {
            for file in files {
                let fd = open(directory + "/" + file, O_RDONLY)
                var position = 0
                while true {
                    let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
                    if n <= 0 { break }
                    if checksum { crc ^= buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[..<n])) } }
                    position += n
                }
                total += position
                close(fd)
            }
        }
        if crc == 1 { print("") }
        return Measure.gbps(bytes: total, seconds: seconds)
    }
}

struct TestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
