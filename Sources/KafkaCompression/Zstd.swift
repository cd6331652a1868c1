import CZstd

/// zstd (codec 4): standard zstd frames. Frames written by streaming compressors (Java's zstd-jni, for
/// one) have no content size, so the decoder never relies on it.
enum Zstd {
    private static let frameMagic: UInt32 = 0xFD2F_B528
    /// ZSTD_BLOCKSIZE_MAX: no block decodes to more.
    private static let blockMaximum = 128 * 1024
    /// ZSTD_error_dstSize_tooSmall (zstd_errors.h; codes below 100 are stable). Error results are -code.
    private static let errorDestinationTooSmall = 70

    private static func errorName(_ code: Int) -> String {
        String(cString: ZSTD_getErrorName(code))
    }

    static func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let bound = ZSTD_compressBound(input.count)
        let output = try withNonNullBase(input) { source in
            try [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                // Level 3 is zstd's default and Kafka's (compression.zstd.level).
                let written = ZSTD_compress(buffer.baseAddress!, bound, source, input.count, ZSTD_CLEVEL_DEFAULT)
                guard ZSTD_isError(written) == 0 else {
                    throw CompressionError(codec: .zstd, kind: .unsupported("ZSTD_compress: \(errorName(written))"))
                }
                count = written
            }
        }
        return trimmed(output)
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        guard let context = ZSTD_createDCtx() else {
            throw CompressionError(codec: .zstd, kind: .unsupported("ZSTD_createDCtx failed"))
        }
        defer { ZSTD_freeDCtx(context) }
        return try withNonNullBase(input) { source in
            // With an upper bound on the output from the frame headers, decode in one pass straight into
            // the result: content size or not, this needs no window buffer and no copy out of it. A bound
            // above the limit gives a buffer of limit + 1 bytes, and a frame that does not fit is refused.
            if let bound = decodedSizeBound(input) {
                let capacity = bound > limit ? limit + 1 : bound
                var failure = 0
                let output = [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
                    let written = ZSTD_decompressDCtx(context, buffer.baseAddress!, capacity, source, input.count)
                    if ZSTD_isError(written) != 0 { failure = written } else { count = written }
                }
                if failure == 0 {
                    guard output.count <= limit else { throw CompressionError.tooLarge(.zstd, limit) }
                    return output
                }
                if 0 &- failure == errorDestinationTooSmall {
                    if bound > limit { throw CompressionError.tooLarge(.zstd, limit) }
                    // The bound was wrong after all; the streaming decoder below copes.
                } else {
                    throw CompressionError.corrupt(.zstd, errorName(failure))
                }
                ZSTD_DCtx_reset(context, ZSTD_reset_session_only)
            }
            return try decompressStreaming(input, source: source, context: context, limit: limit)
        }
    }

    /// The general path (frames whose headers did not parse above, e.g. legacy formats, or garbage that
    /// zstd itself should name): ZSTD_decompressStream into a growing buffer.
    private static func decompressStreaming(
        _ input: UnsafeRawBufferPointer, source: UnsafeRawPointer, context: OpaquePointer, limit: Int
    ) throws -> [UInt8] {
        // The decoder's window buffer is sized from the frame header, not the data: cap it near the limit
        // so a forged header cannot make zstd allocate far beyond it.
        let windowLog = min(27, max(10, Int.bitWidth - max(limit, 1).leadingZeroBitCount))
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Int32(windowLog))
        var inBuffer = ZSTD_inBuffer(src: source, size: input.count, pos: 0)
        let hint = max(multiplySaturating(input.count, 4), 64 * 1024)
        return try decodeGrowing(.zstd, initialCapacity: hint, limit: limit) { buffer, count in
            var outBuffer = ZSTD_outBuffer(dst: buffer.baseAddress! + count, size: buffer.count - count, pos: 0)
            while true {
                let readBefore = inBuffer.pos
                let writtenBefore = outBuffer.pos
                let next = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
                guard ZSTD_isError(next) == 0 else { throw CompressionError.corrupt(.zstd, errorName(next)) }
                if next == 0 && inBuffer.pos == inBuffer.size {
                    count += outBuffer.pos
                    return true
                }
                if next == 0 { continue }  // end of a frame; another follows
                if outBuffer.pos == outBuffer.size {
                    count += outBuffer.pos
                    return false
                }
                if inBuffer.pos == inBuffer.size { throw CompressionError.corrupt(.zstd, "truncated frame") }
                if inBuffer.pos == readBefore && outBuffer.pos == writtenBefore {
                    throw CompressionError.corrupt(.zstd, "decoder made no progress")
                }
            }
        }
    }

    /// An upper bound on the decoded size from frame and block headers alone: the content size when the
    /// frame has one, else raw and RLE blocks exactly and compressed blocks as 128 KiB. Nil when the
    /// headers do not parse. Skippable frames count as nothing.
    static func decodedSizeBound(_ input: UnsafeRawBufferPointer) -> Int? {
        guard !input.isEmpty else { return nil }  // no frame at all: let the decoder call it truncated
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
            let descriptor = input[position + 4]
            position += 5
            guard descriptor & 0x08 == 0 else { return nil }  // reserved bit
            let singleSegment = descriptor & 0x20 != 0
            if !singleSegment { position += 1 }  // window descriptor
            position += (1 << Int(descriptor & 0x03)) >> 1  // dictionary id: 0, 1, 2 or 4 bytes
            let contentSizeFlag = Int(descriptor >> 6)  // content size: 0 (1 if single segment), 2, 4 or 8 bytes
            let contentSizeBytes = contentSizeFlag == 0 ? (singleSegment ? 1 : 0) : 1 << contentSizeFlag
            guard input.count - position >= contentSizeBytes else { return nil }
            var contentSize: Int?
            switch contentSizeBytes {
            case 1: contentSize = Int(input[position])
            case 2: contentSize = Int(UInt16(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt16.self))) + 256
            case 4: contentSize = Int(input.littleEndianUInt32(at: position))
            case 8:
                let value = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt64.self))
                contentSize = value > UInt64(Int.max) ? Int.max : Int(value)
            default: contentSize = nil
            }
            position += contentSizeBytes
            var frameBound = 0
            while true {
                guard input.count - position >= 3 else { return nil }
                let header = Int(input[position]) | Int(input[position + 1]) << 8 | Int(input[position + 2]) << 16
                position += 3
                let size = header >> 3
                switch (header >> 1) & 0x03 {
                case 0:  // raw
                    frameBound = addSaturating(frameBound, size)
                    position += size
                case 1:  // RLE: one byte repeated `size` times
                    frameBound = addSaturating(frameBound, size)
                    position += 1
                case 2:  // compressed
                    frameBound = addSaturating(frameBound, blockMaximum)
                    position += size
                default:
                    return nil
                }
                guard position <= input.count else { return nil }
                if header & 0x01 != 0 { break }  // last block
            }
            if descriptor & 0x04 != 0 { position += 4 }  // content checksum
            guard position <= input.count else { return nil }
            // A frame that declares its size must decode to exactly that (zstd checks), and a valid one
            // never declares more than its blocks can hold.
            total = addSaturating(total, contentSize.map { min($0, frameBound) } ?? frameBound)
        }
        return total
    }
}
