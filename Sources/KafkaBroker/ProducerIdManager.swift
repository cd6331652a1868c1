import KafkaCoordination
import Synchronization

/// Hands out producer ids for InitProducerId from blocks taken in `/latest_producer_id_block`, so
/// that no two brokers ever give out the same id.
final class ProducerIdManager: Sendable {
    private let brokerID: Int32
    private let zk: KafkaZkClient
    private let state = Mutex<(next: Int64, end: Int64)>((0, -1))

    init(brokerID: Int32, zk: KafkaZkClient) {
        self.brokerID = brokerID
        self.zk = zk
    }

    func nextProducerId() async throws -> Int64 {
        while true {
            let id = state.withLock { state -> Int64? in
                guard state.next <= state.end else { return nil }
                defer { state.next += 1 }
                return state.next
            }
            if let id { return id }
            let block = try await zk.allocateProducerIdBlock(brokerID: brokerID)
            state.withLock { state in
                if state.next > state.end { state = (block.start, block.end) }
            }
        }
    }
}
