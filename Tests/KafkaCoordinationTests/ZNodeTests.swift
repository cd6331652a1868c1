import Foundation
import KafkaModel
import Testing

@testable import KafkaCoordination

/// The znode formats, against the JSON Kafka writes (ZkData.scala).
@Suite struct ZNodeTests {
    func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func brokerRegistrationIsVersion5() throws {
        let info = BrokerInfo(
            id: 1,
            endpoints: [
                BrokerEndpoint(listenerName: "PLAINTEXT", host: "broker1.example", port: 9092),
                BrokerEndpoint(listenerName: "REPLICATION", host: "broker1.example", port: 9093),
            ],
            rack: "dc1", timestamp: 1_650_000_000_000)
        let object = try json(BrokerIdZNode.encode(info))
        #expect(object["version"] as? Int == 5)
        #expect(object["host"] as? String == "broker1.example")
        #expect(object["port"] as? Int == 9092)
        #expect(object["endpoints"] as? [String] == ["PLAINTEXT://broker1.example:9092", "REPLICATION://broker1.example:9093"])
        #expect(object["listener_security_protocol_map"] as? [String: String] == ["PLAINTEXT": "PLAINTEXT", "REPLICATION": "PLAINTEXT"])
        #expect(object["rack"] as? String == "dc1")
        #expect(object["timestamp"] as? String == "1650000000000")
        #expect(object["jmx_port"] as? Int == -1)
        #expect(object["features"] is [String: Any])
        #expect(try BrokerIdZNode.decode(id: 1, BrokerIdZNode.encode(info), epoch: 42) == BrokerInfo(id: 1, endpoints: info.endpoints, rack: "dc1", timestamp: 1_650_000_000_000, epoch: 42))
    }

    @Test func decodesWhatKafkaWrites() throws {
        let kafka = #"{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://localhost:9092"],"jmx_port":-1,"features":{},"host":"localhost","timestamp":"1700000000000","port":9092,"version":5}"#
        let info = try BrokerIdZNode.decode(id: 0, Array(kafka.utf8), epoch: 7)
        #expect(info.endpoints == [BrokerEndpoint(listenerName: "PLAINTEXT", host: "localhost", port: 9092)])
        #expect(info.rack == nil)
        #expect(info.epoch == 7)

        let topic = #"{"partitions":{"0":[1,2,3],"1":[2,3,1]},"topic_id":"Xj3mPpBqS6eHk3Z2sYt9Qw","adding_replicas":{},"removing_replicas":{},"version":3}"#
        let assignment = try TopicZNode.decode(topic: "foo", Array(topic.utf8))
        #expect(assignment == TopicAssignment(topicID: "Xj3mPpBqS6eHk3Z2sYt9Qw", partitions: [0: [1, 2, 3], 1: [2, 3, 1]]))
        #expect(try TopicZNode.decode(topic: "old", Array(#"{"version":1,"partitions":{"0":[1]}}"#.utf8)).partitions == [0: [1]])

        let state = #"{"controller_epoch":12,"leader":1,"version":1,"leader_epoch":7,"isr":[1,2,3]}"#
        let tp = TopicPartition(topic: "foo", partition: 0)
        #expect(try TopicPartitionStateZNode.decode(tp, Array(state.utf8), zkVersion: 4) == LeaderAndIsr(leader: 1, leaderEpoch: 7, isr: [1, 2, 3], controllerEpoch: 12, zkVersion: 4))
        #expect(TopicPartitionStateZNode.path(tp) == "/brokers/topics/foo/partitions/0/state")

        #expect(try ControllerZNode.decode(Array(#"{"version":1,"brokerid":3,"timestamp":"1650000000000"}"#.utf8)) == 3)
        #expect(try ControllerZNode.decode(Array(#"{"version":2,"brokerid":2,"timestamp":"1","kraftControllerEpoch":-1}"#.utf8)) == 2)
        #expect(try ControllerEpochZNode.decode(Array("12".utf8)) == 12)
        #expect(try ClusterIdZNode.decode(Array(#"{"version":"1","id":"k9x1Tq3zQ0a4cXg4b2oYvw"}"#.utf8)) == "k9x1Tq3zQ0a4cXg4b2oYvw")
        #expect(try ProducerIdBlockZNode.decode(Array(#"{"version":1,"broker":1,"block_start":"0","block_end":"999"}"#.utf8)) == ProducerIdBlock(brokerID: 1, start: 0, end: 999))
    }

    @Test func encodingsUseKafkasFieldsAndTypes() throws {
        let controller = try json(ControllerZNode.encode(brokerID: 2, timestamp: 5))
        #expect(controller["brokerid"] as? Int == 2 && controller["timestamp"] as? String == "5" && controller["version"] as? Int == 1)
        #expect(String(decoding: ControllerEpochZNode.encode(7), as: UTF8.self) == "7")
        let cluster = try json(ClusterIdZNode.encode("abc"))
        #expect(cluster["version"] as? String == "1")
        let topic = try json(TopicZNode.encode(TopicAssignment(topicID: "id", partitions: [0: [1, 2], 10: [2, 1]])))
        #expect(topic["version"] as? Int == 3 && topic["topic_id"] as? String == "id")
        #expect((topic["partitions"] as? [String: [Int]]) == ["0": [1, 2], "10": [2, 1]])
        let isr = try json(IsrChangeNotificationZNode.encode([TopicPartition(topic: "b", partition: 3), TopicPartition(topic: "a", partition: 0)]))
        #expect((isr["partitions"] as? [[String: Any]])?.first?["topic"] as? String == "a")
        let config = try json(ConfigEntityZNode.encode(["retention.ms": "86400000"]))
        #expect(config["config"] as? [String: String] == ["retention.ms": "86400000"] && config["version"] as? Int == 1)
        let change = try json(ConfigChangeNotificationZNode.encode(entityPath: "topics/foo"))
        #expect(change["version"] as? Int == 2 && change["entity_path"] as? String == "topics/foo")
        let block = try json(ProducerIdBlockZNode.encode(ProducerIdBlock(brokerID: 1, start: 1000, end: 1999)))
        #expect(block["block_start"] as? String == "1000" && block["block_end"] as? String == "1999")
        #expect(KafkaZkClient.randomUUIDBase64().count == 22)
    }

    @Test func malformedContentIsAClearError() {
        #expect(throws: CoordinationError.self) { try TopicZNode.decode(topic: "t", Array("not json".utf8)) }
        #expect(throws: CoordinationError.self) { try ControllerEpochZNode.decode(Array("x".utf8)) }
        #expect(throws: CoordinationError.self) { try TopicPartitionStateZNode.decode(TopicPartition(topic: "t", partition: 0), Array("{}".utf8), zkVersion: 0) }
    }
}

@Suite struct ReplicaAssignmentTests {
    @Test func rackUnawareMatchesKafka() throws {
        // Kafka's AdminTest.testReplicaAssignment: 5 brokers, 10 partitions, RF 3, start index 0.
        let brokers = (0..<5).map { ReplicaAssignment.Broker(id: Int32($0)) }
        let assignment = try ReplicaAssignment.assign(partitions: 10, replicationFactor: 3, brokers: brokers, fixedStartIndex: 0)
        #expect(assignment == [
            0: [0, 1, 2], 1: [1, 2, 3], 2: [2, 3, 4], 3: [3, 4, 0], 4: [4, 0, 1],
            5: [0, 2, 3], 6: [1, 3, 4], 7: [2, 4, 0], 8: [3, 0, 1], 9: [4, 1, 2],
        ])
    }

    @Test func rackAwareSpreadsOverRacks() throws {
        let racks: [Int32: String] = [0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"]
        let brokers = racks.map { ReplicaAssignment.Broker(id: $0.key, rack: $0.value) }
        // Kafka's AdminRackAwareTest: the rack-alternated order of these brokers.
        #expect(ReplicaAssignment.rackAlternated(brokers).map(\.id) == [0, 3, 1, 5, 4, 2])
        let assignment = try ReplicaAssignment.assign(partitions: 12, replicationFactor: 3, brokers: brokers, fixedStartIndex: 0)
        for (_, replicas) in assignment {
            #expect(Set(replicas).count == 3)
            #expect(Set(replicas.map { racks[$0]! }).count == 3, "\(replicas) should span three racks")
        }
        let leaders = Dictionary(grouping: assignment.values.map { $0[0] }, by: { $0 }).mapValues(\.count)
        #expect(leaders.values.allSatisfy { $0 == 2 }, "leaders evenly spread: \(leaders)")
    }

    @Test func refusesImpossibleRequestsClearly() {
        let brokers = [ReplicaAssignment.Broker(id: 1)]
        #expect(throws: CoordinationError.self) { try ReplicaAssignment.assign(partitions: 1, replicationFactor: 3, brokers: brokers) }
        #expect(throws: CoordinationError.self) { try ReplicaAssignment.assign(partitions: 0, replicationFactor: 1, brokers: brokers) }
        #expect(throws: CoordinationError.self) {
            try ReplicaAssignment.assign(partitions: 1, replicationFactor: 1, brokers: [.init(id: 1, rack: "a"), .init(id: 2)])
        }
    }
}

@Suite struct OfflineElectionTests {
    let epoch: Int32 = 3

    @Test func picksTheFirstLiveIsrMemberInAssignmentOrder() {
        let state = LeaderAndIsr(leader: 1, leaderEpoch: 4, isr: [3, 1, 2], controllerEpoch: 2)
        let next = Controller.elect(state, replicas: [1, 2, 3], live: [2, 3], unclean: false, controllerEpoch: epoch)
        #expect(next == LeaderAndIsr(leader: 2, leaderEpoch: 5, isr: [3, 2], controllerEpoch: epoch))
    }

    @Test func goesOfflineWithoutEmptyingTheIsr() {
        let state = LeaderAndIsr(leader: 1, leaderEpoch: 4, isr: [1], controllerEpoch: 2)
        let next = Controller.elect(state, replicas: [1, 2], live: [2], unclean: false, controllerEpoch: epoch)
        #expect(next == LeaderAndIsr(leader: -1, leaderEpoch: 5, isr: [1], controllerEpoch: epoch))
        // Nothing more to do while it stays that way.
        #expect(Controller.elect(next!, replicas: [1, 2], live: [2], unclean: false, controllerEpoch: epoch) == nil)
        // Unclean election may take any live replica.
        #expect(Controller.elect(next!, replicas: [1, 2], live: [2], unclean: true, controllerEpoch: epoch)?.leader == 2)
        // The ISR member's return brings it back.
        #expect(Controller.elect(next!, replicas: [1, 2], live: [1, 2], unclean: false, controllerEpoch: epoch)?.leader == 1)
    }

    @Test func aLiveLeaderOnlyLosesDeadIsrMembers() {
        let state = LeaderAndIsr(leader: 1, leaderEpoch: 4, isr: [1, 2, 3], controllerEpoch: 2)
        let next = Controller.elect(state, replicas: [1, 2, 3], live: [1, 2], unclean: false, controllerEpoch: epoch)
        #expect(next == LeaderAndIsr(leader: 1, leaderEpoch: 5, isr: [1, 2], controllerEpoch: epoch))
        #expect(Controller.elect(state, replicas: [1, 2, 3], live: [1, 2, 3], unclean: false, controllerEpoch: epoch) == nil)
    }
}
