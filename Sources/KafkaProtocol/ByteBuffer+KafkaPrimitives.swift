import NIOCore

// Kafka's wire types (`org.apache.kafka.common.protocol.types.Type` and the generated message code) on
// NIO's ByteBuffer. Everything is big-endian. `read*` moves the reader index past the value and throws
// ProtocolError when the bytes are truncated or malformed; it never traps on input. `write*` appends.
//
// Non-flexible encodings use fixed-width lengths (int16 for strings, int32 for bytes and arrays, -1 for
// null). Flexible versions use the compact forms: an unsigned varint holding length + 1, 0 for null.
// Unsigned varints (lengths, tags) are plain LEB128; varint/varlong (record format) are zig-zag.

// MARK: - Fixed-width values

extension ByteBuffer {
    /// INT8, INT16, INT32, INT64 or UINT16.
    public mutating func readKafkaInteger<T: FixedWidthInteger>(as type: T.Type = T.self) throws(ProtocolError) -> T {
        guard let value = readInteger(endianness: .big, as: T.self) else {
            throw .truncated("\(T.self)", needs: MemoryLayout<T>.size, remaining: readableBytes)
        }
        return value
    }

    public mutating func writeKafkaInteger<T: FixedWidthInteger>(_ value: T) {
        writeInteger(value, endianness: .big)
    }

    /// BOOLEAN: one byte, anything but 0 is true (as Kafka reads it).
    public mutating func readKafkaBool() throws(ProtocolError) -> Bool {
        try readKafkaInteger(as: UInt8.self) != 0
    }

    public mutating func writeKafkaBool(_ value: Bool) {
        writeInteger(value ? 1 : 0, as: UInt8.self)
    }

    /// FLOAT64: an IEEE 754 double, big-endian.
    public mutating func readKafkaFloat64() throws(ProtocolError) -> Double {
        Double(bitPattern: try readKafkaInteger(as: UInt64.self))
    }

    public mutating func writeKafkaFloat64(_ value: Double) {
        writeInteger(value.bitPattern, endianness: .big)
    }

    /// UUID: 16 bytes, most significant half first.
    public mutating func readKafkaUUID() throws(ProtocolError) -> KafkaUUID {
        guard readableBytes >= 16 else { throw .truncated("uuid", needs: 16, remaining: readableBytes) }
        let high = try readKafkaInteger(as: UInt64.self)
        let low = try readKafkaInteger(as: UInt64.self)
        return KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
    }

    public mutating func writeKafkaUUID(_ value: KafkaUUID) {
        writeInteger(value.mostSignificantBits, endianness: .big)
        writeInteger(value.leastSignificantBits, endianness: .big)
    }
}

// MARK: - Variable-length integers

extension ByteBuffer {
    /// UNSIGNED_VARINT: LEB128, at most 5 bytes and 32 bits (`ByteUtils.readUnsignedVarint`).
    public mutating func readKafkaUnsignedVarInt() throws(ProtocolError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readKafkaUnsignedVarInt(maxBits: 32))
    }

    public mutating func writeKafkaUnsignedVarInt(_ value: UInt32) {
        writeKafkaUnsignedVarLong(UInt64(value))
    }

    /// An unsigned LEB128 of at most 10 bytes and 64 bits.
    public mutating func readKafkaUnsignedVarLong() throws(ProtocolError) -> UInt64 {
        try readKafkaUnsignedVarInt(maxBits: 64)
    }

    public mutating func writeKafkaUnsignedVarLong(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            writeInteger(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        writeInteger(UInt8(rest))
    }

    /// VARINT: zig-zag encoded, as record headers use it.
    public mutating func readKafkaVarInt() throws(ProtocolError) -> Int32 {
        let raw = try readKafkaUnsignedVarInt()
        return Int32(bitPattern: raw >> 1) ^ -Int32(bitPattern: raw & 1)
    }

    public mutating func writeKafkaVarInt(_ value: Int32) {
        writeKafkaUnsignedVarInt(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    /// VARLONG: zig-zag encoded 64-bit integer.
    public mutating func readKafkaVarLong() throws(ProtocolError) -> Int64 {
        let raw = try readKafkaUnsignedVarLong()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    public mutating func writeKafkaVarLong(_ value: Int64) {
        writeKafkaUnsignedVarLong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// LEB128 refusing more bytes than `maxBits` needs, and set bits beyond `maxBits` in the last byte.
    private mutating func readKafkaUnsignedVarInt(maxBits: Int) throws(ProtocolError) -> UInt64 {
        var result: UInt64 = 0
        var shift = 0
        while true {
            guard let byte = readInteger(as: UInt8.self) else {
                throw ProtocolError(.truncated, "unsigned varint ends after \(shift / 7) bytes")
            }
            let payload = UInt64(byte & 0x7F)
            if shift + 7 > maxBits, byte & 0x80 != 0 || payload >> (maxBits - shift) != 0 {
                throw ProtocolError(.varintTooLong, "unsigned varint does not fit \(maxBits) bits")
            }
            result |= payload << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }
}

// MARK: - Lengths

extension ByteBuffer {
    /// A length or count prefix: int16 or int32 in non-flexible versions, unsigned varint N+1 in compact
    /// ones. Nil means null (-1, or 0 compact), which throws unless `nullAllowed`; anything else negative
    /// throws, and so does a length larger than the bytes left (every element of a Kafka array takes at
    /// least one byte), so that a hostile count never makes us allocate.
    mutating func readKafkaLength(
        _ what: String,
        compact: Bool,
        int16: Bool = false,
        nullAllowed: Bool = true
    ) throws(ProtocolError) -> Int? {
        let length: Int
        if compact {
            length = Int(try readKafkaUnsignedVarInt()) - 1
        } else if int16 {
            length = Int(try readKafkaInteger(as: Int16.self))
        } else {
            length = Int(try readKafkaInteger(as: Int32.self))
        }
        if length == -1 {
            guard nullAllowed else { throw ProtocolError(.invalidLength, "\(what) is null where null is not allowed") }
            return nil
        }
        guard length >= 0 else { throw ProtocolError(.invalidLength, "\(what) has negative length \(length)") }
        guard length <= readableBytes else {
            throw ProtocolError(.truncated, "\(what) of length \(length) but \(readableBytes) bytes remain")
        }
        return length
    }

    /// A length that must not be null.
    mutating func readKafkaNonNullLength(
        _ what: String,
        compact: Bool,
        int16: Bool = false
    ) throws(ProtocolError) -> Int {
        // readKafkaLength already throws for null here; the guard only unwraps.
        guard let length = try readKafkaLength(what, compact: compact, int16: int16, nullAllowed: false) else {
            throw ProtocolError(.invalidLength, "\(what) is null where null is not allowed")
        }
        return length
    }

    /// Writes a length prefix; nil writes null.
    mutating func writeKafkaLength(_ length: Int?, compact: Bool, int16: Bool = false) {
        if compact {
            writeKafkaUnsignedVarInt(UInt32(length.map { $0 + 1 } ?? 0))
        } else if int16 {
            writeInteger(Int16(length ?? -1))
        } else {
            writeInteger(Int32(length ?? -1))
        }
    }
}

// MARK: - Strings

extension ByteBuffer {
    /// The longest string Kafka encodes: its length must fit an int16, in compact versions too.
    public static let kafkaMaximumStringLength = Int(Int16.max)

    /// STRING / COMPACT_STRING, which must be valid UTF-8 and not null.
    public mutating func readKafkaString(compact: Bool) throws(ProtocolError) -> String {
        let length = try readKafkaNonNullLength("string", compact: compact, int16: true)
        return try readKafkaUTF8(length: length)
    }

    /// NULLABLE_STRING / COMPACT_NULLABLE_STRING. With `nullAllowed` false (a version where the field is
    /// not nullable), null throws.
    public mutating func readKafkaNullableString(
        compact: Bool,
        nullAllowed: Bool = true
    ) throws(ProtocolError) -> String? {
        guard let length = try readKafkaLength("string", compact: compact, int16: true, nullAllowed: nullAllowed) else {
            return nil
        }
        return try readKafkaUTF8(length: length)
    }

    /// Writes a string. Kafka refuses strings longer than 32767 bytes; so does this (a precondition, since
    /// it is the caller's value, never input).
    public mutating func writeKafkaString(_ value: String, compact: Bool) {
        let length = value.utf8.count
        precondition(length <= Self.kafkaMaximumStringLength, "a Kafka string is at most 32767 bytes, not \(length)")
        writeKafkaLength(length, compact: compact, int16: true)
        writeString(value)
    }

    /// Writes a nullable string; nil in a version without null (`nullAllowed` false) writes "".
    public mutating func writeKafkaNullableString(_ value: String?, compact: Bool, nullAllowed: Bool = true) {
        if let value {
            writeKafkaString(value, compact: compact)
        } else {
            writeKafkaLength(nullAllowed ? nil : 0, compact: compact, int16: true)
        }
    }

    private mutating func readKafkaUTF8(length: Int) throws(ProtocolError) -> String {
        guard length <= Self.kafkaMaximumStringLength else {
            throw ProtocolError(.invalidLength, "string of length \(length) is longer than 32767")
        }
        let string = withUnsafeReadableBytes { bytes in
            String(validating: UnsafeRawBufferPointer(rebasing: bytes[..<length]), as: UTF8.self)
        }
        guard let string else { throw ProtocolError(.invalidUTF8, "string of length \(length) is not UTF-8") }
        moveReaderIndex(forwardBy: length)
        return string
    }
}

// MARK: - Bytes and records

extension ByteBuffer {
    /// BYTES / COMPACT_BYTES, not null.
    public mutating func readKafkaBytes(compact: Bool) throws(ProtocolError) -> [UInt8] {
        let length = try readKafkaNonNullLength("bytes", compact: compact)
        return readBytes(length: length) ?? []
    }

    /// NULLABLE_BYTES / COMPACT_NULLABLE_BYTES; null throws unless `nullAllowed`.
    public mutating func readKafkaNullableBytes(
        compact: Bool,
        nullAllowed: Bool = true
    ) throws(ProtocolError) -> [UInt8]? {
        guard let length = try readKafkaLength("bytes", compact: compact, nullAllowed: nullAllowed) else { return nil }
        return readBytes(length: length) ?? []
    }

    public mutating func writeKafkaBytes(_ value: [UInt8], compact: Bool) {
        writeKafkaLength(value.count, compact: compact)
        writeBytes(value)
    }

    /// Writes nullable bytes; nil in a version without null (`nullAllowed` false) writes empty bytes.
    public mutating func writeKafkaNullableBytes(_ value: [UInt8]?, compact: Bool, nullAllowed: Bool = true) {
        if let value {
            writeKafkaBytes(value, compact: compact)
        } else {
            writeKafkaLength(nullAllowed ? nil : 0, compact: compact)
        }
    }

    /// RECORDS / COMPACT_RECORDS: nullable bytes, returned as a slice of this buffer (no copy).
    public mutating func readKafkaRecords(
        compact: Bool,
        nullAllowed: Bool = true
    ) throws(ProtocolError) -> ByteBuffer? {
        let length = try readKafkaLength("records", compact: compact, nullAllowed: nullAllowed)
        guard let length else { return nil }
        return readSlice(length: length)
    }

    public mutating func writeKafkaRecords(_ value: ByteBuffer?, compact: Bool, nullAllowed: Bool = true) {
        if let value {
            writeKafkaLength(value.readableBytes, compact: compact)
            writeImmutableBuffer(value)
        } else {
            writeKafkaLength(nullAllowed ? nil : 0, compact: compact)
        }
    }
}

// MARK: - Arrays

extension ByteBuffer {
    /// ARRAY / COMPACT_ARRAY, not null, each element read by `element`.
    public mutating func readKafkaArray<Element>(
        compact: Bool,
        element: (inout ByteBuffer) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element] {
        let count = try readKafkaNonNullLength("array", compact: compact)
        return try readKafkaElements(count: count, element)
    }

    /// A nullable array; null throws unless `nullAllowed`.
    public mutating func readKafkaNullableArray<Element>(
        compact: Bool,
        nullAllowed: Bool = true,
        element: (inout ByteBuffer) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element]? {
        guard let count = try readKafkaLength("array", compact: compact, nullAllowed: nullAllowed) else { return nil }
        return try readKafkaElements(count: count, element)
    }

    public mutating func writeKafkaArray<Element>(
        _ elements: [Element],
        compact: Bool,
        element: (inout ByteBuffer, Element) -> Void
    ) {
        writeKafkaLength(elements.count, compact: compact)
        for value in elements { element(&self, value) }
    }

    /// Writes a nullable array; nil in a version without null (`nullAllowed` false) writes an empty array.
    public mutating func writeKafkaNullableArray<Element>(
        _ elements: [Element]?,
        compact: Bool,
        nullAllowed: Bool = true,
        element: (inout ByteBuffer, Element) -> Void
    ) {
        if let elements {
            writeKafkaArray(elements, compact: compact, element: element)
        } else {
            writeKafkaLength(nullAllowed ? nil : 0, compact: compact)
        }
    }

    private mutating func readKafkaElements<Element>(
        count: Int,
        _ element: (inout ByteBuffer) throws(ProtocolError) -> Element
    ) throws(ProtocolError) -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)  // count <= readableBytes, checked by readKafkaLength
        for _ in 0..<count { elements.append(try element(&self)) }
        return elements
    }
}

// MARK: - Tagged fields

extension ByteBuffer {
    /// A tagged-field section: `uvarint count`, then per field `uvarint tag, uvarint size, size bytes`.
    /// `field` gets each tag with a slice holding exactly that field's bytes; what it leaves unread, and
    /// every tag it does not know, is skipped (as Kafka skips unknown tags).
    public mutating func readKafkaTaggedFields(
        _ field: (_ tag: UInt32, _ value: inout ByteBuffer) throws(ProtocolError) -> Void
    ) throws(ProtocolError) {
        let count = try readKafkaUnsignedVarInt()
        for _ in 0..<count {
            let tag = try readKafkaUnsignedVarInt()
            let size = Int(try readKafkaUnsignedVarInt())
            guard var value = readSlice(length: size) else {
                throw ProtocolError(.truncated, "tagged field \(tag) of size \(size) but \(readableBytes) bytes remain")
            }
            try field(tag, &value)
        }
    }

    /// Reads a tagged-field section and ignores every field in it.
    public mutating func skipKafkaTaggedFields() throws(ProtocolError) {
        try readKafkaTaggedFields { _, _ in }
    }

    /// A tagged-field section with no fields.
    public mutating func writeKafkaEmptyTaggedFields() {
        writeInteger(0, as: UInt8.self)
    }

    /// Writes the fields collected in `fields`, in the order they were added (ascending tags).
    public mutating func writeKafkaTaggedFields(_ fields: KafkaTaggedFields) {
        writeKafkaUnsignedVarInt(UInt32(fields.fields.count))
        for (tag, value) in fields.fields {
            writeKafkaUnsignedVarInt(tag)
            writeKafkaUnsignedVarInt(UInt32(value.readableBytes))
            writeImmutableBuffer(value)
        }
    }
}

/// The tagged fields of one struct, collected before the section is written because the section starts
/// with their count and each field with its size.
public struct KafkaTaggedFields {
    fileprivate var fields: [(tag: UInt32, value: ByteBuffer)] = []

    public init() {}

    /// Adds a field; add them in ascending tag order. `write` encodes the value (in flexible form).
    public mutating func add(tag: UInt32, _ write: (inout ByteBuffer) -> Void) {
        var value = ByteBuffer()
        write(&value)
        fields.append((tag, value))
    }
}
