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
