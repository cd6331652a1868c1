/// Bytes that are not a valid Kafka protocol message: a truncated or malformed field, a frame that is too
/// large, an API key or version this build cannot parse. Decoding never traps on bad input; it throws this.
///
/// Kafka's broker answers any of these (except the ApiVersions fallback, see `ApiVersionsResponse`) by
/// closing the connection.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The input ends before a field is complete.
        case truncated
        /// A length or count below -1, or -1 (null) where the version does not allow null.
        case invalidLength
        /// An unsigned varint longer than its type allows.
        case varintTooLong
        /// A string whose bytes are not UTF-8.
        case invalidUTF8
        /// A frame whose size prefix is negative or above the configured maximum.
        case invalidFrameSize
        /// An API key this build does not know.
        case unknownApiKey
        /// An API version outside the range this build can parse.
        case unsupportedVersion
    }

    public var kind: Kind
    /// What was malformed, e.g. "int32 needs 4 bytes, 1 remains".
    public var message: String
    /// Where it was found, outermost first, e.g. ["MetadataRequest v9"]; filled in by `withContext`.
    public var context: [String]

    public init(_ kind: Kind, _ message: String, context: [String] = []) {
        self.kind = kind
        self.message = message
        self.context = context
    }

    /// The same error, located inside `outer` (a message name and version, a frame, ...).
    public func inContext(_ outer: String) -> ProtocolError {
        ProtocolError(kind, message, context: [outer] + context)
    }

    public var description: String {
        let location = context.isEmpty ? "" : " (in \(context.joined(separator: " > ")))"
        return "\(kind): \(message)\(location)"
    }

    static func truncated(_ what: String, needs: Int, remaining: Int) -> ProtocolError {
        ProtocolError(.truncated, "\(what) needs \(needs) bytes, \(remaining) remain")
    }
}
