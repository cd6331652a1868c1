import KafkaProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct FrameDecoderTests {
    /// NIO's verifier feeds the frames byte by byte, all at once, and in other splits.
    @Test func dripFeed() throws {
        let payloads: [[UInt8]] = [[], [1], Array(0..<200), [0xFF, 0xFE, 0xFD]]
        let pairs = payloads.map { payload -> (ByteBuffer, [ByteBuffer]) in
            var frame = ByteBuffer()
            frame.writeKafkaFrame { $0.writeBytes(payload) }
            return (frame, [ByteBuffer(bytes: payload)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            KafkaFrameDecoder(maximumFrameSize: 1000)
        }
    }

    @Test func partialFrameLeavesTheBufferAlone() throws {
        let decoder = KafkaFrameDecoder()
        var buffer = hexBuffer("00000005 0102")
        #expect(try decoder.nextFrame(from: &buffer) == nil)
        #expect(buffer == hexBuffer("00000005 0102"))
        var sizeOnly = hexBuffer("0000")
        #expect(try decoder.nextFrame(from: &sizeOnly) == nil)
        #expect(sizeOnly.readableBytes == 2)
    }

    /// An oversize or negative size is refused from the four size bytes alone, and the pipeline sees the
    /// error (the server closes the connection on it).
    @Test func oversizeAndNegativeFramesAreRefused() throws {
        for sizeBytes in ["000003e9", "ffffffff", "80000000"] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 1000)))
            do {
                try channel.writeInbound(hexBuffer(sizeBytes))
                Issue.record("\(sizeBytes) accepted")
            } catch let error as ProtocolError {
                #expect(error.kind == .invalidFrameSize)
            }
            #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
            _ = try? channel.finish()
        }
        // Exactly the maximum is fine.
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maximumFrameSize: 3)))
        try channel.writeInbound(hexBuffer("00000003 010203"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == hexBuffer("010203"))
        #expect(try channel.finish().isClean)
    }

    @Test func encoderPrefixesTheSize() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(KafkaFrameEncoder()))
        try channel.writeOutbound(hexBuffer("0a0b"))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == hexBuffer("00000002 0a0b"))
        #expect(try channel.finish().isClean)
    }
}

@Suite struct HeaderTests {
    @Test func headerVersionRules() {
        #expect(ApiKey.metadata.requestHeaderVersion(for: 8) == 1)
        #expect(ApiKey.metadata.requestHeaderVersion(for: 9) == 2)
        #expect(ApiKey.metadata.responseHeaderVersion(for: 8) == 0)
        #expect(ApiKey.metadata.responseHeaderVersion(for: 9) == 1)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(for: 0) == 0)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(for: 1) == 1)
        #expect(ApiKey.controlledShutdown.requestHeaderVersion(for: 3) == 2)
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 3) == 2)
        #expect(ApiKey.apiVersions.requestHeaderVersion(for: 4) == 2)  // beyond what we know: still flexible
        for version: Int16 in 0...4 { #expect(ApiKey.apiVersions.responseHeaderVersion(for: version) == 0) }
        #expect(ApiKey.saslHandshake.requestHeaderVersion(for: 1) == 1)  // never flexible
        #expect(ApiKey.describeCluster.requestHeaderVersion(for: 0) == 2)  // always flexible
        #expect(ApiKey.produce.rawValue == 0 && ApiKey.alterPartition.rawValue == 56)
        #expect(ApiKey.describeProducers.rawValue == 61)
        #expect(ApiKey.apiVersions.description == "ApiVersions (18)")
    }

    @Test func unknownApiKeyIsReadAsHeaderV1() throws {
        var buffer = hexBuffer("03e7 0001 0000002a 0003 616263  ffff")
        let header = try RequestHeader.read(from: &buffer)
        #expect(header.apiKey == nil && header.requestApiKey == 999)
        #expect(header.correlationId == 42 && header.clientId == "abc")
        #expect(buffer == hexBuffer("ffff"))
    }

    @Test func truncatedHeadersThrow() {
        let frame = requestFrame(MetadataRequest(), version: 9, correlationId: 1, clientId: "client")
        let header = frame.getSlice(at: 4, length: 2 + 2 + 4 + 8 + 1) ?? ByteBuffer()
        for length in 0..<header.readableBytes {
            var prefix = header.getSlice(at: 0, length: length) ?? ByteBuffer()
            #expect(throws: ProtocolError.self, "cut at \(length)") { try RequestHeader.read(from: &prefix) }
        }
    }

    @Test func responseHeaders() throws {
        var v1 = responseFrame(MetadataResponse(), version: 9, correlationId: 3)
        v1.moveReaderIndex(forwardBy: 4)
        #expect(v1.getBytes(at: v1.readerIndex, length: 5) == [0, 0, 0, 3, 0])  // correlation id + empty tags
        #expect(try ResponseHeader.read(from: &v1, apiKey: .metadata, apiVersion: 9).correlationId == 3)
    }
}
