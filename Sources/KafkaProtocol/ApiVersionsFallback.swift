import KafkaModel
import NIOCore

// KIP-511: an ApiVersions request at a version the broker does not support is not refused. The broker
// reads only its header and answers in v0 format (which every client can read), with UNSUPPORTED_VERSION
// and the broker's own ApiVersions range, so that the client can retry at a version both sides know
// (Kafka: RequestContext.parseRequest, ApiVersionsRequest.getErrorResponse). For a broker supporting
// ApiVersions 0-3 the frame is `[size][correlation id] 00 23  00 00 00 01  00 12 00 00 00 03`.

extension ApiVersionsResponse {
    /// The version the fallback answer is written in.
    public static let unsupportedVersionResponseVersion: Int16 = 0

    /// Whether `header` asks for ApiVersions at a version outside `supportedVersions`: such a request is
    /// answered with `unsupportedVersion(supportedVersions:)` rather than parsed.
    public static func needsUnsupportedVersionAnswer(
        _ header: RequestHeader,
        supportedVersions: ClosedRange<Int16>
    ) -> Bool {
        header.apiKey == .apiVersions && !supportedVersions.contains(header.requestApiVersion)
    }

    /// The fallback answer's body: UNSUPPORTED_VERSION and only the ApiVersions entry. Write it at
    /// `unsupportedVersionResponseVersion` (0), with response header v0.
    public static func unsupportedVersion(supportedVersions: ClosedRange<Int16>) -> ApiVersionsResponse {
        ApiVersionsResponse(
            errorCode: KafkaErrorCode.unsupportedVersion.rawValue,
            apiKeys: [
                ApiVersion(
                    apiKey: ApiKey.apiVersions.rawValue,
                    minVersion: supportedVersions.lowerBound,
                    maxVersion: supportedVersions.upperBound
                )
            ]
        )
    }

    /// The whole fallback response frame for `header`: size, response header v0, v0 body.
    public static func unsupportedVersionFrame(
        for header: RequestHeader,
        supportedVersions: ClosedRange<Int16>
    ) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaResponse(
            unsupportedVersion(supportedVersions: supportedVersions),
            version: unsupportedVersionResponseVersion,
            correlationId: header.correlationId
        )
        return buffer
    }
}
