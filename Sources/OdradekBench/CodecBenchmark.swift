import CLZ4
import CSnappy
import CZlib
import CZstd
import KafkaCompression
import KafkaRecords

/// Each codec through KafkaCompression against the same C library driven directly, with the same
/// settings, on the same 1 MiB payload (the size of a large producer batch).
enum CodecBenchmark {
    /// Log-line-like text: compressible, but not trivially (numbers and ids vary).
    static func payload(size: Int) -> [UInt8] {
        var generator: UInt64 = 0x2545_F491_4F6C_DD1D
        var out: [UInt8] = []
        out.reserveCapacity(size + 256)
        let words = ["order", "created", "user", "payment", "shipped", "warehouse", "eu-west", "status", "ok", "retry"]
        while out.count < size {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let n = generator >> 33
            let line = "{\"ts\":\(1_700_000_000_000 + Int(n % 100_000)),\"event\":\"\(words[Int(n % 10)])\",\"id\":\(n % 1_000_003),\"region\":\"\(words[Int((n >> 8) % 10)])\"}\n"
            out.append(contentsOf: line.utf8)
        }
        return Array(out.prefix(size))
    }

    static func run(runs: Int) throws {
        let input = payload(size: 1 << 20)
        let iterations = 20
        for codec in [CompressionCodec.gzip, .snappy, .lz4, .zstd] {
            let compressed = try codec.compress(input)
            var compress: [Double] = []
            var compressReference: [Double] = []
            var decompress: [Double] = []
            var decompressReference: [Double] = []
            var sink = 0
            for _ in 0...runs {  // the first round is a warm-up
                let a = try Measure.seconds { for _ in 0..<iterations { sink &+= try codec.compress(input).count } }
                let b = Measure.seconds { for _ in 0..<iterations { sink &+= DirectC.compress(codec, input).count } }
                let c = try Measure.seconds {
                    for _ in 0..<iterations { sink &+= try codec.decompress(compressed, limit: 64 << 20).count }
                }
                let d = Measure.seconds {
                    for _ in 0..<iterations { sink &+= DirectC.decompress(codec, compressed, size: input.count).count }
                }
                compress.append(Measure.gbps(bytes: iterations * input.count, seconds: a))
                compressReference.append(Measure.gbps(bytes: iterations * input.count, seconds: b))
                decompress.append(Measure.gbps(bytes: iterations * input.count, seconds: c))
                decompressReference.append(Measure.gbps(bytes: iterations * input.count, seconds: d))
            }
            let ratio = Measure.format(Double(input.count) / Double(compressed.count))
            Row(name: "\(codec.name) compress (1 MiB, ratio \(ratio))", subjectGBps: Array(compress.dropFirst()),
                referenceGBps: Array(compressReference.dropFirst()), referenceName: "C library", goal: "ratio >= 0.9").print()
            Row(name: "\(codec.name) decompress", subjectGBps: Array(decompress.dropFirst()),
                referenceGBps: Array(decompressReference.dropFirst()), referenceName: "C library", goal: "ratio >= 0.9").print()
            if sink == 42 { print("") }
        }
    }
}

/// The reference side: each C library called directly, with the settings KafkaCompression uses.
enum DirectC {
    static func compress(_ codec: CompressionCodec, _ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { source in
            switch codec {
            case .gzip: return gzip(source)
            case .snappy: return snappyBlocks(source)
            case .lz4: return lz4Frame(source)
            case .zstd:
                return [UInt8](unsafeUninitializedCapacity: ZSTD_compressBound(source.count)) { buffer, count in
                    count = ZSTD_compress(buffer.baseAddress, buffer.count, source.baseAddress, source.count, 3)
                }
            case .none: return Array(source)
            }
        }
    }

    static func decompress(_ codec: CompressionCodec, _ input: [UInt8], size: Int) -> [UInt8] {
        input.withUnsafeBytes { source in
            [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                switch codec {
                case .gzip:
                    var stream = z_stream()
                    _ = czlib_inflate_init_auto(&stream)
                    stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: UInt8.self).baseAddress)
                    stream.avail_in = UInt32(source.count)
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(size)
                    _ = inflate(&stream, Z_FINISH)
                    count = Int(stream.total_out)
                    inflateEnd(&stream)
                case .snappy:
                    // xerial framing: 16-byte header, then (int32 length, raw block) pairs.
                    var position = 16
                    var produced = 0
                    while position + 4 <= source.count {
                        let length = Int(source.readBE(UInt32.self, at: position))
                        position += 4
                        var outLength = size - produced
                        let block = source.baseAddress!.assumingMemoryBound(to: CChar.self) + position
                        _ = snappy_uncompress(block, length, UnsafeMutableRawPointer(buffer.baseAddress! + produced).assumingMemoryBound(to: CChar.self), &outLength)
                        produced += outLength
                        position += length
                    }
                    count = produced
                case .lz4:
                    var context: OpaquePointer?
                    _ = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
                    var written = size
                    var read = source.count
                    _ = LZ4F_decompress(context, buffer.baseAddress, &written, source.baseAddress, &read, nil)
                    LZ4F_freeDecompressionContext(context)
                    count = written
                case .zstd:
                    count = ZSTD_decompress(buffer.baseAddress, size, source.baseAddress, source.count)
                case .none:
                    count = 0
                }
            }
        }
    }

    private static func gzip(_ source: UnsafeRawBufferPointer) -> [UInt8] {
        var stream = z_stream()
        _ = czlib_deflate_init_gzip(&stream, 6)
        let bound = Int(deflateBound(&stream, UInt(source.count))) + 32
        let out = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: UInt8.self).baseAddress)
            stream.avail_in = UInt32(source.count)
            stream.next_out = buffer.baseAddress
            stream.avail_out = UInt32(bound)
            _ = deflate(&stream, Z_FINISH)
            count = Int(stream.total_out)
        }
        deflateEnd(&stream)
        return out
    }

    private static func snappyBlocks(_ source: UnsafeRawBufferPointer) -> [UInt8] {
        let block = 32 * 1024
        let blocks = (source.count + block - 1) / block
        let capacity = 16 + blocks * (4 + snappy_max_compressed_length(block))
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, count in
            var position = 16
            var offset = 0
            while offset < source.count {
                let length = min(block, source.count - offset)
                var outLength = capacity - position - 4
                let input = source.baseAddress!.assumingMemoryBound(to: CChar.self) + offset
                let output = UnsafeMutableRawPointer(buffer.baseAddress! + position + 4).assumingMemoryBound(to: CChar.self)
                _ = snappy_compress(input, length, output, &outLength)
                UnsafeMutableRawBufferPointer(buffer).writeBE(UInt32(outLength), at: position)
                position += 4 + outLength
                offset += length
            }
            count = position
        }
    }

    private static func lz4Frame(_ source: UnsafeRawBufferPointer) -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.blockSizeID = LZ4F_max64KB
        preferences.frameInfo.blockMode = LZ4F_blockIndependent
        let bound = LZ4F_compressFrameBound(source.count, &preferences)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            count = LZ4F_compressFrame(buffer.baseAddress, bound, source.baseAddress, source.count, &preferences)
        }
    }
}
