import KafkaModel
import Synchronization

/// Wakes fetches that wait for data (long polls on `max.wait.ms`/`min.bytes`) when a partition they
/// read grows or its high watermark moves, without polling. Each partition has a generation that
/// every change bumps; a fetch notes the generations before it reads, so a change that lands
/// between its read and its wait is not missed.
final class DataArrival: Sendable {
    private struct Waiter {
        var partitions: Set<TopicPartition>
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var generations: [TopicPartition: UInt64] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    func generations(of partitions: some Sequence<TopicPartition>) -> [TopicPartition: UInt64] {
        state.withLock { state in
            Dictionary(partitions.map { ($0, state.generations[$0] ?? 0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    func notify(_ tp: TopicPartition) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generations[tp, default: 0] &+= 1
            let ids = state.waiters.filter { $0.value.partitions.contains(tp) }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns when any of `seen`'s partitions changes after the generations in `seen`, or after
    /// `timeout`, or on cancellation.
    func wait(since seen: [TopicPartition: UInt64], timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let resumeNow = self.state.withLock { state -> Bool in
                            if Task.isCancelled { return true }
                            if seen.contains(where: { state.generations[$0.key] ?? 0 != $0.value }) { return true }
                            state.waiters[id] = Waiter(partitions: Set(seen.keys), continuation: continuation)
                            return false
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
