import CZlib

/// gzip (codec 1): a standard gzip stream, as Java's GZIPOutputStream writes it.
enum Gzip {
    /// zlib counts in 32-bit `uInt`; larger buffers are fed in pieces.
    private static let maxChunk = Int(UInt32.max)

    /// The z_stream lives on the heap: zlib keeps a back pointer to it and checks it on every call,
    /// and Swift does not promise a stable address for a local passed inout.
    private static func makeStream() -> UnsafeMutablePointer<z_stream> {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        return stream
    }

    private static func message(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32) -> String {
        if let msg = stream.pointee.msg { return String(cString: msg) }
        return "zlib error \(code)"
    }

    static func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        let stream = makeStream()
        defer { stream.deallocate() }
        // Java's GZIPOutputStream uses Deflater.DEFAULT_COMPRESSION (level 6).
        let rc = czlib_deflate_init_gzip(stream, Z_DEFAULT_COMPRESSION)
        guard rc == Z_OK else {
            throw CompressionError(codec: .gzip, kind: .unsupported("deflateInit2 failed (\(rc))"))
        }
        defer { deflateEnd(stream) }
        let bound = Int(deflateBound(stream, uLong(input.count)))
        let output = try withNonNullBase(input) { source in
            try [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
                let destination = buffer.baseAddress!
                var consumed = 0
                while true {
                    let inChunk = min(input.count - consumed, maxChunk)
                    let outChunk = min(bound - count, maxChunk)
                    stream.pointee.next_in = UnsafeMutablePointer(
                        mutating: (source + consumed).assumingMemoryBound(to: Bytef.self))
                    stream.pointee.avail_in = uInt(inChunk)
                    stream.pointee.next_out = destination + count
                    stream.pointee.avail_out = uInt(outChunk)
                    let last = consumed + inChunk == input.count
                    let rc = deflate(stream, last ? Z_FINISH : Z_NO_FLUSH)
                    let read = inChunk - Int(stream.pointee.avail_in)
                    let written = outChunk - Int(stream.pointee.avail_out)
                    consumed += read
                    count += written
                    if rc == Z_STREAM_END { return }
                    // deflateBound makes running out of room impossible; guard against a stall anyway.
                    guard rc == Z_OK || rc == Z_BUF_ERROR, read > 0 || written > 0 else {
                        throw CompressionError(codec: .gzip, kind: .unsupported("deflate failed: \(message(stream, rc))"))
                    }
                }
            }
        }
        return trimmed(output)
    }

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let stream = makeStream()
        defer { stream.deallocate() }
        let rc = czlib_inflate_init_auto(stream)
        guard rc == Z_OK else {
            throw CompressionError(codec: .gzip, kind: .unsupported("inflateInit2 failed (\(rc))"))
        }
        defer { inflateEnd(stream) }
        return try withNonNullBase(input) { source in
            var consumed = 0
            return try decodeGrowing(.gzip, initialCapacity: sizeHint(input), limit: limit) { buffer, count in
                let destination = buffer.baseAddress!.assumingMemoryBound(to: Bytef.self)
                while true {
                    let inChunk = min(input.count - consumed, maxChunk)
                    let outChunk = min(buffer.count - count, maxChunk)
                    stream.pointee.next_in = UnsafeMutablePointer(
                        mutating: (source + consumed).assumingMemoryBound(to: Bytef.self))
                    stream.pointee.avail_in = uInt(inChunk)
                    stream.pointee.next_out = destination + count
                    stream.pointee.avail_out = uInt(outChunk)
                    // Z_FINISH lets zlib skip keeping a window when the whole stream fits in one call.
                    let rc = inflate(stream, Z_FINISH)
                    let read = inChunk - Int(stream.pointee.avail_in)
                    let written = outChunk - Int(stream.pointee.avail_out)
                    consumed += read
                    count += written
                    switch rc {
                    case Z_STREAM_END:
                        // Like Java's GZIPInputStream: read concatenated members, ignore other trailing bytes.
                        if input.count - consumed >= 2, source.load(fromByteOffset: consumed, as: UInt8.self) == 0x1F,
                            source.load(fromByteOffset: consumed + 1, as: UInt8.self) == 0x8B
                        {
                            inflateReset(stream)
                            continue
                        }
                        return true
                    case Z_OK, Z_BUF_ERROR:
                        if count == buffer.count { return false }
                        if consumed == input.count { throw CompressionError.corrupt(.gzip, "truncated stream") }
                        if read == 0 && written == 0 { throw CompressionError.corrupt(.gzip, "inflate made no progress") }
                    case Z_NEED_DICT:
                        throw CompressionError(codec: .gzip, kind: .unsupported("stream needs a preset dictionary"))
                    default:
                        throw CompressionError.corrupt(.gzip, message(stream, rc))
                    }
                }
            }
        }
    }

    /// A gzip trailer ends with ISIZE, the member's length mod 2^32: for the usual single member it is
    /// exact, so the output is usually allocated once at the right size. It is untrusted, so it is capped
    /// by deflate's maximum ratio (~1032:1); a wrong hint only costs a regrowth.
    private static func sizeHint(_ input: UnsafeRawBufferPointer) -> Int {
        let ratioCap = multiplySaturating(input.count, 1032)
        guard input.count >= 20, input[0] == 0x1F, input[1] == 0x8B else {
            return min(ratioCap, max(multiplySaturating(input.count, 4), 4096))
        }
        return min(Int(input.littleEndianUInt32(at: input.count - 4)), ratioCap)
    }
}
