import KafkaModel
import KafkaCompression

/// The 61-byte header of a record batch, magic v2 (Kafka's `DefaultRecordBatch`). Big-endian.
///
/// ```
/// offset size field
///      0    8 baseOffset            assigned by the leader; producers send 0
///      8    4 length                bytes after this field (batch size - 12)
///     12    4 partitionLeaderEpoch  set by the leader; not covered by the CRC
///     16    1 magic                 2
///     17    4 crc                   CRC-32C of bytes [21, end)
///     21    2 attributes            bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control, 6 delete horizon
///     23    4 lastOffsetDelta       record count - 1
///     27    8 baseTimestamp
///     35    8 maxTimestamp
///     43    8 producerId            -1 when not idempotent
///     51    2 producerEpoch
///     53    4 baseSequence
///     57    4 recordCount
///     61      records (compressed as one blob when the codec is not none)
/// ```
public struct RecordBatchHeader: Sendable, Hashable {
    public static let size = 61
    /// baseOffset and length: the bytes before `length` starts counting.
    public static let logOverhead = 12
    /// Smallest `length` a v2 batch can have (a header with no records).
    public static let minimumLength: Int32 = Int32(size - logOverhead)

    public enum Offset {
        public static let baseOffset = 0
        public static let length = 8
        public static let partitionLeaderEpoch = 12
        public static let magic = 16
        public static let crc = 17
        public static let attributes = 21
        public static let lastOffsetDelta = 23
        public static let baseTimestamp = 27
        public static let maxTimestamp = 35
        public static let producerId = 43
        public static let producerEpoch = 51
        public static let baseSequence = 53
        public static let recordCount = 57
    }

    public var baseOffset: Int64
    public var length: Int32
    public var partitionLeaderEpoch: Int32
    public var magic: Int8
    public var crc: UInt32
    public var attributes: Int16
    public var lastOffsetDelta: Int32
    public var baseTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerId: Int64
    public var producerEpoch: Int16
    public var baseSequence: Int32
    public var recordCount: Int32

    public init(
        baseOffset: Int64 = 0, length: Int32 = RecordBatchHeader.minimumLength, partitionLeaderEpoch: Int32 = -1,
        magic: Int8 = 2, crc: UInt32 = 0, attributes: Int16 = 0, lastOffsetDelta: Int32 = -1,
        baseTimestamp: Int64 = -1, maxTimestamp: Int64 = -1, producerId: Int64 = -1, producerEpoch: Int16 = -1,
        baseSequence: Int32 = -1, recordCount: Int32 = 0
    ) {
        self.baseOffset = baseOffset
        self.length = length
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordCount = recordCount
    }

    /// Reads a header from the first 61 bytes of `bytes`. Checks only that the bytes are there and the
    /// magic is 2; see `RecordBatchValidator` for the rest.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(RecordError) {
        guard bytes.count >= Self.size else {
            throw RecordError(.corruptMessage, "record batch header needs \(Self.size) bytes, found \(bytes.count)")
        }
        let magic = Int8(bitPattern: bytes[Offset.magic])
        guard magic == 2 else {
            throw RecordError(.corruptMessage, "unsupported record batch magic \(magic); only v2 is accepted")
        }
        self.init(
            baseOffset: bytes.readBE(Int64.self, at: Offset.baseOffset),
            length: bytes.readBE(Int32.self, at: Offset.length),
            partitionLeaderEpoch: bytes.readBE(Int32.self, at: Offset.partitionLeaderEpoch),
            magic: magic,
            crc: bytes.readBE(UInt32.self, at: Offset.crc),
            attributes: bytes.readBE(Int16.self, at: Offset.attributes),
            lastOffsetDelta: bytes.readBE(Int32.self, at: Offset.lastOffsetDelta),
            baseTimestamp: bytes.readBE(Int64.self, at: Offset.baseTimestamp),
            maxTimestamp: bytes.readBE(Int64.self, at: Offset.maxTimestamp),
            producerId: bytes.readBE(Int64.self, at: Offset.producerId),
            producerEpoch: bytes.readBE(Int16.self, at: Offset.producerEpoch),
            baseSequence: bytes.readBE(Int32.self, at: Offset.baseSequence),
            recordCount: bytes.readBE(Int32.self, at: Offset.recordCount)
        )
    }

    /// Writes the 61 header bytes (the CRC as stored in `crc`; see `RecordBatch.computeCRC`).
    public func write(to bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= Self.size)
        bytes.writeBE(baseOffset, at: Offset.baseOffset)
        bytes.writeBE(length, at: Offset.length)
        bytes.writeBE(partitionLeaderEpoch, at: Offset.partitionLeaderEpoch)
        bytes[Offset.magic] = UInt8(bitPattern: magic)
        bytes.writeBE(crc, at: Offset.crc)
        bytes.writeBE(attributes, at: Offset.attributes)
        bytes.writeBE(lastOffsetDelta, at: Offset.lastOffsetDelta)
        bytes.writeBE(baseTimestamp, at: Offset.baseTimestamp)
        bytes.writeBE(maxTimestamp, at: Offset.maxTimestamp)
        bytes.writeBE(producerId, at: Offset.producerId)
        bytes.writeBE(producerEpoch, at: Offset.producerEpoch)
        bytes.writeBE(baseSequence, at: Offset.baseSequence)
        bytes.writeBE(recordCount, at: Offset.recordCount)
    }

    // MARK: Derived values

    /// Size of the whole batch on disk and on the wire.
    public var totalSize: Int { Int(length) + Self.logOverhead }
    public var lastOffset: Int64 { baseOffset + Int64(lastOffsetDelta) }
    public var nextOffset: Int64 { lastOffset + 1 }

    public var compressionCodec: CompressionCodec? { CompressionCodec(attributes: attributes) }
    public var timestampType: TimestampType { attributes & 0x08 != 0 ? .logAppendTime : .createTime }
    public var isTransactional: Bool { attributes & 0x10 != 0 }
    public var isControl: Bool { attributes & 0x20 != 0 }
    public var hasDeleteHorizon: Bool { attributes & 0x40 != 0 }
    public var hasProducerId: Bool { producerId >= 0 }
    public var lastSequence: Int32 {
        guard baseSequence >= 0 else { return -1 }
        // Sequences wrap at Int32.max (DefaultRecordBatch.incrementSequence).
        let last = Int64(baseSequence) + Int64(lastOffsetDelta)
        return Int32(truncatingIfNeeded: last > Int64(Int32.max) ? last - Int64(Int32.max) - 1 : last)
    }
}

public enum TimestampType: Int8, Sendable {
    case noTimestampType = -1
    case createTime = 0
    case logAppendTime = 1

    public var name: String {
        switch self {
        case .noTimestampType: "NO_TIMESTAMP_TYPE"
        case .createTime: "CREATE_TIME"
        case .logAppendTime: "LOG_APPEND_TIME"
        }
    }
}

public enum RecordBatchAttributes {
    public static let codecMask: Int16 = 0x07
    public static let logAppendTime: Int16 = 0x08
    public static let transactional: Int16 = 0x10
    public static let control: Int16 = 0x20
    public static let deleteHorizon: Int16 = 0x40
}

// MARK: - Big-endian access to raw bytes

extension UnsafeRawBufferPointer {
    @inlinable
    public func readBE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(bigEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable
    public func writeBE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self)
    }
}
