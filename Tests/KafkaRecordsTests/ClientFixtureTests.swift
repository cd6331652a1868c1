import Foundation
import KafkaCompression
import KafkaRecords
import NIOCore
import Testing

/// Batches written by a real client (kafka-python's record builder, see tools/make-fixtures.py)
/// decode to the records the client was given, for every codec.
@Suite struct ClientFixtureTests {
    struct Fixture: Decodable {
        struct Header: Decodable {
            var key: String
            var value: String?
        }
        struct Entry: Decodable {
            var offset_delta: Int32
            var timestamp: Int64
            var key: String?
            var value: String?
            var headers: [Header]
        }
        struct Batch: Decodable {
            var crc: UInt32
            var attributes: Int16
            var records_count: Int32
            var max_timestamp: Int64
            var partition_leader_epoch: Int32
            var producer_id: Int64
            var producer_epoch: Int16
            var base_sequence: Int32
        }
        var codec: String
        var batch: Batch
        var records: [Entry]
    }

    static let names = CompressionCodec.allCases.flatMap { ["kafka-python-\($0.name)", "kafka-python-\($0.name)-big"] }
        + ["raw-snappy", "raw-snappy-big"]

    static func load(_ name: String) throws -> (RecordBatch, Fixture) {
        let bin = try #require(Bundle.module.url(forResource: name, withExtension: "bin", subdirectory: "Fixtures"))
        let json = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: json))
        return (try RecordBatch(bytes: Array(try Data(contentsOf: bin))), fixture)
    }

    static func bytes(_ base64: String?) -> [UInt8]? {
        base64.map { Array(Data(base64Encoded: $0)!) }
    }

    @Test(arguments: names)
    func fixtureDecodes(name: String) throws {
        let (batch, fixture) = try Self.load(name)
        try batch.verifyChecksum()
        #expect(batch.header.crc == fixture.batch.crc)
        #expect(batch.header.compressionCodec?.name == fixture.codec.replacingOccurrences(of: "raw-", with: ""))
        #expect(batch.header.recordCount == fixture.batch.records_count)
        #expect(batch.header.maxTimestamp == fixture.batch.max_timestamp)
        let records = try batch.records()
        #expect(records.count == fixture.records.count)
        for (record, expected) in zip(records, fixture.records) {
            #expect(record.offsetDelta == expected.offset_delta)
            #expect(record.timestamp == expected.timestamp)
            #expect(record.key == Self.bytes(expected.key))
            #expect(record.value == Self.bytes(expected.value))
            #expect(record.headers == expected.headers.map { RecordHeader(key: $0.key, value: Self.bytes($0.value)) })
        }
        // What a broker runs on produce accepts the client's batch.
        var copy = batch
        var validator = RecordBatchValidator()
        validator.maxMessageBytes = Int.max
        _ = try validator.validate(&copy, now: 1_700_000_000_000)
    }

    /// Our builder writes the same bytes as the client for the same records (uncompressed, where
    /// the bytes do not depend on a compressor's choices).
    @Test(arguments: ["kafka-python-none", "kafka-python-none-big"])
    func builderIsByteExactWithTheClient(name: String) throws {
        let (batch, fixture) = try Self.load(name)
        var builder = RecordBatchBuilder(codec: .none)
        builder.partitionLeaderEpoch = fixture.batch.partition_leader_epoch
        builder.producerId = fixture.batch.producer_id
        builder.producerEpoch = fixture.batch.producer_epoch
        builder.baseSequence = fixture.batch.base_sequence
        for entry in fixture.records {
            builder.append(
                key: Self.bytes(entry.key), value: Self.bytes(entry.value),
                headers: entry.headers.map { RecordHeader(key: $0.key, value: Self.bytes($0.value)) },
                timestamp: entry.timestamp)
        }
        let built = try builder.build()
        #expect(Array(built.buffer.readableBytesView) == Array(batch.buffer.readableBytesView))
    }
}
