import KafkaClient
import KafkaModel
import KafkaProtocol
import NIOCore
import NIOPosix
import Synchronization
import TestSupport
import Testing

// Connection mechanics (framing, correlation, pipelining, the ApiVersions fallback, timeouts, error
// texts) against a scripted peer. What the client does against the real broker is in ClientBrokerTests.

@Suite struct ClientConnectionTests {
    @Test func parsesBootstrapServers() throws {
        #expect(try BrokerAddress.parseList("localhost:9092") == [BrokerAddress(host: "localhost", port: 9092)])
        #expect(
            try BrokerAddress.parseList(" a:1, [::1]:2 ,") == [
                BrokerAddress(host: "a", port: 1), BrokerAddress(host: "::1", port: 2),
            ])
        #expect(BrokerAddress(host: "::1", port: 2).description == "[::1]:2")
        for bad in ["localhost", "localhost:", ":9092", "h:0", "h:70000", "h:x", ""] {
            #expect(throws: KafkaClientError.self) { try BrokerAddress.parseList(bad) }
        }
    }

    @Test func choosesTheHighestCommonVersion() throws {
        #expect(try KafkaConnection.highestCommonVersion(api: .metadata, client: 0...12, broker: 0...8) == 8)
        #expect(try KafkaConnection.highestCommonVersion(api: .metadata, client: 0...12, broker: 0...8, within: 1...4) == 4)
        #expect(throws: KafkaClientError.self) {
            try KafkaConnection.highestCommonVersion(api: .fetch, client: 4...16, broker: 0...3)
        }
        #expect(throws: KafkaClientError.self) {
            try KafkaConnection.highestCommonVersion(api: .fetch, client: 4...16, broker: nil)
        }
        #expect(throws: KafkaClientError.self) {
            try KafkaConnection.highestCommonVersion(api: .fetch, client: 4...16, broker: 4...11, within: 0...3)
        }
    }

    @Test func refusedConnectionNamesTheAddress() async throws {
        let port = try freePort()
        do {
            _ = try await KafkaConnection.connect(host: "127.0.0.1", port: port)
            Issue.record("connected to a closed port")
        } catch let error as KafkaClientError {
            #expect(error.kind == .connectionRefused)
            #expect(error.message.contains("127.0.0.1:\(port)"))
            #expect(error.message.contains("--bootstrap-server"))
        }
    }

    @Test func fallsBackFromApiVersions3AndNegotiates() async throws {
        // A broker that knows ApiVersions 0-2 only: v3 gets the KIP-511 answer in v0 format.
        let peer = try await ScriptedPeer.start { header, _ in
            if header.requestApiKey == ApiKey.apiVersions.rawValue {
                if header.requestApiVersion > 2 {
                    return ApiVersionsResponse.unsupportedVersionFrame(for: header, supportedVersions: 0...2)
                }
                return ScriptedPeer.frame(
                    ApiVersionsResponse(apiKeys: [
                        .init(apiKey: 18, minVersion: 0, maxVersion: 2), .init(apiKey: 3, minVersion: 0, maxVersion: 8),
                    ]), version: header.requestApiVersion, correlationId: header.correlationId)
            }
            return nil
        }
        defer { peer.stop() }
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: peer.port)
        defer { Task { await connection.close() } }
        #expect(connection.apiVersionsVersion == 2)
        #expect(connection.apiVersions[.metadata] == 0...8)
        #expect(try connection.version(for: MetadataRequest.self) == 8)
        #expect(throws: KafkaClientError.self) { try connection.version(for: FetchRequest.self) }
        #expect(peer.seenVersions(of: .apiVersions) == [3, 2])
    }

    @Test func pipelinedRequestsGetTheirOwnResponses() async throws {
        // Answers Metadata with the correlation id as the cluster id, three requests at a time, so that
        // several are in flight at once and arrive in one read.
        let peer = try await ScriptedPeer.start(batch: 3) { header, _ in
            if header.requestApiKey == ApiKey.apiVersions.rawValue { return ScriptedPeer.allVersions(header) }
            return ScriptedPeer.frame(
                MetadataResponse(clusterId: "c\(header.correlationId)", controllerId: header.correlationId),
                version: header.requestApiVersion, correlationId: header.correlationId)
        }
        defer { peer.stop() }
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: peer.port)
        defer { Task { await connection.close() } }
        let answers = try await withThrowingTaskGroup(of: (Int, MetadataResponse).self) { group in
            for index in 0..<9 {
                group.addTask { (index, try await connection.send(MetadataRequest(topics: []), version: 8)) }
            }
            var all: [(Int, MetadataResponse)] = []
            for try await answer in group { all.append(answer) }
            return all
        }
        #expect(answers.count == 9)
        #expect(Set(answers.map(\.1.controllerId)).count == 9)
        for (_, response) in answers { #expect(response.clusterId == "c\(response.controllerId)") }
    }

    @Test func wrongCorrelationIdFailsTheConnection() async throws {
        let peer = try await ScriptedPeer.start { header, _ in
            if header.requestApiKey == ApiKey.apiVersions.rawValue { return ScriptedPeer.allVersions(header) }
            return ScriptedPeer.frame(MetadataResponse(), version: 1, correlationId: header.correlationId + 7)
        }
        defer { peer.stop() }
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: peer.port)
        await #expect(throws: KafkaClientError.self) { try await connection.send(MetadataRequest(), version: 1) }
        // The stream cannot be trusted after that: the next request fails too.
        await #expect(throws: KafkaClientError.self) { try await connection.send(MetadataRequest(), version: 1) }
    }

    @Test func silentPeerTimesOut() async throws {
        let peer = try await ScriptedPeer.start { header, _ in
            header.requestApiKey == ApiKey.apiVersions.rawValue ? ScriptedPeer.allVersions(header) : nil
        }
        defer { peer.stop() }
        var options = KafkaConnection.Options()
        options.requestTimeout = .milliseconds(200)
        let connection = try await KafkaConnection.connect(host: "127.0.0.1", port: peer.port, options: options)
        do {
            _ = try await connection.send(MetadataRequest(), version: 1)
            Issue.record("no timeout")
        } catch let error as KafkaClientError {
            #expect(error.kind == .requestTimedOut)
            #expect(error.message.contains("Metadata v1"))
        }
    }

    @Test func httpServerIsNamed() async throws {
        let peer = try await ScriptedPeer.start { _, _ in
            var buffer = ByteBuffer()
            buffer.writeString("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return buffer
        }
        defer { peer.stop() }
        do {
            _ = try await KafkaConnection.connect(host: "127.0.0.1", port: peer.port)
            Issue.record("connected to an HTTP server")
        } catch let error as KafkaClientError {
            #expect(error.kind == .notKafka)
            #expect(error.message.contains("HTTP"))
        }
    }

    @Test func zooKeeperPortIsRecognized() async throws {
        let zooKeeper = try ZooKeeperEnsemble()
        defer { zooKeeper.stop() }
        let port = zooKeeper.servers[0].clientPort
        var options = KafkaConnection.Options()
        options.requestTimeout = .seconds(5)
        do {
            _ = try await KafkaConnection.connect(host: "127.0.0.1", port: port, options: options)
            Issue.record("connected to ZooKeeper as if it were Kafka")
        } catch let error as KafkaClientError {
            #expect(error.message.contains("127.0.0.1:\(port)"))
            #expect(error.message.contains("ZooKeeper") || error.message.contains("Kafka broker"), "\(error)")
        }
    }
}

final class RequestLog: Sendable {
    let headers = Mutex<[RequestHeader]>([])
}

/// A peer that reads Kafka request frames and answers each with whatever `answer` returns (nil: no
/// answer), holding answers until `batch` are ready so several go out in one write.
final class ScriptedPeer: Sendable {
    typealias Answer = @Sendable (RequestHeader, ByteBuffer) -> ByteBuffer?

    let channel: any Channel
    let port: Int
    private let log: RequestLog

    private init(channel: any Channel, log: RequestLog) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.log = log
    }

    static func start(batch: Int = 1, answer: @escaping Answer) async throws -> ScriptedPeer {
        let log = RequestLog()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(KafkaFrameDecoder()),
                        Handler(batch: batch, answer: answer, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return ScriptedPeer(channel: channel, log: log)
    }

    func stop() { channel.close(promise: nil) }

    func seenVersions(of key: ApiKey) -> [Int16] {
        log.headers.withLock { $0.filter { $0.requestApiKey == key.rawValue }.map(\.requestApiVersion) }
    }

    static func frame<Response: KafkaResponse>(_ response: Response, version: Int16, correlationId: Int32) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeKafkaResponse(response, version: version, correlationId: correlationId)
        return buffer
    }

    /// ApiVersions listing every API at this build's versions.
    static func allVersions(_ header: RequestHeader) -> ByteBuffer {
        frame(
            ApiVersionsResponse(
                apiKeys: ApiKey.allCases.map {
                    .init(apiKey: $0.rawValue, minVersion: $0.validVersions.lowerBound, maxVersion: $0.validVersions.upperBound)
                }),
            version: header.requestApiVersion, correlationId: header.correlationId)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let batch: Int
        let answer: Answer
        let log: RequestLog
        var held: [ByteBuffer] = []

        init(batch: Int, answer: @escaping Answer, log: RequestLog) {
            self.batch = batch
            self.answer = answer
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var frame = unwrapInboundIn(data)
            guard let header = try? RequestHeader.read(from: &frame) else { return context.close(promise: nil) }
            log.headers.withLock { $0.append(header) }
            // ApiVersions is answered at once; the rest in batches.
            guard let response = answer(header, frame) else { return }
            held.append(response)
            if held.count >= batch || header.requestApiKey == ApiKey.apiVersions.rawValue {
                var out = ByteBuffer()
                for var buffer in held { out.writeBuffer(&buffer) }
                held = []
                context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            }
        }
    }
}
