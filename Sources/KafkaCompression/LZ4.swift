import CLZ4

/// lz4 (codec 3): the LZ4 frame format. Written as Kafka's KafkaLZ4BlockOutputStream does: independent
/// 64 KiB blocks, no block checksum, no content size, no content checksum. Any valid frame is read.
enum LZ4 {
    static let frameMagic: UInt32 = 0x184D_2204

    private static func preferences() -> LZ4F_preferences_t {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        // Kafka's reader rejects dependent blocks.
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        preferences.frameInfo.blockChecksumFlag = LZ4F_noBlockChecksum
        preferences.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum
        preferences.frameInfo.contentSize = 0
        preferences.compressionLevel = 0  // the fast compressor, like Kafka's
        return preferences
    }

    private static func errorName(_ code: Int) -> String {
        String(cString: LZ4F_getErrorName(code))
    }

    static func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        var preferences = preferences()
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        let output = try withNonNullBase(input) { source in
            try [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                let written = LZ4F_compressFrame(buffer.baseAddress!, bound, source, input.count, &preferences)
                guard LZ4F_isError(written) == 0 else {
                    throw CompressionError(codec: .lz4, kind: .unsupported("LZ4F_compressFrame: \(errorName(written))"))
                }
                count = written
            }
        }
        return trimmed(output)
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        var context: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let context else {
            throw CompressionError(codec: .lz4, kind: .unsupported("LZ4F_createDecompressionContext: \(errorName(rc))"))
        }
        defer { LZ4F_freeDecompressionContext(context) }
        // Kafka frames carry no content size: size the output from the block headers instead, so it is
        // allocated once and every block decodes straight into it.
        let hint = decodedSizeBound(input) ?? max(multiplySaturating(input.count, 4), 64 * 1024)
        return try withNonNullBase(input) { source in
            var consumed = 0
            return try decodeGrowing(.lz4, initialCapacity: hint, limit: limit) { buffer, count in
                while true {
                    var written = buffer.count - count
                    var read = input.count - consumed
                    let next = LZ4F_decompress(context, buffer.baseAddress! + count, &written, source + consumed, &read, nil)
                    guard LZ4F_isError(next) == 0 else { throw CompressionError.corrupt(.lz4, errorName(next)) }
                    count += written
                    consumed += read
                    if next == 0 {
                        // End of a frame; another may follow.
                        if consumed == input.count { return true }
                        continue
                    }
                    if count == buffer.count { return false }
                    if consumed == input.count { throw CompressionError.corrupt(.lz4, "truncated frame") }
                    if read == 0 && written == 0 { throw CompressionError.corrupt(.lz4, "decoder made no progress") }
                }
            }
        }
    }

    /// An upper bound on the decoded size from the frame and block headers alone (uncompressed blocks
    /// count exactly, compressed ones as the frame's maximum block size), or nil when the headers do not
    /// parse (LZ4F then reports the error). Skippable frames count as nothing.
    static func decodedSizeBound(_ input: UnsafeRawBufferPointer) -> Int? {
        var position = 0
        var total = 0
        while position < input.count {
            guard input.count - position >= 8 else { return nil }
            let magic = input.littleEndianUInt32(at: position)
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                position = addSaturating(position + 8, Int(input.littleEndianUInt32(at: position + 4)))
                continue
            }
            guard magic == frameMagic else { return nil }
            let flags = input[position + 4]
            let descriptor = input[position + 5]
            guard flags >> 6 == 1 else { return nil }
            let blockMaximum: Int
            switch (descriptor >> 4) & 0x07 {
            case 4: blockMaximum = 64 * 1024
            case 5: blockMaximum = 256 * 1024
            case 6: blockMaximum = 1024 * 1024
            case 7: blockMaximum = 4 * 1024 * 1024
            default: return nil
            }
            // magic, FLG, BD, [content size], [dictionary id], HC
            position += 7 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
            let blockChecksum = flags & 0x10 != 0 ? 4 : 0
            while true {
                guard input.count - position >= 4 else { return nil }
                let word = input.littleEndianUInt32(at: position)
                position += 4
                if word == 0 { break }  // end mark
                let size = Int(word & 0x7FFF_FFFF)
                guard size <= blockMaximum else { return nil }
                total = addSaturating(total, word & 0x8000_0000 != 0 ? size : blockMaximum)
                position += size + blockChecksum
                guard position <= input.count else { return nil }
            }
            if flags & 0x04 != 0 { position += 4 }  // content checksum
            guard position <= input.count else { return nil }
        }
        return total
    }
}
