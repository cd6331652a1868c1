import KafkaProtocol

/// The API versions this broker serves and advertises. The client-facing ranges are those of
/// Kafka's "tier 1" set: non-flexible versions every client in use can speak (librdkafka 2.0,
/// kafka-python 2.x and 3.x, aiokafka, Java 3.x). kafka-python and aiokafka infer a Kafka release from
/// these ranges (Produce v8 reads as 2.4) and then send that release's versions, so the set must stay
/// consistent with one release: check their inference after any change here.
enum SupportedApis {
    static let ranges: [ApiKey: ClosedRange<Int16>] = [
        // Produce from 0 as Kafka advertises: librdkafka before 2.11.1 compresses only when the broker
        // lists Produce v0. Versions before 3 carry old message formats, which are refused per
        // partition (CORRUPT_MESSAGE); no client that speaks record batches v2 sends them.
        .produce: 0...8,
        .fetch: 4...11,
        .listOffsets: 0...5,
        .metadata: 0...8,
        .leaderAndIsr: 0...4,
        .stopReplica: 0...3,
        .controlledShutdown: 0...3,
        .updateMetadata: 0...6,
        .apiVersions: 0...3,
        // Consumer groups, from v0 (librdkafka enables groups and lz4 only when FindCoordinator,
        // JoinGroup, SyncGroup, Heartbeat and LeaveGroup list v0), up to Kafka 2.4's non-flexible
        // versions. LeaveGroup 3 batches members and lets static members leave by instance id.
        .findCoordinator: 0...2,
        .joinGroup: 0...5,
        .syncGroup: 0...3,
        .heartbeat: 0...3,
        .leaveGroup: 0...3,
        .offsetCommit: 0...7,
        .offsetFetch: 0...5,
        .listGroups: 0...2,
        .describeGroups: 0...4,
        .deleteGroups: 0...1,
        .offsetDelete: 0...0,
        .createTopics: 0...4,
        .deleteTopics: 0...3,
        .deleteRecords: 0...1,
        .initProducerId: 0...1,
        .createPartitions: 0...1,
        .offsetForLeaderEpoch: 0...3,
        .describeConfigs: 0...3,
        .alterConfigs: 0...1,
        .incrementalAlterConfigs: 0...1,
        .electLeaders: 0...2,
    ]

    static func range(_ key: ApiKey) -> ClosedRange<Int16>? { ranges[key] }
}
