/// Codecs for the records section of a Kafka record batch (v2), with Kafka's exact framing.
///
/// Decompression always takes a `limit`: the output is refused (``CompressionError/Kind/outputTooLarge(limit:)``)
/// as soon as it would exceed it, and no more than about `limit` bytes are ever allocated for it, so a
/// decompression bomb costs a bounded amount of memory and time.
public enum CompressionCodec: Int16, Sendable, CaseIterable {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4
}

/// A codec failure. `description` names the codec and the problem.
public struct CompressionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The input is not a valid stream for the codec (includes truncation).
        case corrupt(String)
        /// The decompressed output would exceed `limit` bytes.
        case outputTooLarge(limit: Int)
        /// Valid for the codec but not something this implementation decodes (e.g. a zlib preset dictionary).
        case unsupported(String)
    }

    public let codec: CompressionCodec
    public let kind: Kind

    public init(codec: CompressionCodec, kind: Kind) {
        self.codec = codec
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .corrupt(let detail): "\(codec.name): corrupt input: \(detail)"
        case .outputTooLarge(let limit): "\(codec.name): decompressed size exceeds the limit of \(limit) bytes"
        case .unsupported(let detail): "\(codec.name): unsupported: \(detail)"
        }
    }

    static func corrupt(_ codec: CompressionCodec, _ detail: String) -> CompressionError {
        CompressionError(codec: codec, kind: .corrupt(detail))
    }

    static func tooLarge(_ codec: CompressionCodec, _ limit: Int) -> CompressionError {
        CompressionError(codec: codec, kind: .outputTooLarge(limit: limit))
    }
}

extension CompressionCodec {
    /// The codec in the low 3 bits of record batch attributes; nil for the unassigned values 5, 6 and 7.
    public init?(attributes: Int16) {
        self.init(rawValue: attributes & 0x07)
    }

    /// Kafka's name for the codec (as in `compression.type`).
    public var name: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// Compresses with the framing Kafka's Java client writes (snappy: xerial blocks; lz4: independent 64 KiB
    /// blocks, no content size; gzip and zstd: default levels).
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch self {
        case .none: copyBytes(input)
        case .gzip: try Gzip.compress(input)
        case .snappy: try Snappy.compress(input)
        case .lz4: try LZ4.compress(input)
        case .zstd: try Zstd.compress(input)
        }
    }

    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        // Uncompressed output can share the caller's storage.
        if self == .none { return input }
        return try input.withUnsafeBytes { try compress($0) }
    }

    /// Decompresses, refusing (``CompressionError/Kind/outputTooLarge(limit:)``) as soon as the output would exceed
    /// `limit` bytes; never allocates much beyond `limit`. A negative limit counts as 0.
    public func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        let limit = Swift.max(0, limit)
        switch self {
        case .none:
            guard input.count <= limit else { throw CompressionError.tooLarge(self, limit) }
            return copyBytes(input)
        case .gzip: return try Gzip.decompress(input, limit: limit)
        case .snappy: return try Snappy.decompress(input, limit: limit)
        case .lz4: return try LZ4.decompress(input, limit: limit)
        case .zstd: return try Zstd.decompress(input, limit: limit)
        }
    }

    public func decompress(_ input: [UInt8], limit: Int) throws -> [UInt8] {
        if self == .none {
            guard input.count <= Swift.max(0, limit) else { throw CompressionError.tooLarge(self, Swift.max(0, limit)) }
            return input
        }
        return try input.withUnsafeBytes { try decompress($0, limit: limit) }
    }
}
