/// A topic and a partition number; on disk, the partition's directory `<topic>-<partition>`.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int32

    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Parses a partition directory name. The topic may itself contain '-', so the partition is
    /// what follows the last one (as Kafka's `Log.parseTopicPartitionName`). Nil for names that are
    /// not partition directories, including `-delete` and `-future` ones.
    public init?(directoryName name: String) {
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let topic = String(name[..<dash])
        let number = name[name.index(after: dash)...]
        guard let partition = Int32(number), partition >= 0, String(partition) == number,
            TopicPartition.isLegalTopicName(topic)
        else { return nil }
        self.init(topic: topic, partition: partition)
    }

    public var directoryName: String { "\(topic)-\(partition)" }

    public var description: String { directoryName }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        (lhs.topic, lhs.partition) < (rhs.topic, rhs.partition)
    }

    /// Kafka's rule (`Topic.validate`): 1 to 249 characters of `[a-zA-Z0-9._-]`, and not "." or "..".
    /// It also keeps names safe as path components and checkpoint fields.
    public static func isLegalTopicName(_ topic: String) -> Bool {
        guard !topic.isEmpty, topic.utf8.count <= 249, topic != ".", topic != ".." else { return false }
        return topic.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
    }
}
