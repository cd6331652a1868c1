import Foundation
import KafkaCoordination
import KafkaModel
import KafkaStorage
import Logging
import Testing

@testable import KafkaBroker

/// The leader's ISR decisions (`Partition.proposedIsr`) over a real, empty log.
@Suite struct PartitionIsrTests {
    let directory = NSTemporaryDirectory() + "odradek-isr-\(UUID().uuidString)"

    func leader(isr: [Int32]) throws -> Partition {
        let tp = TopicPartition(topic: "isr", partition: 0)
        let log = try PartitionLog.open(directory: directory + "/isr-0", topicPartition: tp, logger: Logger(label: "test"))
        let partition = Partition(topicPartition: tp, log: log, localBroker: 0, settings: PartitionSettings())
        #expect(partition.apply(PartitionState(
            partition: tp, leaderAndIsr: LeaderAndIsr(leader: 0, leaderEpoch: 1, isr: isr, controllerEpoch: 1), replicas: [0, 1, 2])))
        return partition
    }

    @Test func aSilentFollowerLeavesTheIsrAndStaysOutUntilItFetchesAgain() async throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let partition = try leader(isr: [0, 1, 2])
        let maxLag = Duration.milliseconds(200)
        partition.updateFollowerEnd(1, offset: 0)
        partition.updateFollowerEnd(2, offset: 0)
        #expect(partition.proposedIsr(maxLag: maxLag) == nil)

        // Follower 2 keeps fetching; follower 1 goes silent, caught up as it was.
        try await Task.sleep(for: .milliseconds(150))
        partition.updateFollowerEnd(2, offset: 0)
        try await Task.sleep(for: .milliseconds(100))
        partition.updateFollowerEnd(2, offset: 0)
        let shrunk = try #require(partition.proposedIsr(maxLag: maxLag))
        #expect(Set(shrunk) == [0, 2])
        partition.applyIsr(shrunk, zkVersion: 1)
        #expect(partition.proposedIsr(maxLag: maxLag) == nil)

        // Its next fetch at the high watermark takes it back.
        partition.updateFollowerEnd(1, offset: 0)
        #expect(Set(try #require(partition.proposedIsr(maxLag: maxLag))) == [0, 1, 2])
    }
}
