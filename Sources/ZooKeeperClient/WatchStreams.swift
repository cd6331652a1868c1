/// Watches as async sequences: each yields the znode's current value, then a new value after every
/// change, re-arming the one-shot watch each time and across session expiries. They end when the
/// consuming task is cancelled or the client closes. Connection losses are retried; a value
/// observed between two changes may be skipped, never a final state.
extension ZooKeeper {
    /// The znode's data and stat, or nil while it does not exist.
    public func dataUpdates(_ path: String) -> AsyncStream<(data: [UInt8], stat: Stat)?> {
        updates { zk in
            let (stat, watch) = try await zk.exists(path, watch: true)
            guard stat != nil else { return (nil, watch) }
            do {
                let (data, stat, _) = try await zk.getData(path)
                return ((data, stat), watch)
            } catch ZooKeeperError.noNode {
                return (nil, watch)  // deleted in between: the exists watch has fired already
            }
        }
    }

    /// The znode's children, sorted, or nil while it does not exist.
    public func childrenUpdates(_ path: String) -> AsyncStream<[String]?> {
        updates { zk in
            do {
                let (children, _, watch) = try await zk.getChildren(path, watch: true)
                return (children, watch)
            } catch ZooKeeperError.noNode {
                // Watch for the znode to appear instead.
                let (_, watch) = try await zk.exists(path, watch: true)
                return (nil, watch)
            }
        }
    }

    private func updates<Value: Sendable>(
        _ read: @escaping @Sendable (ZooKeeper) async throws -> (Value, Watch?)
    ) -> AsyncStream<Value> {
        AsyncStream { continuation in
            let task = Task {
                while !Task.isCancelled {
                    do {
                        let (value, watch) = try await read(self)
                        continuation.yield(value)
                        guard let watch else { break }
                        if await watch.event() == .sessionLost {
                            if case .closed = sessionState { break }
                            try await waitUntilConnected(timeout: .seconds(3600))
                        }
                    } catch ZooKeeperError.closing {
                        break
                    } catch {
                        try? await Task.sleep(for: .milliseconds(200))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
