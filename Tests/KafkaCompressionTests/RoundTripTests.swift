import KafkaCompression
import Testing

@Suite struct CodecBasicsTests {
    @Test func attributesSelectTheLowThreeBits() {
        #expect(CompressionCodec(attributes: 0) == CompressionCodec.none)
        #expect(CompressionCodec(attributes: 1) == .gzip)
        #expect(CompressionCodec(attributes: 2) == .snappy)
        #expect(CompressionCodec(attributes: 3) == .lz4)
        #expect(CompressionCodec(attributes: 4) == .zstd)
        for unassigned: Int16 in 5...7 { #expect(CompressionCodec(attributes: unassigned) == nil) }
        // Timestamp type (bit 3), transactional (bit 4) and control (bit 5) do not matter.
        #expect(CompressionCodec(attributes: 0x0038 | 3) == .lz4)
        #expect(CompressionCodec(attributes: -1) == nil)
    }

    @Test func kafkaNames() {
        #expect(CompressionCodec.allCases.map(\.name) == ["none", "gzip", "snappy", "lz4", "zstd"])
        #expect(CompressionCodec.allCases.map(\.rawValue) == [0, 1, 2, 3, 4])
    }

    @Test func errorDescriptionsNameCodecAndProblem() {
        let tooLarge = CompressionError(codec: .zstd, kind: .outputTooLarge(limit: 1024))
        #expect(tooLarge.description.contains("zstd"))
        #expect(tooLarge.description.contains("1024"))
        let corrupt = CompressionError(codec: .snappy, kind: .corrupt("bad block"))
        #expect(corrupt.description.contains("snappy"))
        #expect(corrupt.description.contains("bad block"))
    }
}

@Suite struct RoundTripTests {
    static let codecs = CompressionCodec.allCases

    private func roundTrip(_ codec: CompressionCodec, _ input: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let compressed = try codec.compress(input)
        let decoded = try codec.decompress(compressed, limit: input.count)
        #expect(decoded == input, "\(codec.name), \(input.count) bytes", sourceLocation: sourceLocation)
        // The pointer entry points agree with the array ones.
        let viaPointers = try input.withUnsafeBytes { try codec.compress($0) }
        let decodedViaPointers = try viaPointers.withUnsafeBytes { try codec.decompress($0, limit: input.count) }
        #expect(decodedViaPointers == input, sourceLocation: sourceLocation)
    }

    @Test(arguments: codecs) func empty(codec: CompressionCodec) throws {
        try roundTrip(codec, [])
    }

    @Test(arguments: codecs) func small(codec: CompressionCodec) throws {
        try roundTrip(codec, [0x42])
        try roundTrip(codec, Array("hello, kafka".utf8))
        var random = SplitMix64(state: 7)
        for size in [3, 100, 4095, 32 * 1024 - 1, 32 * 1024, 32 * 1024 + 1, 64 * 1024, 64 * 1024 + 1] {
            try roundTrip(codec, random.bytes(size))
        }
    }

    @Test(arguments: codecs) func oneMebibyteRandom(codec: CompressionCodec) throws {
        var random = SplitMix64(state: 1)
        try roundTrip(codec, random.bytes(1 << 20))
    }

    @Test(arguments: codecs) func oneMebibyteRepetitive(codec: CompressionCodec) throws {
        let input = repetitiveBytes(1 << 20)
        try roundTrip(codec, input)
        if codec != .none {
            #expect(try codec.compress(input).count < input.count / 10)
        }
    }

    /// A limit equal to the output size is fine; one byte less is refused.
    @Test(arguments: codecs) func limitIsInclusive(codec: CompressionCodec) throws {
        let input = repetitiveBytes(100_000)
        let compressed = try codec.compress(input)
        #expect(try codec.decompress(compressed, limit: input.count) == input)
        let kind = expectCompressionError(codec) { try codec.decompress(compressed, limit: input.count - 1) }
        #expect(kind == .outputTooLarge(limit: input.count - 1))
        #expect(try codec.decompress(try codec.compress([]), limit: 0) == [])
    }

    @Test func gzipWritesAGzipHeader() throws {
        let compressed = try CompressionCodec.gzip.compress(Array("x".utf8))
        #expect(Array(compressed.prefix(3)) == [0x1F, 0x8B, 0x08])
    }

    @Test func zstdWritesAStandardFrame() throws {
        let compressed = try CompressionCodec.zstd.compress(repetitiveBytes(1000))
        #expect(Array(compressed.prefix(4)) == [0x28, 0xB5, 0x2F, 0xFD])
    }
}
