import KafkaModel

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
