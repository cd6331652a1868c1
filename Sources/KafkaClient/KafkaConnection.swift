import KafkaModel
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TCP connection to a Kafka broker. Requests may be sent concurrently: they are pipelined and each
/// gets the response with its correlation id (a broker answers a connection's requests in order).
///
/// `connect` negotiates versions with ApiVersions first (v3, falling back as KIP-511 describes), so
/// `send(_:)` can pick the highest version both sides support. After any connection failure or request
/// timeout the connection is closed and every call fails; make a new connection.
public final class KafkaConnection: Sendable {
    public struct Options: Sendable {
        /// Sent in every request header.
        public var clientId: String?
        public var connectTimeout: TimeAmount
        /// How long one request may wait for its response; nil waits forever.
        public var requestTimeout: TimeAmount?
        /// Ask ApiVersions on connect. Without it `send(_:)` (without a version) cannot choose a version.
        public var negotiateApiVersions: Bool
        /// The largest response frame accepted.
        public var maximumResponseSize: Int
        /// ApiVersions v3's client_software_name / _version.
        public var softwareName: String
        public var softwareVersion: String

        public init(
            clientId: String? = "odradek",
            connectTimeout: TimeAmount = .seconds(10),
            requestTimeout: TimeAmount? = .seconds(30),
            negotiateApiVersions: Bool = true,
            maximumResponseSize: Int = 256 * 1024 * 1024,
            softwareName: String = "odradek",
            softwareVersion: String = "0.1.0"
        ) {
            self.clientId = clientId
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.negotiateApiVersions = negotiateApiVersions
            self.maximumResponseSize = maximumResponseSize
            self.softwareName = softwareName
            self.softwareVersion = softwareVersion
        }
    }

    public let host: String
    public let port: Int
    public let options: Options
    /// The broker's version range per API key, from ApiVersions; empty when not negotiated.
    public let apiVersions: [ApiKey: ClosedRange<Int16>]
    /// The ApiVersions version the broker accepted, or nil when not negotiated.
    public let apiVersionsVersion: Int16?
    let channel: any Channel

    /// "host:port", as shown in messages.
    public var endpoint: String { Self.endpoint(host: host, port: port) }

    private init(
        host: String,
        port: Int,
        options: Options,
        channel: any Channel,
        apiVersions: [ApiKey: ClosedRange<Int16>],
        apiVersionsVersion: Int16?
    ) {
        self.host = host
        self.port = port
        self.options = options
        self.channel = channel
        self.apiVersions = apiVersions
        self.apiVersionsVersion = apiVersionsVersion
    }

    // MARK: Connecting

    /// Connects to `host:port` and, unless `options.negotiateApiVersions` is off, asks ApiVersions.
    public static func connect(
        host: String,
        port: Int,
        options: Options = Options(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger? = nil
    ) async throws -> KafkaConnection {
        let endpoint = Self.endpoint(host: host, port: port)
        let maximumFrameSize = options.maximumResponseSize
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connectTimeout(options.connectTimeout)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            KafkaClientChannelHandler(endpoint: endpoint, maximumFrameSize: maximumFrameSize)
                        )
                    }
                }
                .connect(host: host, port: port)
                .get()
        } catch {
            throw connectError(error, host: host, port: port, timeout: options.connectTimeout)
        }
        let bare = KafkaConnection(
            host: host, port: port, options: options, channel: channel, apiVersions: [:], apiVersionsVersion: nil)
        guard options.negotiateApiVersions else { return bare }
        do {
            let (version, response) = try await bare.negotiateApiVersions()
            var ranges: [ApiKey: ClosedRange<Int16>] = [:]
            for entry in response.apiKeys {
                guard let key = ApiKey(rawValue: entry.apiKey), entry.minVersion <= entry.maxVersion else { continue }
                ranges[key] = entry.minVersion...entry.maxVersion
            }
            logger?.debug("connected to \(endpoint), ApiVersions v\(version), \(ranges.count) APIs")
            return KafkaConnection(
                host: host, port: port, options: options, channel: channel, apiVersions: ranges,
                apiVersionsVersion: version)
        } catch {
            await bare.close()
            throw error
        }
    }

    /// Connects to "host:port".
    public static func connect(
        _ address: String,
        options: Options = Options(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> KafkaConnection {
        let server = try BrokerAddress.parse(address)
        return try await connect(host: server.host, port: server.port, options: options, eventLoopGroup: eventLoopGroup)
    }

    /// ApiVersions at the highest version this build knows; on UNSUPPORTED_VERSION, which a broker answers
    /// in v0 format with its own ApiVersions range (KIP-511), again at the highest version both know.
    private func negotiateApiVersions() async throws -> (Int16, ApiVersionsResponse) {
        let request = ApiVersionsRequest(
            clientSoftwareName: options.softwareName, clientSoftwareVersion: options.softwareVersion)
        var version = ApiVersionsRequest.validVersions.upperBound
        for _ in 0..<3 {
            let response = try await sendApiVersions(request, version: version)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code == .none { return (version, response) }
            guard code == .unsupportedVersion else {
                throw KafkaClientError.kafka(code, nil, context: "ApiVersions v\(version) to \(endpoint)")
            }
            let brokerRange = response.apiKeys.first { $0.apiKey == ApiKey.apiVersions.rawValue }
            let next = min(version - 1, brokerRange?.maxVersion ?? 0)
            guard next >= 0, next < version, brokerRange.map({ $0.minVersion <= next }) ?? true else {
                throw KafkaClientError(
                    .unsupportedVersion,
                    "\(endpoint) supports no ApiVersions version this client knows (\(ApiVersionsRequest.validVersions))",
                    errorCode: code)
            }
            version = next
        }
        throw KafkaClientError(.protocolError, "\(endpoint) kept refusing ApiVersions")
    }

    /// ApiVersions answers an unsupported version in v0 format, so the error code (first in every
    /// version) is peeked before the body is read at the request's version.
    private func sendApiVersions(_ request: ApiVersionsRequest, version: Int16) async throws -> ApiVersionsResponse {
        var frame: ByteBuffer
        do {
            frame = try await roundTrip(request, version: version)
        } catch let error as KafkaClientError where error.kind == .connectionClosed && !error.message.contains("listener") {
            // Closed before the first request was even written: a peer that hangs up at once (a
            // ZooKeeper port, for one) is as likely as a broker going away.
            throw KafkaClientError(
                .connectionClosed,
                "\(error.message); is \(endpoint) a Kafka broker's listener (not, e.g., a ZooKeeper port)? Check --bootstrap-server")
        }
        do {
            _ = try ResponseHeader.read(from: &frame, apiKey: .apiVersions, apiVersion: version)
            let code = frame.getInteger(at: frame.readerIndex, as: Int16.self)
            let bodyVersion = code == KafkaErrorCode.unsupportedVersion.rawValue ? 0 : version
            return try ApiVersionsResponse.decode(from: &frame, version: bodyVersion)
        } catch {
            throw KafkaClientError(
                .notKafka,
                "\(endpoint) answered ApiVersions with bytes that are not a Kafka response (\(error)); is it a Kafka broker's listener?")
        }
    }

    // MARK: Sending

    /// Sends `request` at `version` and waits for its response.
    public func send<Request: KafkaRequest>(_ request: Request, version: Int16) async throws -> Request.Response {
        guard Request.validVersions.contains(version) else {
            throw KafkaClientError(
                .unsupportedVersion,
                "\(Request.apiKey.name) v\(version) is not a version this client can encode (\(Request.validVersions))")
        }
        var frame = try await roundTrip(request, version: version)
        do {
            _ = try ResponseHeader.read(from: &frame, apiKey: Request.apiKey, apiVersion: version)
            return try Request.Response.decode(from: &frame, version: version)
        } catch {
            throw KafkaClientError(
                .protocolError, "cannot read \(endpoint)'s response to \(Request.apiKey.name) v\(version): \(error)")
        }
    }

    /// Sends `request` at the highest version both sides support (within `versions` when given).
    public func send<Request: KafkaRequest>(
        _ request: Request,
        versions: ClosedRange<Int16>? = nil
    ) async throws -> Request.Response {
        try await send(request, version: version(for: Request.self, within: versions))
    }

    /// Sends a request that gets no response (Produce with acks=0); returns once it is written.
    public func sendWithoutResponse<Request: KafkaRequest>(_ request: Request, version: Int16) async throws {
        _ = try await roundTrip(request, version: version, expectsResponse: false)
    }

    /// The highest version of `Request` that this client, the broker (from ApiVersions) and `within`
    /// all allow.
    public func version<Request: KafkaRequest>(
        for type: Request.Type,
        within: ClosedRange<Int16>? = nil
    ) throws -> Int16 {
        try Self.highestCommonVersion(
            api: Request.apiKey, client: Request.validVersions, broker: apiVersions[Request.apiKey],
            within: within, negotiated: apiVersionsVersion != nil, endpoint: endpoint)
    }

    /// The version choice behind `version(for:within:)`, as a pure function.
    public static func highestCommonVersion(
        api: ApiKey,
        client: ClosedRange<Int16>,
        broker: ClosedRange<Int16>?,
        within: ClosedRange<Int16>? = nil,
        negotiated: Bool = true,
        endpoint: String = "the broker"
    ) throws -> Int16 {
        guard negotiated else {
            throw KafkaClientError(
                .unsupportedVersion, "no ApiVersions answer from \(endpoint); give \(api.name) an explicit version")
        }
        guard let broker else {
            throw KafkaClientError(.unsupportedVersion, "\(endpoint) does not support \(api.name)")
        }
        let lower = max(client.lowerBound, broker.lowerBound, within?.lowerBound ?? .min)
        let upper = min(client.upperBound, broker.upperBound, within?.upperBound ?? .max)
        guard lower <= upper else {
            let wanted = within.map { "\($0)" } ?? "\(client)"
            throw KafkaClientError(
                .unsupportedVersion,
                "\(endpoint) supports \(api.name) versions \(broker), this client \(wanted): no common version")
        }
        return upper
    }

    /// Writes the request frame and waits for the response frame (header + body).
    private func roundTrip<Request: KafkaRequest>(
        _ request: Request,
        version: Int16,
        expectsResponse: Bool = true
    ) async throws -> ByteBuffer {
        var frame = channel.allocator.buffer(capacity: 128)
        // The handler sets the correlation id when the frame goes out, so ids follow the write order.
        frame.writeKafkaRequest(request, version: version, correlationId: 0, clientId: options.clientId)
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        let pending = PendingRequest(
            frame: frame, apiKey: Request.apiKey, apiVersion: version, expectsResponse: expectsResponse,
            timeout: options.requestTimeout, promise: promise)
        channel.writeAndFlush(pending).whenFailure { error in
            promise.fail(KafkaClientError(.connectionClosed, "cannot send \(Request.apiKey.name) to \(self.endpoint): \(error)"))
        }
        return try await promise.futureResult.get()
    }

    // MARK: Closing

    /// Closes the connection; waiting requests fail with `.connectionClosed`.
    public func close() async {
        try? await channel.close()
    }

    /// Whether the connection is still open.
    public var isActive: Bool { channel.isActive }

    // MARK: Errors

    static func endpoint(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// A connect failure in words: refused, timed out, or a host that does not resolve.
    static func connectError(_ error: any Error, host: String, port: Int, timeout: TimeAmount) -> KafkaClientError {
        let endpoint = endpoint(host: host, port: port)
        var causes: [any Error] = [error]
        if let connection = error as? NIOConnectionError {
            if connection.connectionErrors.isEmpty, connection.dnsAError != nil || connection.dnsAAAAError != nil {
                return KafkaClientError(
                    .unknownHost, "cannot resolve host \(host) (from \(endpoint)); check --bootstrap-server")
            }
            causes = connection.connectionErrors.map(\.error)
        }
        for cause in causes {
            if let io = cause as? IOError, io.errnoCode == ECONNREFUSED {
                return KafkaClientError(
                    .connectionRefused,
                    "connection to \(endpoint) refused: no Kafka broker listens there; check --bootstrap-server")
            }
            if case ChannelError.connectTimeout = cause {
                let seconds = Double(timeout.nanoseconds) / 1e9
                return KafkaClientError(
                    .connectTimeout,
                    "connection to \(endpoint) timed out after \(seconds) s; check --bootstrap-server and the network")
            }
        }
        return KafkaClientError(.connectionClosed, "cannot connect to \(endpoint): \(error)")
    }
}
