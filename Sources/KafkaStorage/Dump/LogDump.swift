import Foundation
import KafkaCompression
import KafkaRecords
import NIOCore

/// Prints segments and indexes the way `kafka-dump-log.sh` (Kafka's `DumpLogSegments`) does, so
/// operators can read Odradek's files with the habits they have. Reads files directly; blocks.
public struct LogDump {
    public struct Options: Sendable {
        /// `--print-data-log`: print each record's key and payload (implies deep iteration).
        public var printDataLog = false
        /// `--deep-iteration`: print one line per record, decompressing batches.
        public var deepIteration = false
        /// `--max-bytes`: stop after this many bytes of a log file.
        public var maxBytes = Int.max
        /// `--max-message-size`: the largest batch to read.
        public var maxMessageSize = 5 * 1024 * 1024

        public init() {}
    }

    public var options: Options
    private let emit: (String) -> Void

    public init(options: Options, emit: @escaping (String) -> Void) {
        self.options = options
        self.emit = emit
    }

    /// Dumps one file, chosen by its extension: `.log`, `.index`, `.timeindex`, or a checkpoint.
    /// Blocks on file I/O.
    public func dump(path: String) throws {
        emit("Dumping \(path)")
        switch URL(fileURLWithPath: path).pathExtension {
        case "log": try dumpLog(path: path)
        case "index": try dumpIndex(path: path, entrySize: 8)
        case "timeindex": try dumpIndex(path: path, entrySize: 12)
        default:
            // Checkpoints and other text files are printed as they are.
            emit(try String(contentsOfFile: path, encoding: .utf8), terminator: false)
        }
    }

    private func emit(_ text: String, terminator: Bool) {
        emit(terminator ? text : String(text.dropLast(text.hasSuffix("\n") ? 1 : 0)))
    }

    private func baseOffset(of path: String) -> Int64 {
        Int64(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) ?? 0
    }

    private func dumpIndex(path: String, entrySize: Int) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let base = baseOffset(of: path)
        data.withUnsafeBytes { bytes in
            var position = 0
            while position + entrySize <= bytes.count {
                if entrySize == 8 {
                    let relative = bytes.readBE(Int32.self, at: position)
                    let filePosition = bytes.readBE(Int32.self, at: position + 4)
                    // A preallocated index ends in zero entries; the first entry may legitimately be (0, 0).
                    if position > 0 && relative == 0 && filePosition == 0 { break }
                    emit("offset: \(base + Int64(relative)) position: \(filePosition)")
                } else {
                    let timestamp = bytes.readBE(Int64.self, at: position)
                    let relative = bytes.readBE(Int32.self, at: position + 8)
                    if position > 0 && timestamp == 0 && relative == 0 { break }
                    emit("timestamp: \(timestamp) offset: \(base + Int64(relative))")
                }
                position += entrySize
            }
        }
    }

    private func dumpLog(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LogDumpError(message: "cannot open \(path)")
        }
        defer { try? handle.close() }
        emit("Log starting offset: \(baseOffset(of: path))")
        let fileSize = Int(try handle.seekToEnd())
        let limit = min(fileSize, options.maxBytes)
        var position = 0
        while position + RecordBatchHeader.logOverhead <= limit {
            try handle.seek(toOffset: UInt64(position))
            guard let prefix = try handle.read(upToCount: RecordBatchHeader.logOverhead),
                prefix.count == RecordBatchHeader.logOverhead
            else { break }
            let length = prefix.withUnsafeBytes { $0.readBE(Int32.self, at: RecordBatchHeader.Offset.length) }
            let total = Int(length) + RecordBatchHeader.logOverhead
            guard length >= RecordBatchHeader.minimumLength, total <= options.maxMessageSize,
                position + total <= fileSize
            else { break }
            try handle.seek(toOffset: UInt64(position))
            guard let bytes = try handle.read(upToCount: total), bytes.count == total,
                let batch = try? RecordBatch(buffer: ByteBuffer(bytes: bytes))
            else { break }
            emit(describe(batch, position: position))
            if options.deepIteration || options.printDataLog {
                try dumpRecords(of: batch)
            }
            position += total
        }
        if position < fileSize && position < limit {
            emit("Found \(fileSize - position) invalid bytes at the end of \(URL(fileURLWithPath: path).lastPathComponent)")
        }
    }

    private func describe(_ batch: RecordBatch, position: Int) -> String {
        let h = batch.header
        let timestampName = h.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        let horizon = h.hasDeleteHorizon ? "OptionalLong[\(h.baseTimestamp)]" : "OptionalLong.empty"
        return "baseOffset: \(h.baseOffset) lastOffset: \(h.lastOffset) count: \(h.recordCount)"
            + " baseSequence: \(h.baseSequence) lastSequence: \(h.lastSequence) producerId: \(h.producerId)"
            + " producerEpoch: \(h.producerEpoch) partitionLeaderEpoch: \(h.partitionLeaderEpoch)"
            + " isTransactional: \(h.isTransactional) isControl: \(h.isControl) deleteHorizonMs: \(horizon)"
            + " position: \(position) \(timestampName): \(h.maxTimestamp) size: \(h.totalSize) magic: \(h.magic)"
            + " compresscodec: \(h.compressionCodec?.name ?? "unknown") crc: \(h.crc) isvalid: \(batch.isChecksumValid)"
    }

    private func dumpRecords(of batch: RecordBatch) throws {
        let h = batch.header
        let timestampName = h.timestampType == .logAppendTime ? "LogAppendTime" : "CreateTime"
        let records: [Record]
        do {
            records = try batch.records()
        } catch {
            emit("| could not read the records of this batch: \(error)")
            return
        }
        for record in records {
            var line = "| offset: \(record.offset) \(timestampName): \(record.timestamp)"
                + " keySize: \(record.key.map { $0.count } ?? -1) valueSize: \(record.value.map { $0.count } ?? -1)"
            if h.isControl {
                let type = ControlRecordType(key: record.key).map { $0 == .commit ? "COMMIT" : "ABORT" } ?? "UNKNOWN"
                line += " endTxnMarker: \(type)"
            } else {
                let sequence = h.baseSequence >= 0 ? Int64(h.baseSequence) + Int64(record.offsetDelta) : -1
                line += " sequence: \(sequence) headerKeys: [\(record.headers.map(\.key).joined(separator: ","))]"
                if options.printDataLog {
                    if let key = record.key { line += " key: \(String(decoding: key, as: UTF8.self))" }
                    if let value = record.value { line += " payload: \(String(decoding: value, as: UTF8.self))" }
                }
            }
            emit(line)
        }
    }
}

public struct LogDumpError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
