import KafkaModel
/// One record inside a v2 batch (Kafka's `DefaultRecord`), with its offset and timestamp resolved
/// against the batch header.
///
/// ```
/// length          varint   bytes of the record after this field
/// attributes      int8     unused, 0
/// timestampDelta  varlong  timestamp - batch baseTimestamp
/// offsetDelta     varint   0, 1, 2, ... within the batch
/// key             varint length (-1 = null) + bytes
/// value           varint length (-1 = null, a tombstone) + bytes
/// headerCount     varint
/// headers         key: varint length (>= 0) + UTF-8; value: varint length (-1 = null) + bytes
/// ```
public struct Record: Sendable, Hashable {
    public var offsetDelta: Int32
    public var timestampDelta: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    /// The batch's base offset plus `offsetDelta`.
    public var offset: Int64
    /// The record's own timestamp, or the batch's max timestamp when the batch uses LogAppendTime.
    public var timestamp: Int64

    public init(
        offsetDelta: Int32 = 0, timestampDelta: Int64 = 0, key: [UInt8]?, value: [UInt8]?,
        headers: [RecordHeader] = [], offset: Int64 = 0, timestamp: Int64 = 0
    ) {
        self.offsetDelta = offsetDelta
        self.timestampDelta = timestampDelta
        self.key = key
        self.value = value
        self.headers = headers
        self.offset = offset
        self.timestamp = timestamp
    }

    /// Largest record length accepted while decoding; a bigger one is a corrupt length field.
    static let maximumEncodedLength = Int32.max / 2

    static func decode(from reader: inout ByteReader, batch: RecordBatchHeader) throws(RecordError) -> Record {
        let length = try reader.readVarInt()
        guard length >= 0, Int(length) <= reader.remaining else {
            throw RecordError(.corruptMessage, "record length \(length) does not fit the \(reader.remaining) bytes left in the batch")
        }
        let start = reader.position
        _ = try reader.readUInt8()  // attributes: unused in v2
        let timestampDelta = try reader.readVarLong()
        let offsetDelta = try reader.readVarInt()
        let key = try reader.readNullableBytes()
        let value = try reader.readNullableBytes()
        let headerCount = try reader.readVarInt()
        guard headerCount >= 0 else { throw RecordError(.corruptMessage, "record has negative header count \(headerCount)") }
        var headers: [RecordHeader] = []
        for _ in 0..<headerCount {
            guard let keyBytes = try reader.readNullableBytes() else {
                throw RecordError(.corruptMessage, "record header has a null key")
            }
            let headerValue = try reader.readNullableBytes()
            headers.append(RecordHeader(key: String(decoding: keyBytes, as: UTF8.self), value: headerValue))
        }
        guard reader.position - start == Int(length) else {
            throw RecordError(.corruptMessage, "record length field says \(length) bytes but its fields took \(reader.position - start)")
        }
        let timestamp = batch.timestampType == .logAppendTime ? batch.maxTimestamp : batch.baseTimestamp &+ timestampDelta
        return Record(
            offsetDelta: offsetDelta, timestampDelta: timestampDelta, key: key, value: value, headers: headers,
            offset: batch.baseOffset &+ Int64(offsetDelta), timestamp: timestamp)
    }

    /// Appends the encoded record, length prefix included.
    func encode(to out: inout [UInt8]) {
        var body: [UInt8] = []
        body.reserveCapacity(16 + (key?.count ?? 0) + (value?.count ?? 0))
        body.append(0)
        Varint.append(timestampDelta, to: &body)
        Varint.append(Int64(offsetDelta), to: &body)
        Self.appendNullable(key, to: &body)
        Self.appendNullable(value, to: &body)
        Varint.append(Int64(headers.count), to: &body)
        for header in headers {
            Self.appendNullable(Array(header.key.utf8), to: &body)
            Self.appendNullable(header.value, to: &body)
        }
        Varint.append(Int64(body.count), to: &out)
        out.append(contentsOf: body)
    }

    private static func appendNullable(_ bytes: [UInt8]?, to out: inout [UInt8]) {
        guard let bytes else {
            Varint.append(-1, to: &out)
            return
        }
        Varint.append(Int64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }
}

public struct RecordHeader: Sendable, Hashable {
    public var key: String
    public var value: [UInt8]?

    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// The key of a control record (COMMIT/ABORT markers): int16 version, int16 type.
public enum ControlRecordType: Int16, Sendable {
    case abort = 0
    case commit = 1

    public init?(key: [UInt8]?) {
        guard let key, key.count >= 4 else { return nil }
        self.init(rawValue: Int16(bitPattern: UInt16(key[2]) << 8 | UInt16(key[3])))
    }

    /// Control record key (version 0).
    public var key: [UInt8] { [0, 0, 0, UInt8(rawValue)] }

    /// End-transaction marker value: int16 version 0, int32 coordinator epoch.
    public static func markerValue(coordinatorEpoch: Int32) -> [UInt8] {
        let e = UInt32(bitPattern: coordinatorEpoch)
        return [0, 0, UInt8(e >> 24), UInt8(e >> 16 & 0xFF), UInt8(e >> 8 & 0xFF), UInt8(e & 0xFF)]
    }
}
