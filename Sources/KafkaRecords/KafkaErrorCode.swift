/// A Kafka protocol error code (`org.apache.kafka.common.protocol.Errors`). Open-ended so that codes
/// this build does not name still pass through.
public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let none = KafkaErrorCode(rawValue: 0)
    public static let offsetOutOfRange = KafkaErrorCode(rawValue: 1)
    public static let corruptMessage = KafkaErrorCode(rawValue: 2)
    public static let messageTooLarge = KafkaErrorCode(rawValue: 10)
    public static let recordListTooLarge = KafkaErrorCode(rawValue: 18)
    public static let invalidTimestamp = KafkaErrorCode(rawValue: 32)
    public static let unsupportedForMessageFormat = KafkaErrorCode(rawValue: 43)
    public static let unsupportedCompressionType = KafkaErrorCode(rawValue: 76)
    public static let invalidRecord = KafkaErrorCode(rawValue: 87)

    public var name: String {
        switch self {
        case .none: "NONE"
        case .offsetOutOfRange: "OFFSET_OUT_OF_RANGE"
        case .corruptMessage: "CORRUPT_MESSAGE"
        case .messageTooLarge: "MESSAGE_TOO_LARGE"
        case .recordListTooLarge: "RECORD_LIST_TOO_LARGE"
        case .invalidTimestamp: "INVALID_TIMESTAMP"
        case .unsupportedForMessageFormat: "UNSUPPORTED_FOR_MESSAGE_FORMAT"
        case .unsupportedCompressionType: "UNSUPPORTED_COMPRESSION_TYPE"
        case .invalidRecord: "INVALID_RECORD"
        default: "ERROR_\(rawValue)"
        }
    }

    public var description: String { "\(name) (\(rawValue))" }
}

/// A batch or record that cannot be accepted, with the error code a broker answers with.
public struct RecordError: Error, Sendable, CustomStringConvertible {
    public let code: KafkaErrorCode
    public let message: String
    /// Index of the offending record within its batch, when one record is to blame (Produce v8 `record_errors`).
    public let recordIndex: Int?

    public init(_ code: KafkaErrorCode, _ message: String, recordIndex: Int? = nil) {
        self.code = code
        self.message = message
        self.recordIndex = recordIndex
    }

    public var description: String { "\(code.name): \(message)" }
}
