import KafkaModel

/// Everything the storage engine throws. The message names the file and/or offset and says what was
/// wrong; `code` says what kind of failure it is, and `kafkaErrorCode` what a broker answers with.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// The offset is below the log start or above the log end (OFFSET_OUT_OF_RANGE).
        case offsetOutOfRange
        /// A follower batch whose offsets are not above the log end, or not increasing.
        case invalidAppendOffset
        /// A batch larger than `segment.bytes` (RECORD_LIST_TOO_LARGE).
        case recordTooLarge
        /// A batch whose header, length or CRC is wrong (CORRUPT_MESSAGE).
        case corruptRecord
        /// An offset or time index that cannot be trusted; recovery rebuilds it.
        case corruptIndex
        /// A checkpoint file or producer state snapshot that cannot be parsed; callers treat it as
        /// absent (a snapshot is deleted).
        case corruptCheckpoint
        /// An idempotent producer's batch whose sequence does not follow its last one, or a new
        /// producer epoch not starting at sequence 0 (OUT_OF_ORDER_SEQUENCE_NUMBER).
        case outOfOrderSequence
        /// A batch from a producer epoch older than the last one seen (INVALID_PRODUCER_EPOCH).
        case invalidProducerEpoch
        /// A system call failed; `errno` holds the reason.
        case io
        /// A bad argument: topic name, configuration value, offset beyond the high watermark, ...
        case invalidArgument
        /// The log was closed or deleted, or an earlier write or fsync failed and it was taken offline.
        case logClosed
    }

    public let code: Code
    public let message: String
    /// The `errno` of a failed system call (`code == .io`), else nil.
    public let errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// The error code a broker puts in its response for this failure.
    public var kafkaErrorCode: KafkaErrorCode {
        switch code {
        case .offsetOutOfRange: .offsetOutOfRange
        case .corruptRecord: .corruptMessage
        case .recordTooLarge: .recordListTooLarge
        case .outOfOrderSequence: .outOfOrderSequenceNumber
        case .invalidProducerEpoch: .invalidProducerEpoch
        case .invalidArgument, .invalidAppendOffset: KafkaErrorCode(rawValue: 42)  // INVALID_REQUEST
        // KAFKA_STORAGE_ERROR: the client retries against a new leader.
        case .corruptIndex, .corruptCheckpoint, .io, .logClosed: KafkaErrorCode(rawValue: 56)
        }
    }

    public var description: String {
        if let errno { return "\(code): \(message) (\(systemErrorMessage(errno)))" }
        return "\(code): \(message)"
    }
}
