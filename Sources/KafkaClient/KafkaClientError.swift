import KafkaModel
import KafkaProtocol

/// Why a client call failed. `description` is a sentence meant for an operator: it names the address
/// and the request, and suggests what to check where there is something to check.
public struct KafkaClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A bootstrap server string that is not `host:port[,host:port...]`.
        case invalidAddress
        /// The host name did not resolve.
        case unknownHost
        /// Nothing listens on the port.
        case connectionRefused
        /// The connection was not established within the connect timeout.
        case connectTimeout
        /// The peer closed the connection (or the connection failed) while requests were waiting.
        case connectionClosed
        /// No response within the request timeout; the connection is closed, as Kafka's clients do.
        case requestTimedOut
        /// The peer answered with bytes that are not Kafka responses.
        case notKafka
        /// A response that could not be decoded, or did not match the request.
        case protocolError
        /// The broker does not support the API, or no version both sides know.
        case unsupportedVersion
        /// The broker answered with an error code (see `errorCode`).
        case kafkaError
        /// No bootstrap server or broker could be reached; `message` lists each failure.
        case noBrokerAvailable
        /// The client was used after `close()`.
        case closed
    }

    public var kind: Kind
    public var message: String
    /// The Kafka error code, for `.kafkaError` (and `.unsupportedVersion` when the broker said so).
    public var errorCode: KafkaErrorCode?

    public init(_ kind: Kind, _ message: String, errorCode: KafkaErrorCode? = nil) {
        self.kind = kind
        self.message = message
        self.errorCode = errorCode
    }

    public var description: String { message }

    /// An error the broker answered with, e.g. `TOPIC_ALREADY_EXISTS`: the broker's message when it sent
    /// one, else Kafka's default text for the code.
    public static func kafka(_ code: KafkaErrorCode, _ brokerMessage: String?, context: String? = nil) -> KafkaClientError {
        let text = (brokerMessage?.isEmpty == false ? brokerMessage : nil) ?? code.defaultMessage
        let prefix = context.map { "\($0): " } ?? ""
        return KafkaClientError(.kafkaError, prefix + text, errorCode: code)
    }
}

extension KafkaErrorCode {
    /// Kafka's default exception text for the codes a client of the admin APIs meets
    /// (`Errors.java`), else the code's name.
    public var defaultMessage: String {
        switch self {
        case .unknownServerError: "The server experienced an unexpected error when processing the request."
        case .unknownTopicOrPartition: "This server does not host this topic-partition."
        case .leaderNotAvailable:
            "There is no leader for this topic-partition as we are in the middle of a leadership election."
        case .notLeaderOrFollower: "For requests intended only for the leader, this error indicates that the broker is not the current leader."
        case .requestTimedOut: "The request timed out."
        case .invalidTopicException: "The request attempted to perform an operation on an invalid topic."
        case .clusterAuthorizationFailed: "Cluster authorization failed."
        case .topicAuthorizationFailed: "Topic authorization failed."
        case .unsupportedVersion: "The version of API is not supported."
        case .topicAlreadyExists: "Topic with this name already exists."
        case .invalidPartitions: "Number of partitions is below 1."
        case .invalidReplicationFactor: "Replication factor is below 1 or larger than the number of available brokers."
        case .invalidReplicaAssignment: "Replica assignment is invalid."
        case .invalidConfig: "Configuration is invalid."
        case .notController: "This is not the correct controller for this cluster."
        case .invalidRequest:
            "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details."
        case .policyViolation: "Request parameters do not satisfy the configured policy."
        case .topicDeletionDisabled: "Topic deletion is disabled."
        default: name
        }
    }
}
