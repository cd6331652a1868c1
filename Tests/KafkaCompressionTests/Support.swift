import Foundation
import KafkaCompression
import Testing

/// The plaintext behind ClientPayloads (mirrors `plaintext()` in tools/make-fixtures.py): 1 KiB of
/// LCG-generated printable bytes, repeated 80 times.
func clientPlaintext() -> [UInt8] {
    var x: UInt64 = 1
    var chunk: [UInt8] = []
    chunk.reserveCapacity(1024)
    for _ in 0..<1024 {
        x = (x &* 1_103_515_245 &+ 12345) % (1 << 31)
        chunk.append(UInt8(32 + (x >> 16) % 95))
    }
    return Array([[UInt8]](repeating: chunk, count: 80).joined())
}

func decodeBase64(_ text: String) -> [UInt8] {
    guard let data = Data(base64Encoded: text, options: .ignoreUnknownCharacters) else {
        fatalError("bad base64 in a generated fixture")
    }
    return [UInt8](data)
}

/// SplitMix64: deterministic test data without a per-byte loop.
struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset + 8 <= count {
                raw.storeBytes(of: next(), toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            while offset < count {
                raw[offset] = UInt8(truncatingIfNeeded: next())
                offset += 1
            }
        }
        return out
    }

    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Text-like data that compresses well.
func repetitiveBytes(_ count: Int) -> [UInt8] {
    let line = Array("offset=000042 key=user-17 value={\"event\":\"click\",\"page\":\"/home\"}\n".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(count + line.count)
    while out.count < count { out.append(contentsOf: line) }
    return Array(out.prefix(count))
}

/// Runs `body`, expecting a CompressionError from `codec`; returns its kind.
@discardableResult
func expectCompressionError(
    _ codec: CompressionCodec, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> [UInt8]
) -> CompressionError.Kind? {
    do {
        let output = try body()
        Issue.record("\(codec.name): expected an error, got \(output.count) bytes", sourceLocation: sourceLocation)
        return nil
    } catch let error as CompressionError {
        #expect(error.codec == codec, sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(codec.name + ":"), sourceLocation: sourceLocation)
        return error.kind
    } catch {
        Issue.record("\(codec.name): unexpected error type \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension CompressionError.Kind {
    var isCorrupt: Bool {
        if case .corrupt = self { return true }
        return false
    }
}

func uint32BE(_ bytes: [UInt8], _ offset: Int) -> Int {
    Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
}

func uint32LE(_ bytes: [UInt8], _ offset: Int) -> Int {
    Int(bytes[offset]) | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2]) << 16 | Int(bytes[offset + 3]) << 24
}

/// A snappy varint (the uncompressed length prefix of a raw block).
func snappyVarint(_ value: Int) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    while value >= 0x80 {
        out.append(UInt8(value & 0x7F) | 0x80)
        value >>= 7
    }
    out.append(UInt8(value))
    return out
}

/// XXH32 (seed 0) of fewer than 16 bytes: an LZ4 frame's header checksum is `(xxh32(FLG...) >> 8) & 0xFF`.
func xxh32Short(_ bytes: [UInt8]) -> UInt32 {
    precondition(bytes.count < 16)
    let prime1: UInt32 = 2_654_435_761, prime2: UInt32 = 2_246_822_519, prime3: UInt32 = 3_266_489_917
    let prime4: UInt32 = 668_265_263, prime5: UInt32 = 374_761_393
    var hash = prime5 &+ UInt32(bytes.count)
    var offset = 0
    while offset + 4 <= bytes.count {
        hash &+= UInt32(uint32LE(bytes, offset)) &* prime3
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

/// Replaces an LZ4 frame's descriptor (FLG, BD and optional fields) and recomputes the header checksum.
func lz4Frame(_ frame: [UInt8], descriptor: [UInt8]) -> [UInt8] {
    precondition(frame[4] & 0x09 == 0, "expects a frame without content size or dictionary id")
    let hc = UInt8(truncatingIfNeeded: xxh32Short(descriptor) >> 8)
    return Array(frame.prefix(4)) + descriptor + [hc] + Array(frame.dropFirst(7))
}
