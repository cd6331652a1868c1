import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Listens on one address and serves Kafka's protocol: frames (refused above `maxFrameSize` before
/// they are buffered) go to `process`, answers go back in request order.
final class SocketServer: Sendable {
    let channel: any Channel
    /// The port actually bound (differs from the configured one when that was 0).
    let port: Int

    static func bind(
        host: String, port: Int, group: any EventLoopGroup, maxFrameSize: Int, logger: Logger,
        process: @escaping @Sendable (ByteBuffer, ConnectionInfo, Turn) async -> RequestOutcome
    ) async throws -> SocketServer {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.autoRead, value: true)
            // Produce requests are often ~1 MiB: reading up to that much at once spares the frame
            // decoder from gathering many 64 KiB reads by copying.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 1 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: maxFrameSize)))
                    try channel.pipeline.syncOperations.addHandler(RequestChannelHandler(logger: logger, process: process))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return SocketServer(channel: channel, port: channel.localAddress?.port ?? port)
    }

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    func close() async {
        try? await channel.close()
    }
}
