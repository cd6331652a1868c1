import NIOCore

/// Splits a byte stream into Kafka frames: each is an int32 size (not counting itself) followed by that
/// many bytes, a request (header + body) on a broker's connection, a response on a client's.
///
/// ```
/// +----------------+------------------------------+
/// | size: int32 BE | size bytes: header + body    |   -> one ByteBuffer (a slice, no copy)
/// +----------------+------------------------------+
/// ```
///
/// The size is peeked without moving the reader index, so a partial frame leaves the buffer as it was. A
/// negative size, or one above `maximumFrameSize` (Kafka's `socket.request.max.bytes`, 100 MiB by
/// default), throws `ProtocolError` (`.invalidFrameSize`) as soon as the four size bytes have arrived,
/// before anything is buffered for the frame; `ByteToMessageHandler` passes the error down the pipeline,
/// where the connection should be closed, as Kafka's `NetworkReceive` does.
public struct KafkaFrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer

    /// Kafka's default `socket.request.max.bytes`.
    public static let defaultMaximumFrameSize = 104_857_600

    public let maximumFrameSize: Int

    public init(maximumFrameSize: Int = KafkaFrameDecoder.defaultMaximumFrameSize) {
        self.maximumFrameSize = maximumFrameSize
    }

    /// The next whole frame in `buffer`, without its size prefix, or nil (buffer untouched) when it has
    /// not fully arrived.
    public func nextFrame(from buffer: inout ByteBuffer) throws(ProtocolError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self) else { return nil }
        guard size >= 0, Int(size) <= maximumFrameSize else {
            throw ProtocolError(.invalidFrameSize, "frame size \(size) is not within 0...\(maximumFrameSize)")
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try nextFrame(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Prefixes each outbound ByteBuffer with its int32 size. (To build a frame in place instead, without
/// the copy, use `ByteBuffer.writeKafkaFrame`, `writeKafkaRequest` or `writeKafkaResponse`.)
public struct KafkaFrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeKafkaFrame { $0.writeImmutableBuffer(data) }
    }
}
