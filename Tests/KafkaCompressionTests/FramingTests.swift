import KafkaCompression
import Testing

/// What Kafka's readers expect from what we write.
@Suite struct FramingTests {
    /// KafkaLZ4BlockOutputStream's header: magic 0x184D2204, FLG 0x60 (version 01, independent blocks, no
    /// block checksum, no content size, no content checksum), BD 0x40 (64 KiB blocks), HC 0x82.
    @Test func lz4FrameHeader() throws {
        var random = SplitMix64(state: 3)
        let input = random.bytes(200 * 1024)
        let frame = try CompressionCodec.lz4.compress(input)
        #expect(uint32LE(frame, 0) == 0x184D_2204)
        let flags = frame[4]
        #expect(flags >> 6 == 0b01, "version")
        #expect(flags & 0x20 != 0, "block independence")
        #expect(flags & 0x08 == 0, "no content size")
        #expect(flags & 0x10 == 0, "no block checksum")
        #expect(flags & 0x04 == 0, "no content checksum")
        #expect(frame[5] == 0x40, "64 KiB maximum block size")
        #expect(Array(frame.prefix(7)) == [0x04, 0x22, 0x4D, 0x18, 0x60, 0x40, 0x82])

        // Blocks of at most 64 KiB of input, an end mark, nothing after it.
        var position = 7
        var blocks = 0
        var decoded = 0
        while true {
            let word = uint32LE(frame, position)
            position += 4
            if word == 0 { break }
            let size = word & 0x7FFF_FFFF
            if word & 0x8000_0000 != 0 { decoded += size }  // stored uncompressed (random input)
            #expect(size <= 64 * 1024)
            position += size
            blocks += 1
        }
        #expect(position == frame.count)
        #expect(blocks == 4)
        #expect(decoded == input.count)
    }

    /// Other frame options (content size, linked blocks) and header checks.
    @Test func lz4FrameVariants() throws {
        let input = repetitiveBytes(150_000)
        let frame = try CompressionCodec.lz4.compress(input)
        #expect(UInt8(truncatingIfNeeded: xxh32Short([0x60, 0x40]) >> 8) == 0x82)
        var size: [UInt8] = []
        for shift in stride(from: 0, to: 64, by: 8) { size.append(UInt8(truncatingIfNeeded: input.count >> shift)) }
        let withSize = lz4Frame(frame, descriptor: [0x68, 0x40] + size)
        #expect(try CompressionCodec.lz4.decompress(withSize, limit: input.count) == input)
        var wrongSize = size
        wrongSize[0] ^= 1
        let lying = lz4Frame(frame, descriptor: [0x68, 0x40] + wrongSize)
        #expect(expectCompressionError(.lz4) { try CompressionCodec.lz4.decompress(lying, limit: 1 << 20) }?.isCorrupt == true)
        // Linked blocks go through LZ4F; independent data is valid in a linked frame.
        let linked = lz4Frame(frame, descriptor: [0x40, 0x40])
        #expect(try CompressionCodec.lz4.decompress(linked, limit: input.count) == input)
        #expect(expectCompressionError(.lz4) { try CompressionCodec.lz4.decompress(linked, limit: input.count - 1) }
            == .outputTooLarge(limit: input.count - 1))
        var badChecksum = frame
        badChecksum[6] ^= 0xFF
        #expect(expectCompressionError(.lz4) { try CompressionCodec.lz4.decompress(badChecksum, limit: 1 << 20) }?.isCorrupt == true)
    }

    /// xerial framing as Java's SnappyOutputStream and kafka-python write it.
    @Test func snappyXerialFraming() throws {
        var random = SplitMix64(state: 4)
        let input = random.bytes(100_000)
        let stream = try CompressionCodec.snappy.compress(input)
        #expect(Array(stream.prefix(16)) == [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1])
        var position = 16
        var blockInputs: [Int] = []
        while position < stream.count {
            let length = uint32BE(stream, position)
            position += 4
            // Each block is a raw snappy block; its varint prefix is the block's input size.
            var value = 0
            var shift = 0
            var cursor = position
            while true {
                let byte = Int(stream[cursor])
                value |= (byte & 0x7F) << shift
                cursor += 1
                shift += 7
                if byte < 0x80 { break }
            }
            blockInputs.append(value)
            position += length
        }
        #expect(position == stream.count)
        #expect(blockInputs == [32768, 32768, 32768, 100_000 - 3 * 32768])
        #expect(try CompressionCodec.snappy.compress([]) == Array(stream.prefix(16)))
    }

    /// A raw snappy block (librdkafka's framing) and a xerial stream holding the same block both decode.
    @Test func snappyRawAndXerial() throws {
        let input = repetitiveBytes(20_000)
        let xerial = try CompressionCodec.snappy.compress(input)
        let raw = Array(xerial.dropFirst(20))  // one block: header + length, then the raw block
        #expect(uint32BE(xerial, 16) == raw.count)
        #expect(try CompressionCodec.snappy.decompress(raw, limit: input.count) == input)
        #expect(try CompressionCodec.snappy.decompress(xerial, limit: input.count) == input)
        // A repeated stream header (concatenated xerial streams) is skipped, as xerial's reader does.
        let concatenated = xerial + xerial
        #expect(try CompressionCodec.snappy.decompress(concatenated, limit: 2 * input.count) == input + input)
    }

    /// A zstd frame with no content size field and RLE blocks, built by hand.
    @Test func zstdFrameWithoutContentSize() throws {
        let frame = zstdRLEFrame(blocks: 5, blockSize: 1000, byte: 0x61)
        #expect(try CompressionCodec.zstd.decompress(frame, limit: 5000) == [UInt8](repeating: 0x61, count: 5000))
        #expect(expectCompressionError(.zstd) { try CompressionCodec.zstd.decompress(frame, limit: 4999) }
            == .outputTooLarge(limit: 4999))
    }

    @Test func gzipConcatenatedMembers() throws {
        let a = repetitiveBytes(5000)
        let b = Array("second member".utf8)
        let stream = try CompressionCodec.gzip.compress(a) + CompressionCodec.gzip.compress(b)
        #expect(try CompressionCodec.gzip.decompress(stream, limit: 1 << 20) == a + b)
    }

    @Test func concatenatedLZ4AndZstdFrames() throws {
        let a = repetitiveBytes(70_000)
        let b = Array("x".utf8)
        for codec in [CompressionCodec.lz4, .zstd] {
            let stream = try codec.compress(a) + codec.compress(b)
            #expect(try codec.decompress(stream, limit: 1 << 20) == a + b, "\(codec.name)")
        }
    }
}

/// zstd frame: no content size, not single-segment, 128 KiB window; `blocks` RLE blocks.
func zstdRLEFrame(blocks: Int, blockSize: Int, byte: UInt8) -> [UInt8] {
    precondition(blockSize <= 128 * 1024)
    var frame: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD, 0x00, 0x38]
    frame.reserveCapacity(frame.count + 4 * blocks)
    for index in 0..<blocks {
        let header = (index == blocks - 1 ? 1 : 0) | 1 << 1 | blockSize << 3
        frame += [UInt8(header & 0xFF), UInt8(header >> 8 & 0xFF), UInt8(header >> 16 & 0xFF), byte]
    }
    return frame
}
