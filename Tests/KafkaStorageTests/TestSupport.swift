import KafkaModel
import Foundation
import KafkaRecords
import Logging
import NIOCore
import Synchronization
import Testing

@testable import KafkaStorage

/// A directory under the system temp directory, removed by `remove()` (call it in a `defer`).
struct TemporaryDirectory {
    let path: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("odradek-storage-\(safe)-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_700_000_000_000) {
        now = Mutex(start)
    }

    var milliseconds: Int64 { now.withLock { $0 } }
    func advance(by milliseconds: Int64) { now.withLock { $0 += milliseconds } }
    func set(_ milliseconds: Int64) { now.withLock { $0 = milliseconds } }
    var storageClock: StorageClock { StorageClock { self.milliseconds } }
}

/// Keeps every log line so tests can check what recovery reported.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    func contains(_ pieces: String...) -> Bool {
        all.contains { line in pieces.allSatisfy { line.contains($0) } }
    }

    var logger: Logger {
        Logger(label: "storage-test") { _ in CapturingHandler(sink: self) }
    }

    struct CapturingHandler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        func log(event: LogEvent) {
            sink.append("\(event.level): \(event.message)")
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
    }
}

/// Builds an uncompressed batch of `count` records (offsets 0...count-1, as a producer sends),
/// with timestamps `timestamp`, `timestamp + 1`, ... and values of `valueSize` bytes.
func makeBatch(count: Int = 1, timestamp: Int64 = 1_000, valueSize: Int = 10, seed: UInt8 = 0, epoch: Int32 = -1) -> RecordBatch {
    var builder = RecordBatchBuilder()
    builder.partitionLeaderEpoch = epoch
    for index in 0..<count {
        let value = (0..<valueSize).map { UInt8(truncatingIfNeeded: Int($0) &+ index &+ Int(seed)) }
        builder.append(key: Array("k\(index)".utf8), value: value, timestamp: timestamp + Int64(index))
    }
    return try! builder.build()
}

/// The same batch with its offsets set, as a follower would receive it from the leader.
func makeFollowerBatch(baseOffset: Int64, count: Int = 1, timestamp: Int64 = 1_000, epoch: Int32 = 0) -> RecordBatch {
    var batch = makeBatch(count: count, timestamp: timestamp)
    batch.assignOffsets(baseOffset: baseOffset, partitionLeaderEpoch: epoch)
    return batch
}

func bytes(of buffer: ByteBuffer) -> [UInt8] {
    Array(buffer.readableBytesView)
}

/// Splits the bytes of a read into (base offset, last offset) pairs, checking each CRC.
func batchOffsets(_ buffer: ByteBuffer) throws -> [(base: Int64, last: Int64)] {
    let (batches, trailing) = try RecordBatch.split(buffer)
    #expect(trailing == 0)
    for batch in batches { try batch.verifyChecksum() }
    return batches.map { ($0.header.baseOffset, $0.header.lastOffset) }
}

/// Opens a log in `directory/topic-0` with the given settings.
func openLog(
    _ directory: TemporaryDirectory, config: LogConfig = LogConfig(), clock: ManualClock = ManualClock(),
    captured: CapturedLog = CapturedLog(), recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0, highWatermark: Int64 = 0,
    cleanShutdown: Bool = false
) throws -> PartitionLog {
    try PartitionLog.open(
        directory: directory.file("topic-0"), topicPartition: TopicPartition(topic: "topic", partition: 0), config: config,
        recoveryPoint: recoveryPoint, logStartOffset: logStartOffset, highWatermark: highWatermark,
        hadCleanShutdown: cleanShutdown, clock: clock.storageClock, logger: captured.logger)
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? -1
}

func readFile(_ path: String) -> [UInt8] {
    (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))) ?? []
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    try! Data(bytes).write(to: URL(fileURLWithPath: path))
}

func appendToFile(_ path: String, _ bytes: [UInt8]) {
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data(bytes))
    try! handle.close()
}

func truncateFile(_ path: String, to size: Int) {
    let handle = FileHandle(forWritingAtPath: path)!
    try! handle.truncate(atOffset: UInt64(size))
    try! handle.close()
}

func segmentPath(_ directory: TemporaryDirectory, _ base: Int64, _ suffix: String) -> String {
    directory.file("topic-0/" + LogSegment.fileName(baseOffset: base, suffix: suffix))
}

/// Big-endian decoding of index files, independent of the code under test.
func indexEntries(_ path: String) -> [(offset: Int32, position: Int32)] {
    let data = readFile(path)
    return stride(from: 0, to: data.count - 7, by: 8).map { start in
        (Int32(bigEndian: data[start..<start + 4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }),
         Int32(bigEndian: data[start + 4..<start + 8].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
    }
}

func timeIndexEntries(_ path: String) -> [(timestamp: Int64, offset: Int32)] {
    let data = readFile(path)
    return stride(from: 0, to: data.count - 11, by: 12).map { start in
        (Int64(bigEndian: data[start..<start + 8].withUnsafeBytes { $0.loadUnaligned(as: Int64.self) }),
         Int32(bigEndian: data[start + 8..<start + 12].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
    }
}
