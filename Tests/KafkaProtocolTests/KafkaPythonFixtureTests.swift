import KafkaProtocol
import NIOCore
import Testing

// Request frames encoded by another implementation: kafka-python 3.0.12 (its kafka.protocol classes,
// which have their own encoder), with this script:
//
//     from kafka.protocol.metadata import MetadataRequest, ApiVersionsRequest
//     from kafka.protocol.producer import ProduceRequest
//     from kafka.protocol.consumer import FetchRequest
//     def show(name, msg, version, corr, client):
//         msg.with_header(correlation_id=corr, client_id=client)
//         print(name, bytes(msg.encode(version=version, header=True, framed=True)).hex())
//     T = MetadataRequest.MetadataRequestTopic
//     show("metadata_v1", MetadataRequest(topics=[T(name="my-topic"), T(name="other")]), 1, 7, "kafka-python")
//     show("metadata_v9", MetadataRequest(topics=[T(name="my-topic")], allow_auto_topic_creation=False,
//          include_topic_authorized_operations=True), 9, 8, "kafka-python")
//     show("apiversions_v0", ApiVersionsRequest(), 0, 1, "kafka-python")
//     show("apiversions_v3", ApiVersionsRequest(client_software_name="kafka-python",
//          client_software_version="3.0.12"), 3, 2, "kafka-python")
//     TD = ProduceRequest.TopicProduceData; PD = TD.PartitionProduceData
//     show("produce_v3", ProduceRequest(transactional_id=None, acks=-1, timeout_ms=30000, topic_data=[TD(name="t",
//          partition_data=[PD(index=0, records=bytes(range(0, 70))), PD(index=2, records=None)])]), 3, 9,
//          "kafka-python")
//     FT = FetchRequest.FetchTopic; FP = FT.FetchPartition
//     show("fetch_v4", FetchRequest(replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800,
//          isolation_level=1, topics=[FT(topic="t", partitions=[FP(partition=0, fetch_offset=42,
//          partition_max_bytes=1048576)])]), 4, 10, "kafka-python")
//     show("fetch_v12", FetchRequest(replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800,
//          isolation_level=0, session_id=0, session_epoch=-1, topics=[FT(topic="t", partitions=[FP(partition=3,
//          current_leader_epoch=5, fetch_offset=42, last_fetched_epoch=4, log_start_offset=-1,
//          partition_max_bytes=1048576)])], forgotten_topics_data=[], rack_id="rack-1"), 12, 11, "kafka-python")
enum KafkaPythonFixtures {
    static let metadataV1 =
        "0000002b0003000100000007000c6b61666b612d707974686f6e0000000200086d792d746f70696300056f74686572"
    static let metadataV9 =
        "000000260003000900000008000c6b61666b612d707974686f6e0002096d792d746f7069630000000100"
    static let apiVersionsV0 = "000000160012000000000001000c6b61666b612d707974686f6e"
    static let apiVersionsV3 =
        "0000002c0012000300000002000c6b61666b612d707974686f6e000d6b61666b612d707974686f6e07332e302e313200"
    static let produceV3 =
        "0000007f0000000300000009000c6b61666b612d707974686f6effffffff0000753000000001000174000000020000000000000046"
        + "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031"
        + "32333435363738393a3b3c3d3e3f40414243444500000002ffffffff"
    static let fetchV4 =
        "00000042000100040000000a000c6b61666b612d707974686f6effffffff000001f4000000010320000001000000010001740000"
        + "000100000000000000000000002a00100000"
    static let fetchV12 =
        "0000005f0001000c0000000b000c6b61666b612d707974686f6e00ffffffff000001f400000001032000000000000000ffffffff"
        + "020274020000000300000005000000000000002a00000004ffffffffffffffff00100000000001077261636b2d3100"
}

@Suite struct KafkaPythonFixtureTests {
    /// Decodes the fixture, checks the expected value, and encodes that value back to the same bytes.
    func check<Request: KafkaRequest & Equatable>(
        _ hex: String,
        _ expected: Request,
        version: Int16,
        correlationId: Int32
    ) throws {
        let frame = hexBuffer(hex)
        let (header, body) = try decodeRequestFrame(frame, as: Request.self)
        #expect(header.apiKey == Request.apiKey)
        #expect(header.requestApiVersion == version)
        #expect(header.correlationId == correlationId)
        #expect(header.clientId == "kafka-python")
        #expect(body == expected)
        #expect(requestFrame(expected, version: version, correlationId: correlationId).hex == frame.hex)
    }

    @Test func metadata() throws {
        try check(
            KafkaPythonFixtures.metadataV1,
            MetadataRequest(topics: [.init(name: "my-topic"), .init(name: "other")]),
            version: 1,
            correlationId: 7
        )
        try check(
            KafkaPythonFixtures.metadataV9,
            MetadataRequest(
                topics: [.init(name: "my-topic")],
                allowAutoTopicCreation: false,
                includeTopicAuthorizedOperations: true
            ),
            version: 9,
            correlationId: 8
        )
    }

    @Test func apiVersions() throws {
        try check(KafkaPythonFixtures.apiVersionsV0, ApiVersionsRequest(), version: 0, correlationId: 1)
        try check(
            KafkaPythonFixtures.apiVersionsV3,
            ApiVersionsRequest(clientSoftwareName: "kafka-python", clientSoftwareVersion: "3.0.12"),
            version: 3,
            correlationId: 2
        )
    }

    @Test func produce() throws {
        let request = ProduceRequest(
            transactionalId: nil,
            acks: -1,
            timeoutMs: 30000,
            topicData: [
                .init(
                    name: "t",
                    partitionData: [
                        .init(index: 0, records: ByteBuffer(bytes: Array(0..<70))),
                        .init(index: 2, records: nil),
                    ]
                )
            ]
        )
        try check(KafkaPythonFixtures.produceV3, request, version: 3, correlationId: 9)
    }

    @Test func fetch() throws {
        try check(
            KafkaPythonFixtures.fetchV4,
            FetchRequest(
                replicaId: -1,
                maxWaitMs: 500,
                minBytes: 1,
                maxBytes: 52_428_800,
                isolationLevel: 1,
                topics: [
                    .init(topic: "t", partitions: [.init(partition: 0, fetchOffset: 42, partitionMaxBytes: 1_048_576)])
                ]
            ),
            version: 4,
            correlationId: 10
        )
        let partition = FetchRequest.FetchPartition(
            partition: 3,
            currentLeaderEpoch: 5,
            fetchOffset: 42,
            lastFetchedEpoch: 4,
            logStartOffset: -1,
            partitionMaxBytes: 1_048_576
        )
        try check(
            KafkaPythonFixtures.fetchV12,
            FetchRequest(
                replicaId: -1,
                maxWaitMs: 500,
                minBytes: 1,
                maxBytes: 52_428_800,
                isolationLevel: 0,
                sessionId: 0,
                sessionEpoch: -1,
                topics: [.init(topic: "t", partitions: [partition])],
                rackId: "rack-1"
            ),
            version: 12,
            correlationId: 11
        )
    }
}
