import Foundation
import KafkaCompression
import Testing

/// Payloads written by the codec libraries a real client (kafka-python) uses; see ClientPayloads.swift.
@Suite struct ClientPayloadTests {
    static let plaintext = clientPlaintext()

    @Test func plaintextMatchesTheGenerator() {
        #expect(Self.plaintext.count == ClientPayloads.plaintextCount)
    }

    @Test(arguments: ClientPayloads.all) func decodesToThePlaintext(payload: ClientPayload) throws {
        let compressed = decodeBase64(payload.base64)
        let decoded = try payload.codec.decompress(compressed, limit: ClientPayloads.plaintextCount)
        #expect(decoded == Self.plaintext, "\(payload.name) (\(payload.origin))")
        let kind = expectCompressionError(payload.codec) {
            try payload.codec.decompress(compressed, limit: ClientPayloads.plaintextCount - 1)
        }
        #expect(kind == .outputTooLarge(limit: ClientPayloads.plaintextCount - 1))
    }

    @Test func bothSnappyFramingsAreRead() throws {
        let xerial = decodeBase64(ClientPayloads.snappyXerial.base64)
        let raw = decodeBase64(ClientPayloads.snappyRaw.base64)
        #expect(Array(xerial.prefix(8)) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00])
        #expect(Array(raw.prefix(8)) != Array(xerial.prefix(8)))
        #expect(try CompressionCodec.snappy.decompress(xerial, limit: 1 << 20) == Self.plaintext)
        #expect(try CompressionCodec.snappy.decompress(raw, limit: 1 << 20) == Self.plaintext)
    }

    @Test func zstdFramesWithoutContentSize() throws {
        for payload in [ClientPayloads.zstdNoContentSize, ClientPayloads.zstdStreamed] {
            let frame = decodeBase64(payload.base64)
            // Frame_Header_Descriptor: FCS flag 0 and not single-segment means no content size field.
            #expect(frame[4] & 0xE0 == 0, "\(payload.name) should lack the content size")
            #expect(try CompressionCodec.zstd.decompress(frame, limit: 1 << 20) == Self.plaintext)
        }
    }

    /// The record batches in KafkaRecordsTests/Fixtures: every compressed batch's payload decodes to the
    /// records section of the uncompressed batch with the same records.
    @Test(arguments: ["", "-big"]) func kafkaPythonBatches(suffix: String) throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("KafkaRecordsTests/Fixtures")
        func load(_ name: String) throws -> [UInt8] {
            let url = fixtures.appendingPathComponent(name + ".bin")
            return [UInt8](try Data(contentsOf: url))
        }
        let headerSize = 61
        let records = Array(try load("kafka-python-none" + suffix).dropFirst(headerSize))
        for name in ["gzip", "snappy", "lz4", "zstd"].map({ "kafka-python-\($0)" }) + ["raw-snappy"] {
            let batch = try load(name + suffix)
            let attributes = Int16(batch[21]) << 8 | Int16(batch[22])
            let codec = try #require(CompressionCodec(attributes: attributes))
            #expect(codec != .none)
            let payload = Array(batch.dropFirst(headerSize))
            #expect(try codec.decompress(payload, limit: records.count) == records, "\(name)\(suffix)")
        }
    }
}
