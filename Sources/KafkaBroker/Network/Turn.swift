import Synchronization

/// The order in which one connection's requests take effect. Each request waits for its
/// predecessor's turn to end before it is processed, so a client's requests act in the order it sent
/// them (a producer's batches are appended in order), as Kafka guarantees by reading one request at a
/// time per connection. A handler may end its turn early, once its ordered part is done (a produce
/// with acks=all ends it after appending, before waiting for replicas).
final class Turn: Sendable {
    private let state = Mutex<(ended: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Ends the turn; the next request may start. Idempotent.
    func end() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.ended else { return [] }
            state.ended = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the turn has ended.
    func waitUntilEnded() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ended = state.withLock { state -> Bool in
                if state.ended { return true }
                state.waiters.append(continuation)
                return false
            }
            if ended { continuation.resume() }
        }
    }
}
