import Foundation
import KafkaBroker
import KafkaClient
import KafkaProtocol
import Testing
import TestSupport

/// Followers fetch from leaders: with replication factor 3 an acks=all produce completes, and the
/// records survive the loss of their leader.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ReplicationTests {
    @Test func acknowledgedRecordsSurviveTheirLeader() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replication-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        var servers: [KafkaServer] = []
        for id in Int32(1)...3 {
            servers.append(try await BrokerWithKcatTests.startBroker(ensemble, dir: dir.appendingPathComponent("b\(id)"), id: id))
        }
        let bootstrap = servers.map { "127.0.0.1:\($0.boundPorts[0])" }.joined(separator: ",")
        let admin = try KafkaAdmin(bootstrapServers: bootstrap)
        let created = try await admin.createTopics([.init(name: "replicated", numPartitions: 1, replicationFactor: 3)])
        #expect(created.topics.first?.errorCode == 0)

        let lines = (0..<100).map { "r\($0)" }
        let produced = try await BrokerWithKcatTests.kcat(
            ["-b", bootstrap, "-P", "-t", "replicated", "-p", "0", "-X", "topic.request.required.acks=all", "-X", "message.timeout.ms=20000"],
            input: lines.joined(separator: "\n") + "\n")
        #expect(produced.status == 0, "acks=all produce should complete once the followers have the records")

        // Stop the leader: the controller moves leadership to a follower, which has every record.
        let metadata = try await admin.metadata(topics: ["replicated"])
        let leader = try #require(metadata.topics.first?.partitions.first?.leaderId)
        let leaderIndex = Int(leader) - 1
        await servers[leaderIndex].shutdown()
        let survivors = servers.enumerated().filter { $0.offset != leaderIndex }.map { "127.0.0.1:\($0.element.boundPorts[0])" }
        var consumed: [String] = []
        for _ in 0..<50 where consumed != lines {
            let result = try await BrokerWithKcatTests.kcat(["-b", survivors.joined(separator: ","), "-C", "-t", "replicated", "-p", "0", "-o", "beginning", "-e"])
            consumed = result.output.split(separator: "\n").map(String.init)
            if consumed != lines { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(consumed == lines)
        await admin.close()
        for (index, server) in servers.enumerated() where index != leaderIndex { await server.shutdown() }
    }
}
