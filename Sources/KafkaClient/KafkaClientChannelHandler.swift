import KafkaProtocol
import NIOCore

/// One request on its way to the channel: a whole frame whose correlation id the handler fills in, and
/// the promise that gets the response frame (response header + body, without the size prefix).
struct PendingRequest: Sendable {
    var frame: ByteBuffer
    var apiKey: ApiKey
    var apiVersion: Int16
    /// False for Produce with acks=0: the broker sends nothing back, so the promise completes once written.
    var expectsResponse: Bool
    var timeout: TimeAmount?
    var promise: EventLoopPromise<ByteBuffer>
}

/// Frames, correlation ids and in-flight matching for one client connection. Kafka brokers answer a
/// connection's requests strictly in order, so responses are matched to the oldest in-flight request and
/// the correlation id is only checked. Any failure (a timeout, a bad frame, a mismatch, the peer going
/// away) fails every waiting request and closes the channel: after that the stream cannot be trusted.
final class KafkaClientChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = PendingRequest
    typealias OutboundOut = ByteBuffer

    private struct InFlight {
        var correlationId: Int32
        var apiKey: ApiKey
        var apiVersion: Int16
        var promise: EventLoopPromise<ByteBuffer>
        var timeoutTask: Scheduled<Void>?
    }

    /// The offset of the correlation id in a request frame: size (4), api key (2), api version (2).
    static let correlationIdOffset = 8

    private let endpoint: String
    private let decoder: KafkaFrameDecoder
    private var inFlight = CircularBuffer<InFlight>()
    private var nextCorrelationId: Int32 = 0
    private var received = ByteBuffer()
    private var receivedAnything = false
    private var failure: KafkaClientError?
    private var context: ChannelHandlerContext?

    init(endpoint: String, maximumFrameSize: Int) {
        self.endpoint = endpoint
        self.decoder = KafkaFrameDecoder(maximumFrameSize: maximumFrameSize)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        fail(KafkaClientError(.connectionClosed, "the connection to \(endpoint) was closed"), context: nil)
        self.context = nil
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        let correlationId = nextCorrelationId
        nextCorrelationId = correlationId == .max ? 0 : correlationId + 1
        request.frame.setInteger(correlationId, at: request.frame.readerIndex + Self.correlationIdOffset)

        guard request.expectsResponse else {
            let requestPromise = request.promise
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { result in
                switch result {
                case .success: requestPromise.succeed(ByteBuffer())
                case .failure(let error): requestPromise.fail(error)
                }
            }
            written.futureResult.cascade(to: promise)
            context.write(wrapOutboundOut(request.frame), promise: written)
            return
        }

        var timeoutTask: Scheduled<Void>?
        if let timeout = request.timeout {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let api = "\(request.apiKey.name) v\(request.apiVersion)"
            timeoutTask = context.eventLoop.scheduleTask(in: timeout) {
                handler.value.timedOut(correlationId: correlationId, api: api, after: timeout)
            }
        }
        inFlight.append(
            InFlight(
                correlationId: correlationId,
                apiKey: request.apiKey,
                apiVersion: request.apiVersion,
                promise: request.promise,
                timeoutTask: timeoutTask
            )
        )
        context.write(wrapOutboundOut(request.frame), promise: promise)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if failure != nil { return }
        if !receivedAnything, let notKafka = Self.recognizeForeignProtocol(bytes, endpoint: endpoint) {
            fail(notKafka, context: context)
            return
        }
        receivedAnything = true
        received.writeBuffer(&bytes)
        while true {
            let frame: ByteBuffer?
            do {
                frame = try decoder.nextFrame(from: &received)
            } catch {
                fail(
                    KafkaClientError(
                        .notKafka,
                        "\(endpoint) sent a response frame that Kafka would not send (\(error.message)); is it a Kafka broker's listener?"
                    ),
                    context: context
                )
                return
            }
            guard let frame else { break }
            deliver(frame, context: context)
            if failure != nil { return }
        }
        // Keep the accumulation buffer small once everything in it has been handed out.
        if received.readableBytes == 0 { received.clear() } else if received.readerIndex > 65536 { received.discardReadBytes() }
    }

    private func deliver(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        guard let next = inFlight.popFirst() else {
            fail(KafkaClientError(.protocolError, "\(endpoint) sent a response to no request"), context: context)
            return
        }
        next.timeoutTask?.cancel()
        guard let correlationId = frame.getInteger(at: frame.readerIndex, as: Int32.self) else {
            let error = KafkaClientError(.protocolError, "\(endpoint) sent a \(frame.readableBytes)-byte response to \(next.apiKey.name) v\(next.apiVersion), too short for a response header")
            next.promise.fail(error)
            fail(error, context: context)
            return
        }
        guard correlationId == next.correlationId else {
            let error = KafkaClientError(
                .protocolError,
                "\(endpoint) answered \(next.apiKey.name) v\(next.apiVersion) with correlation id \(correlationId), expected \(next.correlationId)"
            )
            next.promise.fail(error)
            fail(error, context: context)
            return
        }
        next.promise.succeed(frame)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let waiting = inFlight.first.map { " while waiting for the response to \($0.apiKey.name) v\($0.apiVersion)" } ?? ""
        var message = "\(endpoint) closed the connection\(waiting)"
        if !receivedAnything, !inFlight.isEmpty {
            // A ZooKeeper server, for one, reads a Kafka request as a malformed session request and hangs up.
            message += "; is \(endpoint) a Kafka broker's listener (not, e.g., a ZooKeeper port)? Check --bootstrap-server"
        }
        fail(KafkaClientError(.connectionClosed, message), context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(KafkaClientError(.connectionClosed, "the connection to \(endpoint) failed: \(error)"), context: context)
    }

    // MARK: Failure

    private func timedOut(correlationId: Int32, api: String, after timeout: TimeAmount) {
        guard inFlight.contains(where: { $0.correlationId == correlationId }) else { return }
        let seconds = Double(timeout.nanoseconds) / 1e9
        var message = "\(api) to \(endpoint) timed out after \(seconds) s"
        if !receivedAnything { message += "; is \(endpoint) a Kafka broker's listener? Check --bootstrap-server" }
        fail(KafkaClientError(.requestTimedOut, message), context: context)
    }

    /// Fails every waiting request and closes the channel; later writes fail with the same error.
    private func fail(_ error: KafkaClientError, context: ChannelHandlerContext?) {
        if failure == nil { failure = error }
        while let next = inFlight.popFirst() {
            next.timeoutTask?.cancel()
            next.promise.fail(error)
        }
        context?.close(promise: nil)
    }

    /// A first reply that is plainly another protocol (HTTP, TLS, SSH), named so the operator sees what
    /// the port is. ZooKeeper is recognized by its silence instead (see `channelInactive`).
    static func recognizeForeignProtocol(_ bytes: ByteBuffer, endpoint: String) -> KafkaClientError? {
        guard let first = bytes.getBytes(at: bytes.readerIndex, length: min(4, bytes.readableBytes)), first.count == 4 else {
            return nil
        }
        let name: String? =
            switch first {
            case Array("HTTP".utf8): "an HTTP server"
            case Array("SSH-".utf8): "an SSH server"
            case _ where first[0] == 0x15 && first[1] == 0x03: "a TLS endpoint"
            default: nil
            }
        guard let name else { return nil }
        return KafkaClientError(.notKafka, "\(endpoint) is \(name), not a Kafka broker; check --bootstrap-server")
    }
}
