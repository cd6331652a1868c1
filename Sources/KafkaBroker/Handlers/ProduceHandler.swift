import KafkaCoordination
import KafkaModel
import KafkaProtocol
import NIOCore

extension KafkaServer {
    /// Produce: one batch per partition, validated and appended by the partition's leader. acks=1
    /// answers after the local append, acks=-1 once the ISR has the batch, acks=0 never (and an error
    /// closes the connection, as Kafka does, since the client reads no answer).
    func produceOutcome(_ request: ProduceRequest, _ context: RequestContext) async -> RequestOutcome {
        let response = await produce(request, context)
        if request.acks == 0 {
            let failed = response.responses.flatMap(\.partitionResponses).first { $0.errorCode != 0 }
            if let failed {
                return .close(reason: "acks=0 produce failed with \(KafkaErrorCode(rawValue: failed.errorCode).name)")
            }
            return .noResponse
        }
        return .respond(responseFrame(response, context))
    }

    func produce(_ request: ProduceRequest, _ context: RequestContext) async -> ProduceResponse {
        let acks = request.acks
        let validAcks = acks == 0 || acks == 1 || acks == -1
        var results: [(TopicPartition, ProduceResult)] = []
        for topic in request.topicData {
            for data in topic.partitionData {
                let tp = TopicPartition(topic: topic.name, partition: data.index)
                guard validAcks else {
                    results.append((tp, .failed(.invalidRequiredAcks)))
                    continue
                }
                guard metadata.partition(tp) != nil else {
                    results.append((tp, .failed(.unknownTopicOrPartition)))
                    continue
                }
                results.append((tp, await replicas.appendToLeader(tp, records: data.records, acks: acks, produceVersion: context.version)))
            }
        }
        // The appends are done in order; waiting for the replicas need not hold up the next request.
        context.turn.end()
        if acks == -1 {
            let timeout = Duration.milliseconds(max(Int64(request.timeoutMs), 0))
            let coordinator = self.coordinator
            let sessionAlive: @Sendable () -> Bool = { coordinator?.sessionCertainlyAlive ?? false }
            results = await withTaskGroup(of: (Int, ProduceResult).self) { group in
                for (index, (tp, result)) in results.enumerated() where result.error == .none {
                    group.addTask {
                        var result = result
                        let error = await self.replicas.waitForReplication(
                            tp, nextOffset: result.nextOffset, timeout: timeout, leadershipCertain: sessionAlive)
                        if error != .none { result.error = error }
                        return (index, result)
                    }
                }
                var updated = results
                for await (index, result) in group { updated[index].1 = result }
                return updated
            }
        }
        var byTopic: [String: [ProduceResponse.PartitionProduceResponse]] = [:]
        var order: [String] = []
        for (tp, result) in results {
            if byTopic[tp.topic] == nil { order.append(tp.topic) }
            byTopic[tp.topic, default: []].append(ProduceResponse.PartitionProduceResponse(
                index: tp.partition, errorCode: result.error.rawValue, baseOffset: result.baseOffset,
                logAppendTimeMs: result.logAppendTime, logStartOffset: result.logStartOffset, errorMessage: result.message))
        }
        return ProduceResponse(responses: order.map { ProduceResponse.TopicProduceResponse(name: $0, partitionResponses: byTopic[$0]!) })
    }
}
