import KafkaModel
import KafkaProtocol
import NIOCore
import Testing

// Whole frames written out by hand from the specs (and kafka.md §4): size, header, body.
@Suite struct GoldenBytesTests {
    @Test func apiVersionsV0Request() throws {
        let golden = hexBuffer("0000000e  0012 0000 00000001 0004 74657374")
        #expect(requestFrame(ApiVersionsRequest(), version: 0, correlationId: 1, clientId: "test") == golden)
        let (header, _) = try decodeRequestFrame(golden, as: ApiVersionsRequest.self)
        #expect(header == RequestHeader(requestApiKey: 18, requestApiVersion: 0, correlationId: 1, clientId: "test"))
    }

    @Test func apiVersionsV0Response() throws {
        let response = ApiVersionsResponse(
            errorCode: 0,
            apiKeys: [.init(apiKey: 0, minVersion: 0, maxVersion: 8), .init(apiKey: 18, minVersion: 0, maxVersion: 3)]
        )
        let golden = hexBuffer(
            """
            00000016 00000001
            0000  00000002  0000 0000 0008  0012 0000 0003
            """
        )
        #expect(responseFrame(response, version: 0, correlationId: 1) == golden)
        #expect(try decodeResponseFrame(golden, as: ApiVersionsResponse.self, version: 0).body == response)
    }

    /// A flexible body behind a v0 header (ApiVersions' exception), with two of its tagged fields set.
    @Test func apiVersionsV3ResponseHasHeaderV0() throws {
        let response = ApiVersionsResponse(
            errorCode: 0,
            apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 3)],
            throttleTimeMs: 100,
            supportedFeatures: [.init(name: "x", minVersion: 0, maxVersion: 1)],
            finalizedFeaturesEpoch: 5
        )
        let golden = hexBuffer(
            """
            00000027 00000005
            0000                    # error_code
            02 0012 0000 0003 00    # api_keys: compact count 1+1, one entry and its empty tag section
            00000064                # throttle_time_ms
            02                      # two tagged fields:
            00 08 02 02 78 0000 0001 00      # tag 0 supported_features, 8 bytes
            01 08 0000000000000005           # tag 1 finalized_features_epoch, 8 bytes
            """
        )
        #expect(responseFrame(response, version: 3, correlationId: 5) == golden)
        let (header, body) = try decodeResponseFrame(golden, as: ApiVersionsResponse.self, version: 3)
        #expect(header.correlationId == 5)
        #expect(body == response)
    }

    @Test func metadataV0Request() throws {
        let request = MetadataRequest(topics: [.init(name: "foo")])
        let golden = hexBuffer("00000014  0003 0000 00000002 0001 63  00000001 0003 666f6f")
        #expect(requestFrame(request, version: 0, correlationId: 2, clientId: "c") == golden)
        #expect(try decodeRequestFrame(golden, as: MetadataRequest.self).body == request)

        // v0 has no null: an empty list means "all topics", and nil is written as empty.
        let all = hexBuffer("0000000f  0003 0000 00000002 0001 63  00000000")
        #expect(requestFrame(MetadataRequest(topics: nil), version: 0, correlationId: 2, clientId: "c") == all)
        #expect(try decodeRequestFrame(all, as: MetadataRequest.self).body.topics == [])
    }

    @Test func metadataV9RequestIsFlexible() throws {
        // Header v2: client_id keeps its int16 length, then an empty tag section.
        let allTopics = hexBuffer("00000011  0003 0009 00000003 0001 63 00  00 01 00 00 00")
        #expect(requestFrame(MetadataRequest(topics: nil), version: 9, correlationId: 3, clientId: "c") == allTopics)
        #expect(try decodeRequestFrame(allTopics, as: MetadataRequest.self).body.topics == nil)

        let request = MetadataRequest(topics: [.init(name: "foo")], includeTopicAuthorizedOperations: true)
        let golden = hexBuffer("00000016  0003 0009 00000003 0001 63 00  02 04 666f6f 00  01 00 01 00")
        #expect(requestFrame(request, version: 9, correlationId: 3, clientId: "c") == golden)
        #expect(try decodeRequestFrame(golden, as: MetadataRequest.self).body == request)
    }

    @Test func produceV3RequestWithRecords() throws {
        let records = ByteBuffer(bytes: [1, 2, 3, 4, 5])
        let request = ProduceRequest(
            transactionalId: "tx",
            acks: 1,
            timeoutMs: 1000,
            topicData: [.init(name: "t", partitionData: [.init(index: 1, records: records)])]
        )
        let golden = hexBuffer(
            """
            0000002c  0000 0003 00000004 ffff
            0002 7478  0001  000003e8
            00000001 0001 74  00000001 00000001 00000005 0102030405
            """
        )
        #expect(requestFrame(request, version: 3, correlationId: 4, clientId: nil) == golden)
        let (header, body) = try decodeRequestFrame(golden, as: ProduceRequest.self)
        #expect(header.clientId == nil)
        #expect(body == request)
        #expect(body.topicData.first?.partitionData.first?.records == records)
    }

    @Test func fetchV4Response() throws {
        let response = FetchResponse(
            throttleTimeMs: 0,
            responses: [
                .init(
                    topic: "t",
                    partitions: [
                        .init(
                            partitionIndex: 0,
                            errorCode: 0,
                            highWatermark: 10,
                            lastStableOffset: 8,
                            abortedTransactions: [.init(producerId: 7, firstOffset: 3)],
                            records: ByteBuffer(bytes: [0xAA, 0xBB, 0xCC])
                        )
                    ]
                )
            ]
        )
        let golden = hexBuffer(
            """
            00000044 0000000b
            00000000  00000001 0001 74  00000001
            00000000 0000 000000000000000a 0000000000000008
            00000001 0000000000000007 0000000000000003
            00000003 aabbcc
            """
        )
        #expect(responseFrame(response, version: 4, correlationId: 11) == golden)
        #expect(try decodeResponseFrame(golden, as: FetchResponse.self, version: 4).body == response)
    }

    /// kafka.md §4.2: the v0-format answer to an ApiVersions request at a version we do not support.
    @Test func apiVersionsFallbackBytes() throws {
        // kafka-python 3.x opens with ApiVersions v4 (flexible, so header v2).
        var request = hexBuffer("0012 0004 00000007 0002 6b70 00  03 6b70 02 33 00")
        let header = try RequestHeader.read(from: &request)
        #expect(header.apiKey == .apiVersions && header.requestApiVersion == 4 && header.clientId == "kp")
        #expect(ApiVersionsResponse.needsUnsupportedVersionAnswer(header, supportedVersions: 0...3))
        #expect(!ApiVersionsResponse.needsUnsupportedVersionAnswer(header, supportedVersions: 0...4))

        let frame = ApiVersionsResponse.unsupportedVersionFrame(for: header, supportedVersions: 0...3)
        #expect(frame == hexBuffer("00000010 00000007  0023  00000001  0012 0000 0003"))
        let body = try decodeResponseFrame(frame, as: ApiVersionsResponse.self, version: 0).body
        #expect(body.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
    }

    @Test func controlledShutdownV0HasHeaderV0() throws {
        let request = ControlledShutdownRequest(brokerId: 1)
        let golden = hexBuffer("0000000c  0007 0000 00000009  00000001")
        #expect(requestFrame(request, version: 0, correlationId: 9, clientId: "ignored") == golden)
        let (header, body) = try decodeRequestFrame(golden, as: ControlledShutdownRequest.self)
        #expect(header.clientId == "" && body == request)
    }
}
