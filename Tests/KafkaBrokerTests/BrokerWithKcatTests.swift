import Foundation
import KafkaBroker
import KafkaCoordination
import Testing
import TestSupport

/// A broker in this process against a real ZooKeeper, driven by kcat (librdkafka), a client Odradek
/// did not write. The integration suite drives the `odradek` binary with more clients; these tests
/// keep the core produce/consume path covered by `swift test` alone.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct BrokerWithKcatTests {
    static func startBroker(_ ensemble: ZooKeeperEnsemble, dir: URL, id: Int32 = 0, partitions: Int = 2) async throws -> KafkaServer {
        var settings = BrokerSettings(zooKeeper: ZooKeeperConfig(connect: ensemble.connectString()))
        settings.brokerID = id
        settings.listeners = [.init(name: "PLAINTEXT", host: "127.0.0.1", port: 0)]
        settings.logDirs = [dir.path]
        settings.numPartitions = partitions
        return try await KafkaServer.start(settings: settings, logger: testLogger)
    }

    /// Runs kcat on a Dispatch thread: waiting for a process must not hold one of Swift's few
    /// cooperative threads, which the brokers in this process need to answer it.
    static func kcat(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runKcat(arguments, input: input) })
            }
        }
    }

    private static func runKcat(_ arguments: [String], input: String?) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kcat")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(input.data(using: .utf8)!) }
        try inPipe.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func kcatProducesAndConsumesWithEveryCodec() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("broker-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try await Self.startBroker(ensemble, dir: dir)
        let bootstrap = "127.0.0.1:\(server.boundPorts[0])"
        for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
            let topic = "kcat-\(codec)"
            let lines = (0..<50).map { "k\($0):\(codec)-value-\($0)" }
            let produced = try await Self.kcat(
                ["-b", bootstrap, "-P", "-t", topic, "-p", "0", "-K", ":", "-z", codec, "-X", "topic.request.required.acks=all"],
                input: lines.joined(separator: "\n") + "\n")
            #expect(produced.status == 0, "kcat could not produce with \(codec)")
            let consumed = try await Self.kcat(["-b", bootstrap, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-f", "%k:%s\n"])
            #expect(consumed.status == 0)
            #expect(consumed.output.split(separator: "\n").map(String.init) == lines, "codec \(codec)")
        }
        await server.shutdown()
    }

    /// Three brokers: the controller tells the other two about every partition over the wire, so each
    /// broker answers metadata for all, and each partition's leader serves it.
    @Test func threeBrokersShareMetadataAndServeTheirPartitions() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var servers: [KafkaServer] = []
        for id in Int32(1)...3 {
            servers.append(try await Self.startBroker(ensemble, dir: dir.appendingPathComponent("b\(id)"), id: id, partitions: 6))
        }
        let bootstrap = servers.map { "127.0.0.1:\($0.boundPorts[0])" }.joined(separator: ",")
        let lines = (0..<60).map { "k\($0):v\($0)" }
        let produced = try await Self.kcat(
            ["-b", bootstrap, "-P", "-t", "spread", "-K", ":", "-X", "topic.request.required.acks=all"],
            input: lines.joined(separator: "\n") + "\n")
        #expect(produced.status == 0)
        for server in servers {
            let listing = try await Self.kcat(["-b", "127.0.0.1:\(server.boundPorts[0])", "-L", "-t", "spread"])
            #expect(listing.output.contains("3 brokers:"), "\(listing.output)")
            #expect(listing.output.contains("6 partitions:"), "\(listing.output)")
        }
        let consumed = try await Self.kcat(["-b", bootstrap, "-C", "-t", "spread", "-o", "beginning", "-e", "-f", "%p %k:%s\n"])
        let got = consumed.output.split(separator: "\n").map { $0.split(separator: " ")[1] }.map(String.init)
        #expect(got.sorted() == lines.sorted())
        let usedPartitions = Set(consumed.output.split(separator: "\n").map { $0.split(separator: " ")[0] })
        #expect(usedPartitions.count > 1, "keys should spread over several partitions")
        for server in servers { await server.shutdown() }
    }
}
