import KafkaModel
import KafkaStorage
import NIOCore

/// What one partition gives a fetch.
struct PartitionRead: Sendable {
    var error: KafkaErrorCode = .none
    var highWatermark: Int64 = -1
    var logStartOffset: Int64 = -1
    /// Where the records are: a byte range of a segment file, sent from there without a copy.
    var file: LogFile? = nil
    var position = 0
    var length = 0
}

extension ReplicaManager {
    /// KIP-320: a client that names a leader epoch older than the leader's is fenced; one newer than
    /// it has heard of is ahead of this broker. -1 skips the check (older clients).
    static func epochError(_ partition: Partition, _ currentLeaderEpoch: Int32) -> KafkaErrorCode? {
        guard currentLeaderEpoch >= 0 else { return nil }
        let epoch = partition.leaderEpoch
        if currentLeaderEpoch < epoch { return .fencedLeaderEpoch }
        if currentLeaderEpoch > epoch { return .unknownLeaderEpoch }
        return nil
    }

    /// Reads for a consumer from `offset`, up to the high watermark: at most `maxBytes`, except
    /// that with `minOneMessage` a first batch larger than that comes whole (KIP-74).
    func readForConsumer(
        _ tp: TopicPartition, offset: Int64, maxBytes: Int, minOneMessage: Bool, currentLeaderEpoch: Int32
    ) async -> PartitionRead {
        guard let partition = partition(tp), partition.isLeader else { return PartitionRead(error: .notLeaderOrFollower) }
        if let error = Self.epochError(partition, currentLeaderEpoch) { return PartitionRead(error: error) }
        let log = partition.log
        do {
            return try await io.run {
                let highWatermark = log.highWatermark
                let result = try log.read(from: offset, maxBytes: maxBytes, maxOffset: highWatermark, minOneMessage: minOneMessage)
                return PartitionRead(
                    highWatermark: result.highWatermark, logStartOffset: result.logStartOffset, file: result.file,
                    position: result.position, length: result.length)
            }
        } catch let error as StorageError {
            return PartitionRead(error: error.kafkaErrorCode, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset)
        } catch {
            return PartitionRead(error: .unknownServerError)
        }
    }

    /// Reads for a follower from `offset` up to the log end, after noting that the follower has
    /// everything below `offset` (which may move the high watermark and complete acks=all produces).
    func readForFollower(
        _ tp: TopicPartition, replica: Int32, offset: Int64, maxBytes: Int, minOneMessage: Bool, currentLeaderEpoch: Int32
    ) async -> PartitionRead {
        guard let partition = partition(tp), partition.isLeader else { return PartitionRead(error: .notLeaderOrFollower) }
        if let error = Self.epochError(partition, currentLeaderEpoch) { return PartitionRead(error: error) }
        let log = partition.log
        if offset <= log.logEndOffset {
            let before = log.highWatermark
            partition.updateFollowerEnd(replica, offset: offset)
            if partition.maybeAdvanceHighWatermark() != before { arrival.notify(tp) }
        }
        do {
            return try await io.run {
                let result = try log.read(from: offset, maxBytes: maxBytes, maxOffset: nil, minOneMessage: minOneMessage)
                return PartitionRead(
                    highWatermark: log.highWatermark, logStartOffset: result.logStartOffset, file: result.file,
                    position: result.position, length: result.length)
            }
        } catch let error as StorageError {
            return PartitionRead(error: error.kafkaErrorCode, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset)
        } catch {
            return PartitionRead(error: .unknownServerError)
        }
    }

    /// OffsetForLeaderEpoch: where `epoch` ends in this leader's log (KIP-101), for a follower to
    /// truncate to.
    func epochEnd(_ tp: TopicPartition, epoch: Int32, currentLeaderEpoch: Int32) -> (KafkaErrorCode, epoch: Int32, endOffset: Int64) {
        guard let partition = partition(tp), partition.isLeader else { return (.notLeaderOrFollower, -1, -1) }
        if let error = Self.epochError(partition, currentLeaderEpoch) { return (error, -1, -1) }
        let (foundEpoch, endOffset) = partition.log.endOffset(forEpoch: epoch)
        return (.none, foundEpoch, endOffset)
    }

    /// ListOffsets for one partition: -1 latest (the high watermark), -2 earliest (the log start),
    /// else the first offset whose timestamp is at least `timestamp`.
    func listOffset(_ tp: TopicPartition, timestamp: Int64, currentLeaderEpoch: Int32) async -> (KafkaErrorCode, offset: Int64, timestamp: Int64, epoch: Int32) {
        guard let partition = partition(tp), partition.isLeader else { return (.notLeaderOrFollower, -1, -1, -1) }
        if let error = Self.epochError(partition, currentLeaderEpoch) { return (error, -1, -1, -1) }
        let epoch = partition.leaderEpoch
        let log = partition.log
        switch timestamp {
        case -1: return (.none, log.highWatermark, -1, epoch)
        case -2: return (.none, log.logStartOffset, -1, epoch)
        default:
            do {
                let found = try await io.run { try log.offset(forTimestamp: timestamp, maxOffset: log.highWatermark) }
                guard let found else { return (.none, -1, -1, epoch) }
                return (.none, found.offset, found.timestamp, epoch)
            } catch let error as StorageError {
                return (error.kafkaErrorCode, -1, -1, -1)
            } catch {
                return (.unknownServerError, -1, -1, -1)
            }
        }
    }

    /// DeleteRecords: moves the log start to `offset` (-1: the high watermark). Returns the new low
    /// watermark.
    func deleteRecords(_ tp: TopicPartition, before offset: Int64) async -> (KafkaErrorCode, lowWatermark: Int64) {
        guard let partition = partition(tp), partition.isLeader else { return (.notLeaderOrFollower, -1) }
        let log = partition.log
        let target = offset == -1 ? log.highWatermark : offset
        guard target >= 0, target <= log.highWatermark else { return (.offsetOutOfRange, -1) }
        do {
            let low = try await io.run { try log.deleteRecords(before: target) }
            arrival.notify(tp)
            return (.none, low)
        } catch let error as StorageError {
            return (error.kafkaErrorCode, -1)
        } catch {
            return (.unknownServerError, -1)
        }
    }
}
