import CSnappy

/// snappy (codec 2). Written in the xerial framing of Java's SnappyOutputStream (and kafka-python):
/// a 16-byte header, then (int32 BE length + raw snappy block) per 32 KiB of input. Read: xerial when the
/// 8-byte magic is present, else one raw snappy block (what librdkafka writes).
enum Snappy {
    static let blockSize = 32 * 1024
    static let headerSize = 16
    /// 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00, version 1, minimum compatible version 1.
    static let xerialHeader: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]
    /// The first 8 header bytes read as a little-endian UInt64.
    private static let xerialMagic: UInt64 = 0x0059_5050_414E_5382
    /// A snappy element expands at most 64 bytes from 3 (~21:1); a block claiming more cannot be valid,
    /// so its claimed length is rejected before anything is allocated for it.
    private static let maxRatio = 32

    static func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let fullBlocks = input.count / blockSize
        let tail = input.count % blockSize
        var capacity = headerSize + fullBlocks * (4 + snappy_max_compressed_length(blockSize))
        if tail > 0 { capacity += 4 + snappy_max_compressed_length(tail) }
        let output = try withNonNullBase(input) { source in
            try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
                let out = UnsafeMutableRawBufferPointer(buffer)
                xerialHeader.withUnsafeBytes { out.copyMemory(from: $0) }
                var position = headerSize
                var consumed = 0
                while consumed < input.count {
                    let chunk = min(blockSize, input.count - consumed)
                    var length = capacity - position - 4
                    let status = snappy_compress(
                        (source + consumed).assumingMemoryBound(to: CChar.self), chunk,
                        (out.baseAddress! + position + 4).assumingMemoryBound(to: CChar.self), &length)
                    guard status == SNAPPY_OK else {
                        throw CompressionError(codec: .snappy, kind: .unsupported("snappy_compress failed (\(status.rawValue))"))
                    }
                    out.storeBytes(of: UInt32(length).bigEndian, toByteOffset: position, as: UInt32.self)
                    position += 4 + length
                    consumed += chunk
                }
                count = position
            }
        }
        return trimmed(output)
    }

    static func isXerial(_ input: UnsafeRawBufferPointer) -> Bool {
        input.count >= headerSize && UInt64(littleEndian: input.loadUnaligned(as: UInt64.self)) == xerialMagic
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        isXerial(input) ? try decompressXerial(input, limit: limit) : try decompressRaw(input, limit: limit)
    }

    /// The length a raw block claims (a varint prefix), checked against the ratio cap.
    private static func uncompressedLength(_ block: UnsafeRawBufferPointer) throws -> Int {
        guard block.count > 0 else { throw CompressionError.corrupt(.snappy, "empty block") }
        var length = 0
        guard snappy_uncompressed_length(block.baseAddress!.assumingMemoryBound(to: CChar.self), block.count, &length)
            == SNAPPY_OK
        else { throw CompressionError.corrupt(.snappy, "bad block length prefix") }
        guard length <= addSaturating(multiplySaturating(block.count, maxRatio), 64) else {
            throw CompressionError.corrupt(.snappy, "block claims \(length) bytes from \(block.count)")
        }
        return length
    }

    /// Decodes one raw block of known length into `destination`.
    private static func uncompress(_ block: UnsafeRawBufferPointer, length: Int, into destination: UnsafeMutableRawPointer) throws {
        var written = length
        let status = snappy_uncompress(
            block.baseAddress!.assumingMemoryBound(to: CChar.self), block.count,
            destination.assumingMemoryBound(to: CChar.self), &written)
        guard status == SNAPPY_OK, written == length else {
            throw CompressionError.corrupt(.snappy, "invalid snappy block")
        }
    }

    private static func decompressRaw(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let length = try uncompressedLength(input)
        guard length <= limit else { throw CompressionError.tooLarge(.snappy, limit) }
        return try [UInt8](unsafeUninitializedCapacity: max(length, 1)) { buffer, count in
            try uncompress(input, length: length, into: buffer.baseAddress!)
            count = length
        }
    }

    /// Calls `body` with each raw block of a xerial stream.
    private static func forEachXerialBlock(_ input: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position = headerSize
        while position < input.count {
            let remaining = input.count - position
            guard remaining >= 4 else { throw CompressionError.corrupt(.snappy, "truncated xerial block length") }
            // xerial's SnappyInputStream accepts a repeated stream header here (concatenated streams); as an
            // int32 it is negative, so it cannot be mistaken for a block length.
            if remaining >= headerSize,
                UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt64.self)) == xerialMagic
            {
                position += headerSize
                continue
            }
            let length = Int(Int32(bigEndian: input.loadUnaligned(fromByteOffset: position, as: Int32.self)))
            position += 4
            guard length >= 0, length <= input.count - position else {
                throw CompressionError.corrupt(.snappy, "xerial block length \(length) out of range")
            }
            try body(UnsafeRawBufferPointer(rebasing: input[position..<position + length]))
            position += length
        }
    }

    private static func decompressXerial(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        // First pass reads only the length prefixes, so the limit is enforced before allocating.
        var total = 0
        try forEachXerialBlock(input) { block in
            total += try uncompressedLength(block)
            guard total <= limit else { throw CompressionError.tooLarge(.snappy, limit) }
        }
        return try [UInt8](unsafeUninitializedCapacity: max(total, 1)) { buffer, count in
            let base = buffer.baseAddress!
            try forEachXerialBlock(input) { block in
                let length = try uncompressedLength(block)
                guard length <= total - count else { throw CompressionError.corrupt(.snappy, "block lengths changed") }
                try uncompress(block, length: length, into: base + count)
                count += length
            }
        }
    }
}
