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
        let scan = Scan(input)
        if let scan, scan.plain {
            return try decompressPlain(input, bound: scan.bound, limit: limit)
        }
        return try decompressFrames(input, limit: limit, bound: scan?.bound)
    }

    /// Frames as Kafka writes them (independent blocks, no checksums, no dictionary): each block is decoded
    /// with LZ4_decompress_safe straight into the result. LZ4F would allocate two block-sized staging
    /// buffers per call, which costs more than decoding a small batch.
    ///
    /// The result has room for the size bound, or limit + 1 bytes when the bound is above the limit. A block
    /// with a full block maximum of room that fails is corrupt; with less room (only near the limit) it is
    /// decoded partially, and filling the room means the output exceeds the limit.
    private static func decompressPlain(_ input: UnsafeRawBufferPointer, bound: Int, limit: Int) throws -> [UInt8] {
        let capacity = bound > limit ? limit + 1 : bound
        let output = try [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, count in
            let output = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[0..<capacity])
            var frameStart = 0
            try walk(
                input,
                frame: { _ in frameStart = count },
                block: { header, compressed, data in
                    let room = output.count - count
                    if compressed {
                        let source = data.baseAddress!.assumingMemoryBound(to: CChar.self)
                        let destination = (output.baseAddress! + count).assumingMemoryBound(to: CChar.self)
                        if room >= header.blockMaximum {
                            let written = LZ4_decompress_safe(source, destination, Int32(data.count), Int32(clamping: room))
                            guard written >= 0 else { throw CompressionError.corrupt(.lz4, "invalid compressed block") }
                            count += Int(written)
                        } else {
                            let written = LZ4_decompress_safe_partial(source, destination, Int32(data.count), Int32(room), Int32(room))
                            guard written >= 0 else { throw CompressionError.corrupt(.lz4, "invalid compressed block") }
                            guard written < room else { throw CompressionError.tooLarge(.lz4, limit) }
                            count += Int(written)
                        }
                    } else if !data.isEmpty {
                        guard data.count <= room else { throw CompressionError.tooLarge(.lz4, limit) }
                        UnsafeMutableRawBufferPointer(rebasing: output[count..<count + data.count]).copyMemory(from: data)
                        count += data.count
                    }
                },
                frameEnd: { header in
                    if let size = header.contentSize, size != count - frameStart {
                        throw CompressionError.corrupt(.lz4, "frame decodes to \(count - frameStart) bytes, header says \(size)")
                    }
                })
        }
        guard output.count <= limit else { throw CompressionError.tooLarge(.lz4, limit) }
        return output
    }

    /// Any valid frame, through LZ4F's streaming decoder, into a buffer that grows up to the limit.
    private static func decompressFrames(_ input: UnsafeRawBufferPointer, limit: Int, bound: Int?) throws -> [UInt8] {
        var context: OpaquePointer?
        let rc = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(rc) == 0, let context else {
            throw CompressionError(codec: .lz4, kind: .unsupported("LZ4F_createDecompressionContext: \(errorName(rc))"))
        }
        defer { LZ4F_freeDecompressionContext(context) }
        let hint = bound ?? max(multiplySaturating(input.count, 4), 64 * 1024)
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

    // MARK: - Frame structure

    struct FrameHeader {
        var flags: UInt8
        var blockMaximum: Int
        var contentSize: Int?
        /// Independent blocks, no block or content checksum, no dictionary, reserved bits clear, and a
        /// correct header checksum: decodable without LZ4F.
        var plain: Bool
    }

    /// What the headers say: an upper bound on the decoded size (uncompressed blocks count exactly,
    /// compressed ones as the frame's maximum block size; skippable frames as nothing), and whether every
    /// frame is plain. Nil when the structure does not parse; LZ4F then names the problem.
    struct Scan {
        var bound = 0
        var plain = true

        init?(_ input: UnsafeRawBufferPointer) {
            guard !input.isEmpty else { return nil }
            var scan = Scan()
            let parsed = try? walk(
                input,
                frame: { header in scan.plain = scan.plain && header.plain },
                block: { header, compressed, data in
                    scan.bound = addSaturating(scan.bound, compressed ? header.blockMaximum : data.count)
                },
                frameEnd: { _ in })
            guard parsed == true else { return nil }
            self = scan
        }

        private init() {}
    }

    /// Walks every frame and data block, checking only the structure (lengths within the input, block
    /// sizes within the maximum). Returns false when it does not parse.
    @discardableResult
    static func walk(
        _ input: UnsafeRawBufferPointer,
        frame: (FrameHeader) throws -> Void,
        block: (FrameHeader, _ compressed: Bool, UnsafeRawBufferPointer) throws -> Void,
        frameEnd: (FrameHeader) throws -> Void
    ) throws -> Bool {
        var position = 0
        while position < input.count {
            guard input.count - position >= 8 else { return false }
            let magic = input.littleEndianUInt32(at: position)
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {  // skippable frame
                position = addSaturating(position + 8, Int(input.littleEndianUInt32(at: position + 4)))
                guard position <= input.count else { return false }
                continue
            }
            guard magic == frameMagic else { return false }
            let flags = input[position + 4]
            let descriptor = input[position + 5]
            guard flags >> 6 == 1 else { return false }
            let blockMaximum: Int
            switch (descriptor >> 4) & 0x07 {
            case 4: blockMaximum = 64 * 1024
            case 5: blockMaximum = 256 * 1024
            case 6: blockMaximum = 1024 * 1024
            case 7: blockMaximum = 4 * 1024 * 1024
            default: return false
            }
            // FLG, BD, [content size], [dictionary id], then HC
            let descriptorLength = 2 + (flags & 0x08 != 0 ? 8 : 0) + (flags & 0x01 != 0 ? 4 : 0)
            guard input.count - position >= 4 + descriptorLength + 1 else { return false }
            let descriptorBytes = UnsafeRawBufferPointer(rebasing: input[position + 4..<position + 4 + descriptorLength])
            let checksum = input[position + 4 + descriptorLength]
            var header = FrameHeader(flags: flags, blockMaximum: blockMaximum, contentSize: nil, plain: false)
            if flags & 0x08 != 0 {
                let size = UInt64(littleEndian: input.loadUnaligned(fromByteOffset: position + 6, as: UInt64.self))
                header.contentSize = size > UInt64(Int.max) ? Int.max : Int(size)
            }
            header.plain = flags & 0b0011_0111 == 0b0010_0000 && descriptor & 0x8F == 0
                && UInt8(truncatingIfNeeded: xxh32Short(descriptorBytes) >> 8) == checksum
            position += 4 + descriptorLength + 1
            try frame(header)
            let blockChecksum = flags & 0x10 != 0 ? 4 : 0
            while true {
                guard input.count - position >= 4 else { return false }
                let word = input.littleEndianUInt32(at: position)
                position += 4
                if word == 0 { break }  // end mark
                let size = Int(word & 0x7FFF_FFFF)
                guard size <= blockMaximum, input.count - position >= size + blockChecksum else { return false }
                try block(header, word & 0x8000_0000 == 0, UnsafeRawBufferPointer(rebasing: input[position..<position + size]))
                position += size + blockChecksum
            }
            if flags & 0x04 != 0 { position += 4 }  // content checksum
            guard position <= input.count else { return false }
            try frameEnd(header)
        }
        return true
    }

    /// XXH32 with seed 0 for inputs under 16 bytes (the frame descriptor): the header checksum is
    /// `(xxh32(descriptor) >> 8) & 0xFF`.
    static func xxh32Short(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        precondition(bytes.count < 16)
        let prime1: UInt32 = 2_654_435_761, prime2: UInt32 = 2_246_822_519, prime3: UInt32 = 3_266_489_917
        let prime4: UInt32 = 668_265_263, prime5: UInt32 = 374_761_393
        var hash = prime5 &+ UInt32(bytes.count)
        var offset = 0
        while offset + 4 <= bytes.count {
            hash &+= bytes.littleEndianUInt32(at: offset) &* prime3
            hash = (hash << 17 | hash >> 15) &* prime4
            offset += 4
        }
        while offset < bytes.count {
            hash &+= UInt32(bytes[offset]) &* prime5
            hash = (hash << 11 | hash >> 21) &* prime1
            offset += 1
        }
        hash ^= hash >> 15
        hash &*= prime2
        hash ^= hash >> 13
        hash &*= prime3
        hash ^= hash >> 16
        return hash
    }
}
