import NIOCore

extension ApiKey {
    /// The request versions this build can parse (the spec's `validVersions`).
    public var validVersions: ClosedRange<Int16> { requestType.validVersions }

    /// Whether `apiVersion` of this API uses the flexible encoding. Kafka's flexible ranges are open-ended,
    /// so this also answers for versions above `validVersions` (what a newer client may send).
    public func isFlexible(_ apiVersion: Int16) -> Bool { requestType.isFlexible(apiVersion) }

    /// The request header version for `apiVersion` (`ApiMessageType.requestHeaderVersion`): 2 when the
    /// request is flexible, else 1; ControlledShutdown v0 alone has header v0 (no client id).
    public func requestHeaderVersion(for apiVersion: Int16) -> Int16 {
        if self == .controlledShutdown && apiVersion == 0 { return 0 }
        return requestType.isFlexible(apiVersion) ? 2 : 1
    }

    /// The response header version for `apiVersion`: 1 when the response is flexible, else 0; ApiVersions
    /// always answers with v0 (KIP-511), so that a client can read the header whatever version it sent.
    public func responseHeaderVersion(for apiVersion: Int16) -> Int16 {
        if self == .apiVersions { return 0 }
        return responseType.isFlexible(apiVersion) ? 1 : 0
    }
}

extension RequestHeader {
    /// The API key, when this build knows it.
    public var apiKey: ApiKey? { ApiKey(rawValue: requestApiKey) }

    /// The request header at the front of a request frame, read at the header version that its API key
    /// and version call for (see `ApiKey.requestHeaderVersion`). `buffer` is left at the body.
    ///
    /// The version need not be one this build supports: an ApiVersions request from a newer client is
    /// read here and answered by `ApiVersionsResponse.unsupportedVersion`. An unknown API key is read as
    /// header v1, enough for a broker to log who sent it before it closes the connection.
    public static func read(from buffer: inout ByteBuffer) throws(ProtocolError) -> RequestHeader {
        guard let key = buffer.getInteger(at: buffer.readerIndex, as: Int16.self),
            let version = buffer.getInteger(at: buffer.readerIndex + 2, as: Int16.self)
        else {
            throw ProtocolError.truncated("request header", needs: 4, remaining: buffer.readableBytes)
        }
        let headerVersion = ApiKey(rawValue: key)?.requestHeaderVersion(for: version) ?? 1
        return try decode(from: &buffer, version: headerVersion)
    }
}

extension ByteBuffer {
    /// Writes one frame: an int32 size, then whatever `body` writes.
    public mutating func writeKafkaFrame(_ body: (inout ByteBuffer) -> Void) {
        let sizeIndex = writerIndex
        writeInteger(Int32(0))
        body(&self)
        let size = writerIndex - sizeIndex - 4
        precondition(size <= Int32.max, "a Kafka frame is at most 2 GiB")
        setInteger(Int32(size), at: sizeIndex)
    }

    /// Writes a whole request frame: size, request header (its version by `ApiKey.requestHeaderVersion`),
    /// body at `version`.
    public mutating func writeKafkaRequest<Request: KafkaRequest>(
        _ request: Request,
        version: Int16,
        correlationId: Int32,
        clientId: String?
    ) {
        let header = RequestHeader(
            requestApiKey: Request.apiKey.rawValue,
            requestApiVersion: version,
            correlationId: correlationId,
            clientId: clientId
        )
        writeKafkaFrame { buffer in
            header.write(to: &buffer, version: Request.apiKey.requestHeaderVersion(for: version))
            request.write(to: &buffer, version: version)
        }
    }

    /// Writes a whole response frame: size, response header (its version by
    /// `ApiKey.responseHeaderVersion`), body at `version`.
    public mutating func writeKafkaResponse<Response: KafkaResponse>(
        _ response: Response,
        version: Int16,
        correlationId: Int32
    ) {
        writeKafkaFrame { buffer in
            ResponseHeader(correlationId: correlationId)
                .write(to: &buffer, version: Response.apiKey.responseHeaderVersion(for: version))
            response.write(to: &buffer, version: version)
        }
    }
}

extension ResponseHeader {
    /// The response header at the front of a response frame to a request of `apiKey` at `apiVersion`;
    /// `buffer` is left at the body.
    public static func read(
        from buffer: inout ByteBuffer,
        apiKey: ApiKey,
        apiVersion: Int16
    ) throws(ProtocolError) -> ResponseHeader {
        try decode(from: &buffer, version: apiKey.responseHeaderVersion(for: apiVersion))
    }
}
