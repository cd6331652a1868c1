import KafkaCompression
import KafkaModel
import KafkaRecords
import KafkaStorage
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The outcome of producing one batch to one partition.
struct ProduceResult: Sendable {
    var error: KafkaErrorCode = .none
    var message: String? = nil
    var baseOffset: Int64 = -1
    var logAppendTime: Int64 = -1
    var logStartOffset: Int64 = -1
    /// The offset acks=all waits for the ISR to reach.
    var nextOffset: Int64 = -1

    static func failed(_ error: KafkaErrorCode, _ message: String? = nil) -> ProduceResult {
        ProduceResult(error: error, message: message)
    }
}

extension ReplicaManager {
    /// Validates and appends the one batch a Produce request carries for `tp` (v3+: exactly one
    /// magic-v2 batch), as the partition's leader. Nothing of a batch that fails a check reaches the
    /// log. With acks=-1 the caller then waits for the ISR (`waitForReplication`).
    func appendToLeader(_ tp: TopicPartition, records: ByteBuffer?, acks: Int16, produceVersion: Int16) async -> ProduceResult {
        guard let partition = partition(tp) else { return .failed(.notLeaderOrFollower) }
        let view = partition.leaderView()
        guard view.isLeader else { return .failed(.notLeaderOrFollower) }
        if view.isrCount > 1 && isHandingOver {
            // A controlled shutdown is moving this leadership: hold the write until it has moved
            // (then NOT_LEADER_OR_FOLLOWER, when this broker's Metadata already names the new leader)
            // or the hand-over was abandoned. Acknowledging it here could lose it with acks=1.
            guard await waitForHandOver(partition) else { return .failed(.notLeaderOrFollower) }
        }
        let settings = view.settings
        guard produceVersion >= 3 else {
            return .failed(
                .unsupportedVersion,
                "Produce v\(produceVersion) carries the old message formats (magic 0 and 1), which this broker does not store; use Produce v3 or later")
        }
        guard let records, records.readableBytes > 0 else {
            return .failed(.invalidRecord, "the produce request carries no records for \(tp)")
        }
        let batch: RecordBatch
        do {
            let (batches, partial) = try RecordBatch.split(records)
            guard partial == 0 else { return .failed(.corruptMessage, "the records end in a partial batch of \(partial) bytes") }
            guard batches.count == 1, let only = batches.first else {
                return .failed(.invalidRecord, "a produce request must carry exactly one record batch per partition, not \(batches.count)")
            }
            batch = only
        } catch {
            return .failed(error.code, error.message)
        }
        if batch.header.compressionCodec == .zstd && produceVersion < 7 {
            return .failed(.unsupportedCompressionType, "zstd needs Produce v7 or later")
        }
        if acks == -1 && view.isrCount < settings.minInsyncReplicas {
            return .failed(
                .notEnoughReplicas, "the ISR has \(view.isrCount) replicas, fewer than min.insync.replicas \(settings.minInsyncReplicas)")
        }
        var rules = RecordBatchValidator()
        rules.maxMessageBytes = settings.maxMessageBytes
        rules.requiresKeys = settings.compacted
        rules.timestampType = settings.timestampType
        rules.maxTimestampDifferenceMs = settings.maxTimestampDifferenceMs
        let validator = rules
        let received = batch
        let log = partition.log
        let epoch = view.leaderEpoch
        do {
            let info = try await io.run { () throws -> LogAppendInfo in
                var batch = received
                _ = try validator.validate(&batch, now: Self.nowMs())
                if let target = settings.compression, batch.header.compressionCodec != target {
                    batch = try Self.recompress(batch, with: target, decompressionLimit: validator.decompressionLimit)
                }
                return try log.appendAsLeader(batch, leaderEpoch: epoch)
            }
            partition.maybeAdvanceHighWatermark()
            arrival.notify(tp)
            return ProduceResult(
                baseOffset: info.firstOffset, logAppendTime: info.logAppendTime, logStartOffset: info.logStartOffset,
                nextOffset: info.nextOffset)
        } catch let error as RecordError {
            return .failed(error.code, error.message)
        } catch let error as StorageError {
            return .failed(error.kafkaErrorCode, "\(error)")
        } catch {
            return .failed(.unknownServerError, "\(error)")
        }
    }

    /// Until `partition` stops leading here (false) or the hand-over ends without moving it (true).
    private func waitForHandOver(_ partition: Partition) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let seen = arrival.generations(of: [partition.topicPartition])
            guard partition.isLeader else { return false }
            guard isHandingOver else { return true }
            await arrival.wait(since: seen, timeout: .milliseconds(100))
        }
        return partition.isLeader
    }

    /// acks=all: waits until the high watermark covers `nextOffset`, or `timeout`. Answers
    /// REQUEST_TIMED_OUT when the ISR did not catch up, NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR
    /// shrank below `min.insync.replicas` meanwhile.
    ///
    /// `leadershipCertain` says whether this broker's ZooKeeper session is certainly alive. When it
    /// may have expired, another leader may have been elected, so nothing is acknowledged: the answer
    /// waits until the session is confirmed again (or for the LeaderAndIsr that makes it a follower).
    /// A short ZooKeeper outage does not stop acks=all, as in Kafka.
    func waitForReplication(
        _ tp: TopicPartition, nextOffset: Int64, timeout: Duration, leadershipCertain: @Sendable () -> Bool
    ) async -> KafkaErrorCode {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = arrival.generations(of: [tp])
            guard let partition = partition(tp), partition.isLeader else { return .notLeaderOrFollower }
            let left = deadline - ContinuousClock.now
            if partition.maybeAdvanceHighWatermark() >= nextOffset {
                guard leadershipCertain() else {
                    guard left > .zero else { return .requestTimedOut }
                    try? await Task.sleep(for: min(left, .milliseconds(50)))
                    continue
                }
                let view = partition.leaderView()
                return view.isrCount < view.settings.minInsyncReplicas ? .notEnoughReplicasAfterAppend : .none
            }
            guard left > .zero else { return .requestTimedOut }
            await arrival.wait(since: seen, timeout: left)
        }
    }

    /// The same records in a batch compressed with the topic's `compression.type` (Kafka recompresses
    /// on the leader when the topic names a codec other than the producer's).
    static func recompress(_ batch: RecordBatch, with codec: CompressionCodec, decompressionLimit: Int) throws -> RecordBatch {
        var builder = RecordBatchBuilder(codec: codec)
        let header = batch.header
        builder.producerId = header.producerId
        builder.producerEpoch = header.producerEpoch
        builder.baseSequence = header.baseSequence
        builder.isTransactional = header.isTransactional
        builder.timestampType = header.timestampType
        for record in try batch.records(decompressionLimit: decompressionLimit) {
            builder.append(key: record.key, value: record.value, headers: record.headers, timestamp: record.timestamp)
        }
        return try builder.build()
    }

    static func nowMs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}
