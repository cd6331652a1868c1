import Logging
import KafkaModel
import KafkaProtocol
import NIOCore

extension KafkaServer {
    /// Fetch for consumers: every requested partition is in the answer (the Java client drops a
    /// response that omits one), reads stop at the high watermark, `max.bytes` bounds the whole
    /// answer and `partition_max_bytes` each partition, except that the first batch found comes whole
    /// (KIP-74). With less than `min.bytes` available it waits up to `max.wait.ms`, woken by appends
    /// rather than polling. Fetch sessions are not kept: the answer's session id is 0.
    func fetch(_ request: FetchRequest, _ context: RequestContext) async -> [ResponsePart] {
        let requested = request.topics.flatMap { topic in
            topic.partitions.map { (TopicPartition(topic: topic.topic, partition: $0.partition), $0) }
        }
        let deadline = ContinuousClock.now + .milliseconds(max(Int64(request.maxWaitMs), 0))
        let maxBytes = context.version >= 3 ? Int(max(request.maxBytes, 0)) : Int.max
        while true {
            let seen = replicas.arrival.generations(of: requested.map(\.0))
            var total = 0
            var failed = false
            var reads: [(TopicPartition, PartitionRead)] = []
            for (tp, partition) in requested {
                guard metadata.partition(tp) != nil || replicas.partition(tp) != nil else {
                    reads.append((tp, PartitionRead(error: .unknownTopicOrPartition)))
                    failed = true
                    continue
                }
                let budget = min(Int(max(partition.partitionMaxBytes, 0)), max(maxBytes - total, 0))
                let read = request.replicaId >= 0
                    ? await replicas.readForFollower(
                        tp, replica: request.replicaId, offset: partition.fetchOffset, maxBytes: budget, minOneMessage: total == 0,
                        currentLeaderEpoch: partition.currentLeaderEpoch)
                    : await replicas.readForConsumer(
                        tp, offset: partition.fetchOffset, maxBytes: budget, minOneMessage: total == 0,
                        currentLeaderEpoch: partition.currentLeaderEpoch)
                if read.error != .none { failed = true }
                total += read.length
                reads.append((tp, read))
            }
            let left = deadline - ContinuousClock.now
            if failed || total >= Int(request.minBytes) || left <= .zero || isShutDown {
                return fetchResponseFrame(reads, version: context.version, correlationId: context.header.correlationId)
            }
            await replicas.arrival.wait(since: seen, timeout: left)
        }
    }

    /// The response frame, written by hand for the versions served (4-11, none flexible) so that each
    /// partition's records go out as a file range with sendfile rather than through memory.
    func fetchResponseFrame(_ reads: [(TopicPartition, PartitionRead)], version: Int16, correlationId: Int32) -> [ResponsePart] {
        precondition((4...11).contains(version), "the hand-written Fetch encoder covers v4-11")
        var parts: [ResponsePart] = []
        var head = ByteBuffer()
        head.writeInteger(Int32(0))  // frame size, set below
        head.writeInteger(correlationId)
        head.writeInteger(Int32(0))  // throttle_time_ms
        if version >= 7 {
            head.writeInteger(Int16(0))  // error_code
            head.writeInteger(Int32(0))  // session_id: no fetch sessions
        }
        var topics: [(String, [(TopicPartition, PartitionRead)])] = []
        for (tp, read) in reads {
            if let last = topics.indices.last, topics[last].0 == tp.topic {
                topics[last].1.append((tp, read))
            } else {
                topics.append((tp.topic, [(tp, read)]))
            }
        }
        head.writeInteger(Int32(topics.count))
        var size = 0
        for (topic, partitions) in topics {
            head.writeInteger(Int16(topic.utf8.count))
            head.writeString(topic)
            head.writeInteger(Int32(partitions.count))
            for (tp, read) in partitions {
                head.writeInteger(tp.partition)
                head.writeInteger(read.error.rawValue)
                head.writeInteger(read.highWatermark)
                head.writeInteger(read.highWatermark)  // last_stable_offset: no transactions
                if version >= 5 { head.writeInteger(read.logStartOffset) }
                head.writeInteger(Int32(-1))  // aborted_transactions: null
                if version >= 11 { head.writeInteger(Int32(-1)) }  // preferred_read_replica
                head.writeInteger(Int32(read.length))
                if let file = read.file, read.length > 0 {
                    size += head.readableBytes
                    parts.append(.bytes(head))
                    parts.append(.file(file, position: read.position, length: read.length))
                    size += read.length
                    head = ByteBuffer()
                }
            }
        }
        size += head.readableBytes
        parts.append(.bytes(head))
        if case .bytes(var first) = parts[0] {
            first.setInteger(Int32(size - 4), at: first.readerIndex)
            parts[0] = .bytes(first)
        }
        return parts
    }

    /// OffsetForLeaderEpoch: where each asked epoch ends in the leader's log.
    func offsetForLeaderEpoch(_ request: OffsetForLeaderEpochRequest) -> OffsetForLeaderEpochResponse {
        OffsetForLeaderEpochResponse(topics: request.topics.map { topic in
            .init(topic: topic.topic, partitions: topic.partitions.map { partition in
                let (error, epoch, end) = replicas.epochEnd(
                    TopicPartition(topic: topic.topic, partition: partition.partition), epoch: partition.leaderEpoch,
                    currentLeaderEpoch: partition.currentLeaderEpoch)
                return .init(errorCode: error.rawValue, partition: partition.partition, leaderEpoch: epoch, endOffset: end)
            })
        })
    }

    /// ListOffsets: earliest (-2), latest (-1) or the first offset at a timestamp, per partition.
    func listOffsets(_ request: ListOffsetsRequest, _ context: RequestContext) async -> ListOffsetsResponse {
        var topics: [ListOffsetsResponse.ListOffsetsTopicResponse] = []
        for topic in request.topics {
            var partitions: [ListOffsetsResponse.ListOffsetsPartitionResponse] = []
            for partition in topic.partitions {
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                guard metadata.partition(tp) != nil else {
                    partitions.append(.init(partitionIndex: tp.partition, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue))
                    continue
                }
                let (error, offset, timestamp, epoch) = await replicas.listOffset(
                    tp, timestamp: partition.timestamp, currentLeaderEpoch: partition.currentLeaderEpoch)
                var answer = ListOffsetsResponse.ListOffsetsPartitionResponse(
                    partitionIndex: tp.partition, errorCode: error.rawValue, timestamp: timestamp, offset: offset, leaderEpoch: epoch)
                if context.version == 0 {
                    answer.oldStyleOffsets = error == .none && offset >= 0 && partition.maxNumOffsets > 0 ? [offset] : []
                }
                partitions.append(answer)
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        return ListOffsetsResponse(topics: topics)
    }

    /// DeleteRecords: moves each partition's log start forward.
    func deleteRecords(_ request: DeleteRecordsRequest) async -> DeleteRecordsResponse {
        var topics: [DeleteRecordsResponse.DeleteRecordsTopicResult] = []
        for topic in request.topics {
            var partitions: [DeleteRecordsResponse.DeleteRecordsPartitionResult] = []
            for partition in topic.partitions {
                let tp = TopicPartition(topic: topic.name, partition: partition.partitionIndex)
                guard metadata.partition(tp) != nil else {
                    partitions.append(.init(partitionIndex: tp.partition, lowWatermark: -1, errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue))
                    continue
                }
                let (error, low) = await replicas.deleteRecords(tp, before: partition.offset)
                partitions.append(.init(partitionIndex: tp.partition, lowWatermark: low, errorCode: error.rawValue))
            }
            topics.append(.init(name: topic.name, partitions: partitions))
        }
        return DeleteRecordsResponse(topics: topics)
    }

    /// InitProducerId for the idempotent producer: a fresh producer id with epoch 0. Transactions are
    /// not offered.
    func initProducerId(_ request: InitProducerIdRequest) async -> InitProducerIdResponse {
        if request.transactionalId != nil {
            return InitProducerIdResponse(errorCode: KafkaErrorCode.transactionalIdAuthorizationFailed.rawValue, producerId: -1, producerEpoch: -1)
        }
        do {
            let id = try await producerIds.nextProducerId()
            return InitProducerIdResponse(errorCode: 0, producerId: id, producerEpoch: 0)
        } catch {
            logger.error("cannot allocate a producer id: \(error)")
            return InitProducerIdResponse(errorCode: KafkaErrorCode.coordinatorNotAvailable.rawValue, producerId: -1, producerEpoch: -1)
        }
    }
}
