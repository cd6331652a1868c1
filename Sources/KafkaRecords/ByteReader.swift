import KafkaModel
/// A cursor over raw bytes for decoding records: bounds-checked, throws CORRUPT_MESSAGE on any overrun.
struct ByteReader: ~Copyable {
    private let bytes: UnsafeRawBufferPointer
    private(set) var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }
    var isAtEnd: Bool { position == bytes.count }

    mutating func readUInt8() throws(RecordError) -> UInt8 {
        guard position < bytes.count else { throw Self.overrun("a byte") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readBytes(_ count: Int) throws(RecordError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw Self.overrun("\(count) bytes") }
        defer { position += count }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[position..<position + count]))
    }

    /// Unsigned LEB128, at most 10 bytes.
    mutating func readUnsignedVarLong() throws(RecordError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readUInt8()
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw RecordError(.corruptMessage, "varint is longer than 10 bytes") }
        }
    }

    /// Zig-zag varint (`ByteUtils.readVarint`), refused when it does not fit 32 bits.
    mutating func readVarInt() throws(RecordError) -> Int32 {
        let raw = try readUnsignedVarLong()
        guard raw <= UInt64(UInt32.max) else { throw RecordError(.corruptMessage, "varint does not fit 32 bits") }
        return Int32(truncatingIfNeeded: Varint.zigZagDecode(raw))
    }

    /// Zig-zag varlong (`ByteUtils.readVarlong`).
    mutating func readVarLong() throws(RecordError) -> Int64 {
        Varint.zigZagDecode(try readUnsignedVarLong())
    }

    /// A varint length followed by that many bytes; -1 means null.
    mutating func readNullableBytes() throws(RecordError) -> [UInt8]? {
        let length = try readVarInt()
        if length == -1 { return nil }
        guard length >= 0 else { throw RecordError(.corruptMessage, "negative length \(length)") }
        return try readBytes(Int(length))
    }

    private static func overrun(_ what: String) -> RecordError {
        RecordError(.corruptMessage, "record data ends before \(what) could be read")
    }
}

/// Zig-zag variable-length integers as Kafka's records use them.
public enum Varint {
    @inlinable public static func zigZagEncode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    @inlinable public static func zigZagDecode(_ raw: UInt64) -> Int64 {
        Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    public static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    public static func append(_ value: Int64, to out: inout [UInt8]) {
        appendUnsigned(zigZagEncode(value), to: &out)
    }

    /// Bytes the zig-zag encoding of `value` takes.
    public static func size(of value: Int64) -> Int {
        var v = zigZagEncode(value)
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }
}

extension ByteReader {
    /// Skips a varint-length-prefixed field without copying it; returns whether it was null.
    @discardableResult
    mutating func skipNullableBytes() throws(RecordError) -> Bool {
        let length = try readVarInt()
        if length == -1 { return true }
        guard length >= 0, Int(length) <= remaining else {
            throw RecordError(.corruptMessage, "field length \(length) does not fit the \(remaining) bytes left")
        }
        position += Int(length)
        return false
    }
}

/// Runs `body` over the bytes, keeping the typed error that the standard library's rethrowing
/// `withUnsafeBytes` would widen to `any Error`.
func withBytes<R>(
    of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(RecordError) -> R
) throws(RecordError) -> R {
    try array.withUnsafeBytes { bytes in Result { () throws(RecordError) -> R in try body(bytes) } }.get()
}
