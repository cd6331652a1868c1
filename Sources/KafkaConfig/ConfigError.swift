import KafkaModel

/// A configuration that cannot be used. `message` names the key, the value and what is allowed.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A line of a properties file or an `--override` argument that cannot be read.
        case syntax
        /// A key no table knows (the message suggests the closest known key).
        case unknownKey
        /// A Kafka key for a feature Odradek does not have (TLS, SASL, KRaft, ...).
        case unsupportedKey
        /// A value of the wrong type or outside the allowed values.
        case invalidValue
        /// A key without a default that must be set.
        case missingKey
        /// The file could not be read.
        case io
    }

    public let kind: Kind
    /// The key at fault, when there is one.
    public let key: String?
    public let message: String

    public init(_ kind: Kind, key: String?, _ message: String) {
        self.kind = kind
        self.key = key
        self.message = message
    }

    /// The code a broker answers with for this error in CreateTopics, AlterConfigs, ... (INVALID_CONFIG).
    public var kafkaErrorCode: KafkaErrorCode { .invalidConfig }

    public var description: String { message }

    /// The same error with `prefix` (a file name, `--override`) in front of the message.
    func prefixed(_ prefix: String) -> ConfigError {
        ConfigError(kind, key: key, "\(prefix): \(message)")
    }
}
