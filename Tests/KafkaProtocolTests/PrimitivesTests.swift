import KafkaProtocol
import NIOCore
import Testing

@Suite struct PrimitivesTests {
    @Test func unsignedVarInts() throws {
        let cases: [(UInt32, String)] = [
            (0, "00"), (1, "01"), (127, "7f"), (128, "8001"), (300, "ac02"), (16_383, "ff7f"), (16_384, "808001"),
            (UInt32.max, "ffffffff0f"),
        ]
        for (value, hex) in cases {
            var buffer = ByteBuffer()
            buffer.writeKafkaUnsignedVarInt(value)
            #expect(buffer.hex == hex)
            #expect(try buffer.readKafkaUnsignedVarInt() == value)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test func zigZagVarIntsAndVarLongs() throws {
        let ints: [(Int32, String)] = [
            (0, "00"), (-1, "01"), (1, "02"), (-64, "7f"), (64, "8001"), (Int32.max, "feffffff0f"),
            (Int32.min, "ffffffff0f"),
        ]
        for (value, hex) in ints {
            var buffer = ByteBuffer()
            buffer.writeKafkaVarInt(value)
            #expect(buffer.hex == hex)
            #expect(try buffer.readKafkaVarInt() == value)
        }
        for value: Int64 in [0, -1, 1, 1 << 40, -(1 << 40), .max, .min] {
            var buffer = ByteBuffer()
            buffer.writeKafkaVarLong(value)
            #expect(try buffer.readKafkaVarLong() == value)
            #expect(buffer.readableBytes == 0)
        }
        var longest = ByteBuffer()
        longest.writeKafkaUnsignedVarLong(.max)
        #expect(longest.hex == "ffffffffffffffffff01")
    }

    @Test func overlongAndTruncatedVarIntsThrow() {
        for hex in ["ffffffff1f", "8080808080", "ffffffffffff"] {
            var buffer = hexBuffer(hex)
            #expect(throws: ProtocolError.self, "\(hex)") { try buffer.readKafkaUnsignedVarInt() }
        }
        var long = hexBuffer("ffffffffffffffffff02")
        #expect(throws: ProtocolError.self) { try long.readKafkaUnsignedVarLong() }
        for hex in ["", "80", "ff80"] {
            var buffer = hexBuffer(hex)
            #expect(throws: ProtocolError.self) { try buffer.readKafkaUnsignedVarInt() }
        }
    }

    @Test func fixedWidth() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaInteger(Int8(-2))
        buffer.writeKafkaInteger(Int16(0x0102))
        buffer.writeKafkaInteger(Int32(-1))
        buffer.writeKafkaInteger(Int64(0x0102_0304_0506_0708))
        buffer.writeKafkaInteger(UInt16(0xFFFE))
        buffer.writeKafkaBool(true)
        buffer.writeKafkaFloat64(1.5)
        #expect(buffer.hex == "fe" + "0102" + "ffffffff" + "0102030405060708" + "fffe" + "01" + "3ff8000000000000")
        #expect(try buffer.readKafkaInteger(as: Int8.self) == -2)
        #expect(try buffer.readKafkaInteger(as: Int16.self) == 0x0102)
        #expect(try buffer.readKafkaInteger(as: Int32.self) == -1)
        #expect(try buffer.readKafkaInteger(as: Int64.self) == 0x0102_0304_0506_0708)
        #expect(try buffer.readKafkaInteger(as: UInt16.self) == 0xFFFE)
        #expect(try buffer.readKafkaBool())
        #expect(try buffer.readKafkaFloat64() == 1.5)
        #expect(throws: ProtocolError.self) { try buffer.readKafkaInteger(as: Int8.self) }
        var two = hexBuffer("0000 02")
        #expect(throws: ProtocolError.self) { try two.readKafkaInteger(as: Int32.self) }
        var anyNonZero = hexBuffer("02")
        #expect(try anyNonZero.readKafkaBool())
    }

    @Test func strings() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaString("hé", compact: false)
        buffer.writeKafkaString("hé", compact: true)
        buffer.writeKafkaNullableString(nil, compact: false)
        buffer.writeKafkaNullableString(nil, compact: true)
        buffer.writeKafkaNullableString(nil, compact: true, nullAllowed: false)  // a version without null: ""
        buffer.writeKafkaString("", compact: false)
        #expect(buffer.hex == "0003 68c3a9  04 68c3a9  ffff  00  01  0000".filter { $0 != " " })
        #expect(try buffer.readKafkaString(compact: false) == "hé")
        #expect(try buffer.readKafkaNullableString(compact: true) == "hé")
        #expect(try buffer.readKafkaNullableString(compact: false) == nil)
        #expect(try buffer.readKafkaNullableString(compact: true) == nil)
        #expect(try buffer.readKafkaString(compact: true) == "")
        #expect(try buffer.readKafkaNullableString(compact: false) == "")
    }

    @Test func malformedStringsThrow() {
        let cases: [(hex: String, compact: Bool, kind: ProtocolError.Kind)] = [
            ("ffff", false, .invalidLength),  // null where not nullable
            ("00", true, .invalidLength),  // compact null
            ("fffe", false, .invalidLength),  // negative
            ("0005 6162", false, .truncated),
            ("06 6162", true, .truncated),
            ("0002 c328", false, .invalidUTF8),
            ("03 ff61", true, .invalidUTF8),
            ("808004", true, .truncated),  // 65535 bytes announced, none there
        ]
        for (hex, compact, kind) in cases {
            var buffer = hexBuffer(hex)
            do {
                _ = try buffer.readKafkaString(compact: compact)
                Issue.record("\(hex) decoded")
            } catch {
                #expect(error.kind == kind, "\(hex): \(error)")
            }
        }
        var tooLong = ByteBuffer()
        tooLong.writeKafkaUnsignedVarInt(32_769)
        tooLong.writeRepeatingByte(0x61, count: 32_768)
        #expect(throws: ProtocolError.self) { try tooLong.readKafkaString(compact: true) }
        var nullNotAllowed = hexBuffer("ffff")
        #expect(throws: ProtocolError.self) {
            try nullNotAllowed.readKafkaNullableString(compact: false, nullAllowed: false)
        }
    }

    @Test func bytesAndRecords() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaBytes([1, 2], compact: false)
        buffer.writeKafkaBytes([1, 2], compact: true)
        buffer.writeKafkaNullableBytes(nil, compact: false)
        buffer.writeKafkaRecords(ByteBuffer(bytes: [9, 8, 7]), compact: true)
        buffer.writeKafkaRecords(nil, compact: false)
        #expect(buffer.hex == "00000002 0102  03 0102  ffffffff  04 090807  ffffffff".filter { $0 != " " })
        #expect(try buffer.readKafkaBytes(compact: false) == [1, 2])
        #expect(try buffer.readKafkaNullableBytes(compact: true) == [1, 2])
        #expect(try buffer.readKafkaNullableBytes(compact: false) == nil)
        #expect(try buffer.readKafkaRecords(compact: true) == ByteBuffer(bytes: [9, 8, 7]))
        #expect(try buffer.readKafkaRecords(compact: false) == nil)

        var huge = hexBuffer("7fffffff 00")
        #expect(throws: ProtocolError.self) { try huge.readKafkaBytes(compact: false) }
        var negative = hexBuffer("fffffffe")
        #expect(throws: ProtocolError.self) { try negative.readKafkaRecords(compact: false) }
    }

    @Test func arrays() throws {
        var buffer = ByteBuffer()
        buffer.writeKafkaArray([Int32(1), 2], compact: false) { $0.writeKafkaInteger($1) }
        buffer.writeKafkaArray(["a"], compact: true) { $0.writeKafkaString($1, compact: true) }
        buffer.writeKafkaNullableArray([Int8]?.none, compact: false) { $0.writeKafkaInteger($1) }
        buffer.writeKafkaNullableArray([Int8]?.none, compact: true) { $0.writeKafkaInteger($1) }
        #expect(buffer.hex == "00000002 00000001 00000002  02 0261  ffffffff  00".filter { $0 != " " })
        func int32(_ b: inout ByteBuffer) throws(ProtocolError) -> Int32 { try b.readKafkaInteger() }
        func int8(_ b: inout ByteBuffer) throws(ProtocolError) -> Int8 { try b.readKafkaInteger() }
        func string(_ b: inout ByteBuffer) throws(ProtocolError) -> String { try b.readKafkaString(compact: true) }
        #expect(try buffer.readKafkaArray(compact: false, element: int32) == [1, 2])
        #expect(try buffer.readKafkaArray(compact: true, element: string) == ["a"])
        #expect(try buffer.readKafkaNullableArray(compact: false, element: int8) == nil)
        #expect(throws: ProtocolError.self) { try buffer.readKafkaArray(compact: true, element: int8) }

        // A count larger than the bytes left is refused before anything is allocated.
        var hostile = hexBuffer("7fffffff 01 02 03")
        #expect(throws: ProtocolError.self) { try hostile.readKafkaArray(compact: false, element: int8) }
    }

    @Test func taggedFields() throws {
        var fields = KafkaTaggedFields()
        fields.add(tag: 1) { $0.writeKafkaInteger(Int32(7)) }
        fields.add(tag: 300) { $0.writeKafkaString("x", compact: true) }
        var buffer = ByteBuffer()
        buffer.writeKafkaTaggedFields(fields)
        buffer.writeKafkaEmptyTaggedFields()
        #expect(buffer.hex == "02 01 04 00000007  ac02 02 0278  00".filter { $0 != " " })

        var seen: [UInt32: ByteBuffer] = [:]
        try buffer.readKafkaTaggedFields { tag, value in seen[tag] = value }
        #expect(seen == [1: hexBuffer("00000007"), 300: hexBuffer("0278")])
        try buffer.skipKafkaTaggedFields()
        #expect(buffer.readableBytes == 0)

        var truncated = hexBuffer("01 05 04 0000")
        #expect(throws: ProtocolError.self) { try truncated.skipKafkaTaggedFields() }
        var missingFields = hexBuffer("03 01 00")
        #expect(throws: ProtocolError.self) { try missingFields.skipKafkaTaggedFields() }
    }

    @Test func uuids() throws {
        #expect(KafkaUUID.zero.description == "AAAAAAAAAAAAAAAAAAAAAA")
        #expect(KafkaUUID.one.description == "AAAAAAAAAAAAAAAAAAAAAQ")
        let id = KafkaUUID(mostSignificantBits: 0x0123_4567_89AB_CDEF, leastSignificantBits: 0xFEDC_BA98_7654_3210)
        // base64url of 0123456789abcdeffedcba9876543210 without padding
        #expect(id.description == "ASNFZ4mrze_-3LqYdlQyEA")
        #expect(KafkaUUID("ASNFZ4mrze_-3LqYdlQyEA") == id)
        #expect(KafkaUUID("ASNFZ4mrze/+3LqYdlQyEA") == nil)  // standard alphabet is not Kafka's
        #expect(KafkaUUID("ASNFZ4mrze_-3LqYdlQy") == nil)  // 15 bytes
        #expect(KafkaUUID("") == nil)

        var buffer = ByteBuffer()
        buffer.writeKafkaUUID(id)
        #expect(buffer.hex == "0123456789abcdeffedcba9876543210")
        #expect(try buffer.readKafkaUUID() == id)
        var short = hexBuffer("0123456789abcdeffedcba98765432")
        #expect(throws: ProtocolError.self) { try short.readKafkaUUID() }

        var generator = SplitMix64(seed: 42)
        for _ in 0..<1000 {
            let random = KafkaUUID.random(using: &generator)
            #expect(random != .zero && random != .one && !random.description.hasPrefix("-"))
            #expect(random.description.count == 22 && KafkaUUID(random.description) == random)
            #expect(random.mostSignificantBits >> 12 & 0xF == 4)  // version 4
        }
    }
}
