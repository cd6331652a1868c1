/// Kafka's UUID (`org.apache.kafka.common.Uuid`): 128 bits, on the wire as 16 big-endian bytes, as text
/// the 22-character URL-safe base64 of those bytes without padding (e.g. a topic id
/// "AAAAAAAAAAAAAAAAAAAAAA" is `zero`).
public struct KafkaUUID: Hashable, Sendable, CustomStringConvertible {
    public var mostSignificantBits: UInt64
    public var leastSignificantBits: UInt64

    public init(mostSignificantBits: UInt64, leastSignificantBits: UInt64) {
        self.mostSignificantBits = mostSignificantBits
        self.leastSignificantBits = leastSignificantBits
    }

    /// The null id (`Uuid.ZERO_UUID`): "no topic id".
    public static let zero = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 0)
    /// Reserved for the KRaft metadata topic (`Uuid.METADATA_TOPIC_ID`); never handed out.
    public static let one = KafkaUUID(mostSignificantBits: 0, leastSignificantBits: 1)

    /// A random version-4 id as Kafka makes them (`Uuid.randomUuid`): never `zero` or `one`, and never
    /// one whose text starts with "-" (it would read as a command-line option).
    public static func random() -> KafkaUUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> KafkaUUID {
        while true {
            // java.util.UUID.randomUUID: version 4 in bits 12-15 of the high half, IETF variant on top of the low.
            let high = (generator.next() & ~0xF000) | 0x4000
            let low = (generator.next() & ~(0xC000 << 48)) | (0x8000 << 48)
            let id = KafkaUUID(mostSignificantBits: high, leastSignificantBits: low)
            if id != .zero, id != .one, !id.description.hasPrefix("-") { return id }
        }
    }

    /// Parses the base64url text form; nil unless it decodes to exactly 16 bytes.
    public init?(_ string: String) {
        guard let bytes = Base64URL.decode(string), bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for byte in bytes[0..<8] { high = high << 8 | UInt64(byte) }
        for byte in bytes[8..<16] { low = low << 8 | UInt64(byte) }
        self.init(mostSignificantBits: high, leastSignificantBits: low)
    }

    /// The 16 bytes, most significant first.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let half = index < 8 ? mostSignificantBits : leastSignificantBits
            return UInt8(truncatingIfNeeded: half >> (8 * (7 - index % 8)))
        }
    }

    public var description: String { Base64URL.encode(bytes) }
}

/// RFC 4648 §5 base64 (URL- and filename-safe alphabet), without padding.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var bits: UInt32 = 0
            for byte in chunk { bits = bits << 8 | UInt32(byte) }
            bits <<= UInt32(8 * (3 - chunk.count))
            for position in 0...chunk.count {  // n bytes give n + 1 characters
                out.append(alphabet[Int((bits >> UInt32(18 - 6 * position)) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var bits: UInt32 = 0
        var bitCount = 0
        var out: [UInt8] = []
        for character in text.utf8 {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            bits = bits << 6 | UInt32(value)
            bitCount += 6
            if bitCount >= 8 {
                bitCount -= 8
                out.append(UInt8(truncatingIfNeeded: bits >> UInt32(bitCount)))
            }
        }
        // Leftover bits must be zero padding of fewer than 6 bits, as a canonical encoder leaves them.
        guard bitCount < 6, bits & ((1 << UInt32(bitCount)) - 1) == 0 else { return nil }
        return out
    }
}
