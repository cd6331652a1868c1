import KafkaModel
import KafkaProtocol
import NIOCore

/// A committed offset as `__consumer_offsets` keeps it (OffsetCommitValue).
struct CommittedOffset: Sendable, Equatable {
    var offset: Int64
    var leaderEpoch: Int32 = -1
    var metadata: String = ""
    var commitTimestamp: Int64
    /// Only version 1 of the value carries it (an explicit retention time at commit).
    var expireTimestamp: Int64? = nil
}

/// A group's generation as `__consumer_offsets` keeps it (GroupMetadataValue), written when a
/// rebalance completes so a new coordinator resumes the group where it was.
struct StoredGroup: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var rebalanceTimeoutMs: Int32
        var sessionTimeoutMs: Int32
        var subscription: [UInt8]
        var assignment: [UInt8]
    }
    var protocolType: String
    var generation: Int32
    var protocolName: String?
    var leader: String?
    var currentStateTimestamp: Int64
    var members: [Member]
}

/// What a record of `__consumer_offsets` is about, from its key: version 0 and 1 name an offset
/// (group, topic, partition), version 2 a group.
enum OffsetsTopicKey: Hashable, Sendable {
    case offset(group: String, TopicPartition)
    case group(String)

    var groupId: String {
        switch self {
        case .offset(let group, _), .group(let group): return group
        }
    }
}

/// Kafka's own key and value formats for `__consumer_offsets` (the internal-topics message specs),
/// so tools that read the topic (lag monitors, dump-log) understand what Odradek writes. Writes key
/// version 1 / value version 3 for offsets and key version 2 / value version 3 for groups, as Kafka
/// 2.3+ does; reads every version.
enum GroupRecords {
    static func key(_ key: OffsetsTopicKey) -> [UInt8] {
        var buffer = ByteBuffer()
        switch key {
        case .offset(let group, let tp):
            buffer.writeKafkaInteger(Int16(1))
            buffer.writeKafkaString(group, compact: false)
            buffer.writeKafkaString(tp.topic, compact: false)
            buffer.writeKafkaInteger(tp.partition)
        case .group(let group):
            buffer.writeKafkaInteger(Int16(2))
            buffer.writeKafkaString(group, compact: false)
        }
        return Array(buffer.readableBytesView)
    }

    static func value(_ offset: CommittedOffset) -> [UInt8] {
        var buffer = ByteBuffer()
        if let expire = offset.expireTimestamp {
            buffer.writeKafkaInteger(Int16(1))
            buffer.writeKafkaInteger(offset.offset)
            buffer.writeKafkaString(offset.metadata, compact: false)
            buffer.writeKafkaInteger(offset.commitTimestamp)
            buffer.writeKafkaInteger(expire)
        } else {
            buffer.writeKafkaInteger(Int16(3))
            buffer.writeKafkaInteger(offset.offset)
            buffer.writeKafkaInteger(offset.leaderEpoch)
            buffer.writeKafkaString(offset.metadata, compact: false)
            buffer.writeKafkaInteger(offset.commitTimestamp)
        }
        return Array(buffer.readableBytesView)
    }

    static func value(_ group: StoredGroup) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeKafkaInteger(Int16(3))
        buffer.writeKafkaString(group.protocolType, compact: false)
        buffer.writeKafkaInteger(group.generation)
        buffer.writeKafkaNullableString(group.protocolName, compact: false)
        buffer.writeKafkaNullableString(group.leader, compact: false)
        buffer.writeKafkaInteger(group.currentStateTimestamp)
        buffer.writeKafkaArray(group.members, compact: false) { buffer, member in
            buffer.writeKafkaString(member.memberId, compact: false)
            buffer.writeKafkaNullableString(member.groupInstanceId, compact: false)
            buffer.writeKafkaString(member.clientId, compact: false)
            buffer.writeKafkaString(member.clientHost, compact: false)
            buffer.writeKafkaInteger(member.rebalanceTimeoutMs)
            buffer.writeKafkaInteger(member.sessionTimeoutMs)
            buffer.writeKafkaBytes(member.subscription, compact: false)
            buffer.writeKafkaBytes(member.assignment, compact: false)
        }
        return Array(buffer.readableBytesView)
    }

    static func decodeKey(_ bytes: [UInt8]) throws(ProtocolError) -> OffsetsTopicKey {
        var buffer = ByteBuffer(bytes: bytes)
        let version: Int16 = try buffer.readKafkaInteger()
        switch version {
        case 0, 1:
            let group = try buffer.readKafkaString(compact: false)
            let topic = try buffer.readKafkaString(compact: false)
            let partition: Int32 = try buffer.readKafkaInteger()
            return .offset(group: group, TopicPartition(topic: topic, partition: partition))
        case 2:
            return .group(try buffer.readKafkaString(compact: false))
        default:
            throw ProtocolError(.unsupportedVersion, "__consumer_offsets key version \(version)")
        }
    }

    static func decodeOffset(_ bytes: [UInt8]) throws(ProtocolError) -> CommittedOffset {
        var buffer = ByteBuffer(bytes: bytes)
        let version: Int16 = try buffer.readKafkaInteger()
        guard (0...4).contains(version) else { throw ProtocolError(.unsupportedVersion, "OffsetCommitValue version \(version)") }
        let flexible = version >= 4
        let offset: Int64 = try buffer.readKafkaInteger()
        let epoch: Int32 = version >= 3 ? try buffer.readKafkaInteger() : -1
        let metadata = try buffer.readKafkaString(compact: flexible)
        let timestamp: Int64 = try buffer.readKafkaInteger()
        let expire: Int64? = version == 1 ? try buffer.readKafkaInteger() : nil
        return CommittedOffset(
            offset: offset, leaderEpoch: epoch, metadata: metadata, commitTimestamp: timestamp,
            expireTimestamp: expire == -1 ? nil : expire)
    }

    static func decodeGroup(_ bytes: [UInt8]) throws(ProtocolError) -> StoredGroup {
        var buffer = ByteBuffer(bytes: bytes)
        let version: Int16 = try buffer.readKafkaInteger()
        guard (0...4).contains(version) else { throw ProtocolError(.unsupportedVersion, "GroupMetadataValue version \(version)") }
        let flexible = version >= 4
        let protocolType = try buffer.readKafkaString(compact: flexible)
        let generation: Int32 = try buffer.readKafkaInteger()
        let protocolName = try buffer.readKafkaNullableString(compact: flexible)
        let leader = try buffer.readKafkaNullableString(compact: flexible)
        let timestamp: Int64 = version >= 2 ? try buffer.readKafkaInteger() : -1
        let members = try buffer.readKafkaArray(compact: flexible) { (buffer: inout ByteBuffer) throws(ProtocolError) in
            let memberId = try buffer.readKafkaString(compact: flexible)
            let instance = version >= 3 ? try buffer.readKafkaNullableString(compact: flexible) : nil
            let clientId = try buffer.readKafkaString(compact: flexible)
            let clientHost = try buffer.readKafkaString(compact: flexible)
            let rebalanceTimeout: Int32 = version >= 1 ? try buffer.readKafkaInteger() : -1
            let sessionTimeout: Int32 = try buffer.readKafkaInteger()
            let subscription = try buffer.readKafkaBytes(compact: flexible)
            let assignment = try buffer.readKafkaBytes(compact: flexible)
            if flexible { try buffer.skipKafkaTaggedFields() }
            return StoredGroup.Member(
                memberId: memberId, groupInstanceId: instance, clientId: clientId, clientHost: clientHost,
                rebalanceTimeoutMs: rebalanceTimeout == -1 ? sessionTimeout : rebalanceTimeout,
                sessionTimeoutMs: sessionTimeout, subscription: subscription, assignment: assignment)
        }
        return StoredGroup(
            protocolType: protocolType, generation: generation, protocolName: protocolName, leader: leader,
            currentStateTimestamp: timestamp, members: members)
    }

    /// The topics a consumer-protocol member subscribes to (ConsumerProtocolSubscription: version,
    /// then the topic names), or nil when the metadata is not of that protocol.
    static func subscribedTopics(_ metadata: [UInt8]) -> [String]? {
        var buffer = ByteBuffer(bytes: metadata)
        guard let version: Int16 = try? buffer.readKafkaInteger(), version >= 0 else { return nil }
        return try? buffer.readKafkaArray(compact: false) { (buffer: inout ByteBuffer) throws(ProtocolError) in
            try buffer.readKafkaString(compact: false)
        }
    }

    /// Java's String.hashCode over UTF-16 code units, which places a group on a partition.
    static func javaHashCode(_ string: String) -> Int32 {
        var hash: Int32 = 0
        for unit in string.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return hash
    }

    /// The partition of `__consumer_offsets` that holds `group` (Kafka's `partitionFor`; `Utils.abs`
    /// maps Int.MIN_VALUE to 0).
    static func partition(for group: String, partitions: Int) -> Int32 {
        let hash = javaHashCode(group)
        let positive = hash == Int32.min ? 0 : abs(hash)
        return positive % Int32(partitions)
    }
}
