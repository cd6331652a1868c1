import KafkaStorage
import Logging
import NIOCore

/// What a request turns into on its connection.
public enum RequestOutcome: Sendable {
    /// A whole response frame to send.
    case respond(ByteBuffer)
    /// A response frame in parts, some of them ranges of segment files sent with sendfile (Fetch).
    case respondParts([ResponsePart])
    /// Nothing to send (a Produce with acks=0).
    case noResponse
    /// Close the connection: the request could not be parsed, or Kafka closes here (acks=0 errors).
    case close(reason: String)
}

/// Takes request frames off one connection, hands each to the processor as its own task, and writes
/// the answers back strictly in request order (Kafka's clients match responses to requests by
/// position as well as correlation id), however the tasks finish. Requests take effect in order
/// (see `Turn`). At most `maxInFlight` requests are
/// processed at once per connection; beyond that the connection stops reading, so a client that
/// pipelines without limit cannot make the broker buffer without limit.
final class RequestChannelHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = IOData

    private let process: @Sendable (ByteBuffer, ConnectionInfo, Turn) async -> RequestOutcome
    private let logger: Logger
    private let maxInFlight: Int
    // Event-loop state: the sequence number of the next request read and of the next answer to write,
    // and the answers that finished early.
    private var nextRequest = 0
    private var nextAnswer = 0
    private var finished: [Int: RequestOutcome] = [:]
    private var readPending = false
    private var closing = false
    private var connection = ConnectionInfo(remote: "unknown")
    // The turn of the request read last: the next one waits for it to end.
    private var lastTurn: Turn?

    init(maxInFlight: Int = 64, logger: Logger, process: @escaping @Sendable (ByteBuffer, ConnectionInfo, Turn) async -> RequestOutcome) {
        self.process = process
        self.logger = logger
        self.maxInFlight = maxInFlight
    }

    func channelActive(context: ChannelHandlerContext) {
        connection = ConnectionInfo(
            remote: context.remoteAddress.map { "\($0)" } ?? "unknown", host: context.remoteAddress?.ipAddress ?? "unknown")
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let frame = unwrapInboundIn(data)
        let sequence = nextRequest
        nextRequest += 1
        let loop = context.eventLoop
        let process = self.process
        let connection = self.connection
        let box = NIOLoopBound((self, context), eventLoop: loop)
        let previous = lastTurn
        let turn = Turn()
        lastTurn = turn
        Task {
            await previous?.waitUntilEnded()
            let outcome = await process(frame, connection, turn)
            turn.end()
            loop.execute {
                let (handler, context) = box.value
                handler.finish(sequence, outcome, context: context)
            }
        }
    }

    private func finish(_ sequence: Int, _ outcome: RequestOutcome, context: ChannelHandlerContext) {
        finished[sequence] = outcome
        var wrote = false
        while !closing, let next = finished.removeValue(forKey: nextAnswer) {
            nextAnswer += 1
            switch next {
            case .respond(let frame):
                context.write(wrapOutboundOut(.byteBuffer(frame)), promise: nil)
                wrote = true
            case .respondParts(let parts):
                for part in parts { write(part, context: context) }
                wrote = true
            case .noResponse:
                break
            case .close(let reason):
                logger.info("closing connection from \(connection.remote): \(reason)")
                closing = true
                if wrote { context.flush() }
                context.close(promise: nil)
                return
            }
        }
        if wrote { context.flush() }
        if readPending && nextRequest - nextAnswer < maxInFlight {
            readPending = false
            context.read()
        }
    }

    private func write(_ part: ResponsePart, context: ChannelHandlerContext) {
        switch part {
        case .bytes(let buffer):
            context.write(wrapOutboundOut(.byteBuffer(buffer)), promise: nil)
        case .file(let file, let position, let length):
            // The handle owns a duplicate of the segment's descriptor, closed once sent; the segment's
            // own stays with storage.
            guard let descriptor = try? file.duplicateDescriptor() else {
                logger.error("cannot duplicate the descriptor of \(file.path); closing the connection")
                closing = true
                context.close(promise: nil)
                return
            }
            let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
            let region = FileRegion(fileHandle: handle, readerIndex: position, endIndex: position + length)
            let promise = context.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { _ in try? handle.close() }
            context.write(wrapOutboundOut(.fileRegion(region)), promise: promise)
        }
    }

    // Holds reads back while too many requests are in flight.
    func read(context: ChannelHandlerContext) {
        if nextRequest - nextAnswer >= maxInFlight {
            readPending = true
        } else {
            context.read()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The frame decoder refuses a bad size before buffering the frame; Kafka closes the connection.
        logger.info("closing connection from \(connection.remote): \(error)")
        closing = true
        context.close(promise: nil)
    }
}

/// A piece of a response frame: bytes, or a range of a file sent without copying it through memory.
public enum ResponsePart: Sendable {
    case bytes(ByteBuffer)
    /// A byte range of a segment file.
    case file(LogFile, position: Int, length: Int)
}

/// Who is on the other end of a connection, for logs and handlers.
public struct ConnectionInfo: Sendable {
    public var remote: String
    /// The peer's IP address alone (consumer groups report it as the member's host).
    public var host: String = "unknown"
}
