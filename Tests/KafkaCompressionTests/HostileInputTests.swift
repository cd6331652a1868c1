import KafkaCompression
import Testing

/// Decompression bombs: 64 MiB of zeros per codec, decoded with a 1 MiB limit. The bombs are assembled
/// from small pieces (repeated blocks, members or frames), so neither the test nor the decoder ever holds
/// the 64 MiB.
@Suite struct DecompressionBombTests {
    static let limit = 1 << 20
    static let bombSize = 64 << 20

    private func expectRefused(_ codec: CompressionCodec, _ bomb: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let kind = expectCompressionError(codec, sourceLocation: sourceLocation) {
            try codec.decompress(bomb, limit: Self.limit)
        }
        #expect(kind == .outputTooLarge(limit: Self.limit), sourceLocation: sourceLocation)
    }

    @Test func none() {
        expectRefused(.none, [UInt8](repeating: 0, count: Self.limit + 1))
    }

    /// One gzip member of 8 MiB of zeros (embedded; its ISIZE trailer announces 8 MiB), and 1024
    /// concatenated members of 64 KiB of zeros each (whose last ISIZE understates the total).
    @Test func gzip() throws {
        let single = decodeBase64(ClientPayloads.gzipBomb)
        #expect(ClientPayloads.gzipBombZeros > Self.limit)
        expectRefused(.gzip, single)
        let member = try CompressionCodec.gzip.compress([UInt8](repeating: 0, count: 64 * 1024))
        expectRefused(.gzip, Array([[UInt8]](repeating: member, count: Self.bombSize / (64 * 1024)).joined()))
    }

    /// xerial: one compressed block of 32 KiB of zeros, 2048 times. Raw: a single block claiming 64 MiB.
    @Test func snappy() throws {
        let stream = try CompressionCodec.snappy.compress([UInt8](repeating: 0, count: 32 * 1024))
        let header = Array(stream.prefix(16))
        let block = Array(stream.dropFirst(16))  // length + raw block
        var bomb = header
        for _ in 0..<(Self.bombSize / (32 * 1024)) { bomb += block }
        expectRefused(.snappy, bomb)

        // varint(64 MiB), a 1-byte literal 0, then copies of 64 bytes at offset 1 (3 bytes each).
        var raw = snappyVarint(Self.bombSize) + [0x00, 0x00]
        let copies = (Self.bombSize - 1) / 64
        raw.reserveCapacity(raw.count + 3 * copies + 3)
        for _ in 0..<copies { raw += [0xFE, 0x01, 0x00] }
        let rest = (Self.bombSize - 1) % 64
        if rest > 0 { raw += [UInt8((rest - 1) << 2 | 2), 0x01, 0x00] }
        expectRefused(.snappy, raw)
        // The same block decodes when allowed (so the bomb really is valid snappy) -- checked on a small one.
        var small = snappyVarint(1 + 64 * 10) + [0x00, 0x00]
        for _ in 0..<10 { small += [0xFE, 0x01, 0x00] }
        #expect(try CompressionCodec.snappy.decompress(small, limit: 1000) == [UInt8](repeating: 0, count: 641))
    }

    /// One LZ4 frame whose compressed 64 KiB block of zeros repeats 1024 times (blocks are independent).
    @Test func lz4() throws {
        let frame = try CompressionCodec.lz4.compress([UInt8](repeating: 0, count: 64 * 1024))
        let header = Array(frame.prefix(7))
        let block = Array(frame.dropFirst(7).dropLast(4))  // size + data; then the end mark
        #expect(Array(frame.suffix(4)) == [0, 0, 0, 0])
        var bomb = header
        for _ in 0..<(Self.bombSize / (64 * 1024)) { bomb += block }
        bomb += [0, 0, 0, 0]
        expectRefused(.lz4, bomb)
        // The same blocks in a linked-block frame, which goes through LZ4F's streaming decoder.
        expectRefused(.lz4, lz4Frame(bomb, descriptor: [0x40, 0x40]))
        // Sanity: a short version of the same construction decodes.
        let two = header + block + block + [0, 0, 0, 0]
        #expect(try CompressionCodec.lz4.decompress(two, limit: 1 << 17) == [UInt8](repeating: 0, count: 1 << 17))
    }

    /// 512 RLE blocks of 128 KiB without a content size; and 1024 standard frames of 64 KiB each.
    @Test func zstd() throws {
        expectRefused(.zstd, zstdRLEFrame(blocks: Self.bombSize / (128 * 1024), blockSize: 128 * 1024, byte: 0))
        let frame = try CompressionCodec.zstd.compress([UInt8](repeating: 0, count: 64 * 1024))
        expectRefused(.zstd, Array([[UInt8]](repeating: frame, count: Self.bombSize / (64 * 1024)).joined()))
    }
}

/// Corrupt input must give a CompressionError, never a crash or a hang.
@Suite struct CorruptInputTests {
    static let compressedCodecs: [CompressionCodec] = [.gzip, .snappy, .lz4, .zstd]

    @Test(arguments: compressedCodecs) func truncated(codec: CompressionCodec) throws {
        let input = repetitiveBytes(50_000)
        let compressed = try codec.compress(input)
        for keep in [0, 1, 5, compressed.count / 2, compressed.count - 1] {
            let kind = expectCompressionError(codec) { try codec.decompress(Array(compressed.prefix(keep)), limit: 1 << 20) }
            #expect(kind?.isCorrupt == true, "\(codec.name) truncated to \(keep)")
        }
    }

    @Test(arguments: compressedCodecs) func garbage(codec: CompressionCodec) {
        var random = SplitMix64(state: 99)
        for size in [1, 7, 16, 100, 5000] {
            let garbage = random.bytes(size)
            expectCompressionError(codec) { try codec.decompress(garbage, limit: 1 << 20) }
        }
    }

    @Test func gzipChecksumMismatch() throws {
        var compressed = try CompressionCodec.gzip.compress(repetitiveBytes(10_000))
        compressed[compressed.count - 6] ^= 0xFF  // inside the CRC-32 trailer
        let kind = expectCompressionError(.gzip) { try CompressionCodec.gzip.decompress(compressed, limit: 1 << 20) }
        #expect(kind?.isCorrupt == true)
    }

    @Test func snappyLiesAboutItsLength() {
        // Claims 64 MiB from a handful of bytes: rejected without allocating it, whatever the limit.
        let lie = snappyVarint(64 << 20) + [0x00, 0x00]
        let kind = expectCompressionError(.snappy) { try CompressionCodec.snappy.decompress(lie, limit: Int.max) }
        #expect(kind?.isCorrupt == true)
        // xerial header followed by a block length beyond the end.
        let xerial: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0x05]
        #expect(expectCompressionError(.snappy) { try CompressionCodec.snappy.decompress(xerial, limit: 1 << 20) }?.isCorrupt == true)
    }

    /// Random mutations of valid payloads: each decode either succeeds within the limit or throws a
    /// CompressionError (anything else fails the test; a crash fails the run).
    @Test(arguments: compressedCodecs) func mutations(codec: CompressionCodec) throws {
        var random = SplitMix64(state: UInt64(codec.rawValue) * 1000 + 1)
        let original = try codec.compress(repetitiveBytes(3000) + random.bytes(3000))
        let limit = 64 * 1024
        for _ in 0..<400 {
            var mutated = original
            switch random.below(4) {
            case 0:
                for _ in 0...random.below(4) { mutated[random.below(mutated.count)] ^= UInt8(1 + random.below(255)) }
            case 1:
                mutated = Array(mutated.prefix(random.below(mutated.count)))
            case 2:
                mutated.insert(contentsOf: random.bytes(1 + random.below(8)), at: random.below(mutated.count))
            default:
                let at = random.below(mutated.count)
                mutated.replaceSubrange(at..<min(mutated.count, at + 4), with: [0xFF, 0xFF, 0xFF, 0x7F])
            }
            do {
                let output = try codec.decompress(mutated, limit: limit)
                #expect(output.count <= limit)
            } catch let error as CompressionError {
                #expect(error.codec == codec)
            }
        }
    }
}
