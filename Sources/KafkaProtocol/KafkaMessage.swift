import NIOCore

/// A struct of Kafka's wire protocol: a whole message, or a struct nested in one. Generated from Kafka's
/// JSON specs (`Generated/`). Fields a version lacks are skipped when reading and writing; a value set
/// in such a field is not written.
public protocol KafkaStruct: Sendable, Equatable {
    /// Reads the struct at `version`, which the caller has checked is valid for the message.
    init(from buffer: inout ByteBuffer, version: Int16) throws(ProtocolError)
    func write(to buffer: inout ByteBuffer, version: Int16)
}

/// A top-level message: a request or response body, or a header.
public protocol KafkaMessage: KafkaStruct {
    /// The versions the spec defines (`validVersions`).
    static var validVersions: ClosedRange<Int16> { get }
    /// The first version with compact encodings and tagged fields, or nil when none is flexible.
    static var firstFlexibleVersion: Int16? { get }
}

/// A request body; `Response` is the body that answers it.
public protocol KafkaRequest: KafkaMessage {
    associatedtype Response: KafkaResponse
    static var apiKey: ApiKey { get }
}

/// A response body.
public protocol KafkaResponse: KafkaMessage {
    static var apiKey: ApiKey { get }
}

extension KafkaMessage {
    /// Whether `version` uses the flexible encoding.
    public static func isFlexible(_ version: Int16) -> Bool {
        firstFlexibleVersion.map { version >= $0 } ?? false
    }

    /// Reads a message, checking the version first, and names the message and version in any error.
    public static func decode(from buffer: inout ByteBuffer, version: Int16) throws(ProtocolError) -> Self {
        guard validVersions.contains(version) else {
            throw ProtocolError(.unsupportedVersion, "\(Self.self) has no version \(version) (valid: \(validVersions))")
        }
        do {
            return try Self(from: &buffer, version: version)
        } catch {
            throw error.inContext("\(Self.self) v\(version)")
        }
    }
}

extension KafkaStruct {
    /// The struct encoded at `version` in a new buffer.
    public func encoded(version: Int16) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(to: &buffer, version: version)
        return buffer
    }
}

// MARK: - Array elements in generated code

/// A scalar that can be an element of a Kafka array (`[]int32`, `[]string`, ...).
protocol KafkaArrayScalar {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> Self
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool)
}

extension KafkaArrayScalar where Self: FixedWidthInteger {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> Self {
        try buffer.readKafkaInteger(as: Self.self)
    }
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool) { buffer.writeKafkaInteger(self) }
}

extension Int8: KafkaArrayScalar {}
extension Int16: KafkaArrayScalar {}
extension Int32: KafkaArrayScalar {}
extension Int64: KafkaArrayScalar {}
extension UInt16: KafkaArrayScalar {}

extension Bool: KafkaArrayScalar {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> Bool {
        try buffer.readKafkaBool()
    }
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool) { buffer.writeKafkaBool(self) }
}

extension Double: KafkaArrayScalar {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> Double {
        try buffer.readKafkaFloat64()
    }
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool) { buffer.writeKafkaFloat64(self) }
}

extension String: KafkaArrayScalar {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> String {
        try buffer.readKafkaString(compact: compact)
    }
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool) {
        buffer.writeKafkaString(self, compact: compact)
    }
}

extension KafkaUUID: KafkaArrayScalar {
    static func readKafkaElement(from buffer: inout ByteBuffer, compact: Bool) throws(ProtocolError) -> KafkaUUID {
        try buffer.readKafkaUUID()
    }
    func writeKafkaElement(to buffer: inout ByteBuffer, compact: Bool) { buffer.writeKafkaUUID(self) }
}

// The forms generated code calls: one spelling for arrays of structs and arrays of scalars.
extension ByteBuffer {
    mutating func readKafkaArray<Element: KafkaStruct>(
        of type: Element.Type, version: Int16, compact: Bool
    ) throws(ProtocolError) -> [Element] {
        try readKafkaArray(compact: compact) { (buffer) throws(ProtocolError) in
            try Element(from: &buffer, version: version)
        }
    }

    mutating func readKafkaNullableArray<Element: KafkaStruct>(
        of type: Element.Type, version: Int16, compact: Bool, nullAllowed: Bool = true
    ) throws(ProtocolError) -> [Element]? {
        try readKafkaNullableArray(compact: compact, nullAllowed: nullAllowed) { (buffer) throws(ProtocolError) in
            try Element(from: &buffer, version: version)
        }
    }

    mutating func readKafkaArray<Element: KafkaArrayScalar>(
        of type: Element.Type, version: Int16, compact: Bool
    ) throws(ProtocolError) -> [Element] {
        try readKafkaArray(compact: compact) { (buffer) throws(ProtocolError) in
            try Element.readKafkaElement(from: &buffer, compact: compact)
        }
    }

    mutating func readKafkaNullableArray<Element: KafkaArrayScalar>(
        of type: Element.Type, version: Int16, compact: Bool, nullAllowed: Bool = true
    ) throws(ProtocolError) -> [Element]? {
        try readKafkaNullableArray(compact: compact, nullAllowed: nullAllowed) { (buffer) throws(ProtocolError) in
            try Element.readKafkaElement(from: &buffer, compact: compact)
        }
    }

    mutating func writeKafkaArray<Element: KafkaStruct>(_ elements: [Element], version: Int16, compact: Bool) {
        writeKafkaArray(elements, compact: compact) { $1.write(to: &$0, version: version) }
    }

    mutating func writeKafkaNullableArray<Element: KafkaStruct>(
        _ elements: [Element]?, version: Int16, compact: Bool, nullAllowed: Bool = true
    ) {
        writeKafkaNullableArray(elements, compact: compact, nullAllowed: nullAllowed) {
            $1.write(to: &$0, version: version)
        }
    }

    mutating func writeKafkaArray<Element: KafkaArrayScalar>(_ elements: [Element], version: Int16, compact: Bool) {
        writeKafkaArray(elements, compact: compact) { $1.writeKafkaElement(to: &$0, compact: compact) }
    }

    mutating func writeKafkaNullableArray<Element: KafkaArrayScalar>(
        _ elements: [Element]?, version: Int16, compact: Bool, nullAllowed: Bool = true
    ) {
        writeKafkaNullableArray(elements, compact: compact, nullAllowed: nullAllowed) {
            $1.writeKafkaElement(to: &$0, compact: compact)
        }
    }
}
