import KafkaProtocol
import NIOCore
import Testing

/// One generated message type, named for the test report.
struct MessageCase: Sendable, CustomTestStringConvertible {
    let type: any SampledMessage.Type
    var testDescription: String { "\(type)" }
}

let allMessageCases = allSampledMessageTypes.map(MessageCase.init)

/// The values each version is checked with: all defaults, everything set, and nulls where allowed.
func samples<M: SampledMessage>(_ type: M.Type, version: Int16) -> [M] {
    [M.defaults, M.sample(version: version, seed: 0), M.sample(version: version, seed: 1)]
}

@Suite struct AllMessagesTests {
    @Test func everyMessageIsListed() {
        #expect(allMessageCases.count == allMessageTypes.count)
        #expect(Set(allMessageTypes.map { "\($0)" }) == Set(allMessageCases.map(\.testDescription)))
        for key in ApiKey.allCases {
            #expect(key.requestType.apiKey == key && key.responseType.apiKey == key)
            #expect(key.requestType.validVersions == key.responseType.validVersions, "\(key)")
            #expect(key.requestType.firstFlexibleVersion == key.responseType.firstFlexibleVersion, "\(key)")
        }
    }

    /// Every message at every valid version: write, read back the same value, consume every byte, and
    /// write the same bytes again.
    @Test(arguments: allMessageCases)
    func roundTrip(_ message: MessageCase) throws {
        func check<M: SampledMessage>(_ type: M.Type) throws {
            for version in M.validVersions {
                for value in samples(M.self, version: version) {
                    let bytes = value.encoded(version: version)
                    var buffer = bytes
                    let decoded = try M.decode(from: &buffer, version: version)
                    #expect(decoded == value, "\(M.self) v\(version)")
                    #expect(buffer.readableBytes == 0, "\(M.self) v\(version): bytes left over")
                    #expect(decoded.encoded(version: version) == bytes, "\(M.self) v\(version)")
                }
            }
        }
        try check(message.type)
    }

    /// Every strict prefix of a valid encoding throws (never traps, never succeeds).
    @Test(arguments: allMessageCases)
    func truncatedInputThrows(_ message: MessageCase) {
        func check<M: SampledMessage>(_ type: M.Type) {
            for version in M.validVersions {
                let bytes = M.sample(version: version, seed: 0).encoded(version: version)
                for length in 0..<bytes.readableBytes {
                    var prefix = bytes.getSlice(at: bytes.readerIndex, length: length) ?? ByteBuffer()
                    #expect(throws: ProtocolError.self, "\(M.self) v\(version) cut at \(length)") {
                        try M.decode(from: &prefix, version: version)
                    }
                }
            }
        }
        check(message.type)
    }

    /// Random byte flips in valid encodings: decoding either succeeds or throws, and whatever it decodes
    /// can be written again. (A crash here fails the whole run.)
    @Test(arguments: allMessageCases)
    func corruptedInputNeverTraps(_ message: MessageCase) {
        func check<M: SampledMessage>(_ type: M.Type) {
            var random = SplitMix64(seed: "\(M.self)".utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
            for version in M.validVersions {
                let bytes = Array(M.sample(version: version, seed: 0).encoded(version: version).readableBytesView)
                guard !bytes.isEmpty else { continue }
                for _ in 0..<50 {
                    var corrupted = bytes
                    for _ in 0...(random.next() % 3) {
                        let index = Int(random.next() % UInt64(corrupted.count))
                        corrupted[index] = UInt8(truncatingIfNeeded: random.next())
                    }
                    var buffer = ByteBuffer(bytes: corrupted)
                    if let decoded = try? M.decode(from: &buffer, version: version) {
                        _ = decoded.encoded(version: version)
                    }
                }
            }
        }
        check(message.type)
    }

    /// Unknown tags in every flexible struct's tagged section are skipped, known fields still read.
    @Test func unknownTaggedFieldsAreSkipped() throws {
        // Metadata v9 request with a tag section holding tag 7 (3 bytes) and tag 100 (0 bytes).
        var request = hexBuffer("02 04 666f6f 00  01 00 01  02 07 03 aabbcc 64 00")
        let decoded = try MetadataRequest.decode(from: &request, version: 9)
        #expect(decoded == MetadataRequest(topics: [.init(name: "foo")], includeTopicAuthorizedOperations: true))
        #expect(request.readableBytes == 0)

        // ...and inside a nested struct: the topic entry's own section carries tag 0 (unknown there).
        var nested = hexBuffer("02 04 666f6f 01 00 02 abcd  01 00 01 00")
        #expect(try MetadataRequest.decode(from: &nested, version: 9).topics?.first?.name == "foo")

        // A known tag among unknown ones: FetchRequest v12's top-level section ends with ClusterId (tag 0).
        let fetch = FetchRequest(clusterId: "c", replicaId: -1, rackId: "r").encoded(version: 12)
        let section = hexBytes("01 00 02 02 63")  // one field: tag 0, 2 bytes, compact string "c"
        #expect(Array(fetch.readableBytesView.suffix(5)) == section)
        var withUnknown = fetch.getSlice(at: fetch.readerIndex, length: fetch.readableBytes - 5) ?? ByteBuffer()
        withUnknown.writeBytes(hexBytes("03  00 02 02 63  05 01 ff  06 00"))
        #expect(try FetchRequest.decode(from: &withUnknown, version: 12).clusterId == "c")
    }

    @Test func tagsAreWrittenOnlyWhenNotDefault() {
        let plain = FetchResponse.PartitionData(partitionIndex: 1).encoded(version: 12)
        var withEpoch = FetchResponse.PartitionData(partitionIndex: 1)
        withEpoch.divergingEpoch = .init(epoch: 3, endOffset: 9)
        let tagged = withEpoch.encoded(version: 12)
        // The diverging epoch adds: count 1 (instead of 0), tag 0, size, int32 epoch, int64 offset, tags.
        #expect(tagged.readableBytes == plain.readableBytes + 1 + 1 + 4 + 8 + 1)
        #expect(plain.getInteger(at: plain.writerIndex - 1, as: UInt8.self) == 0)
    }

    @Test func fieldsAbsentInAVersionAreDropped() throws {
        let id = KafkaUUID(mostSignificantBits: 1, leastSignificantBits: 2)
        let request = MetadataRequest(topics: [.init(topicId: id, name: "a")])
        var v9 = request.encoded(version: 9)
        // v9 has no topic ids: written without it, read back as the default.
        #expect(try MetadataRequest.decode(from: &v9, version: 9).topics?.first?.topicId == .zero)
    }

    @Test func versionsOutsideTheSpecAreRefused() {
        var buffer = ByteBuffer()
        #expect(throws: ProtocolError(.unsupportedVersion, "MetadataRequest has no version 13 (valid: 0...12)")) {
            try MetadataRequest.decode(from: &buffer, version: 13)
        }
    }

    @Test func errorsNameTheMessage() {
        var buffer = hexBuffer("0000 00")
        do {
            _ = try ApiVersionsResponse.decode(from: &buffer, version: 0)
            Issue.record("decoded a truncated message")
        } catch {
            #expect(error.kind == .truncated)
            #expect(error.context == ["ApiVersionsResponse v0"])
            #expect("\(error)".contains("ApiVersionsResponse v0"))
        }
    }
}

/// A small deterministic generator for the corruption test.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
