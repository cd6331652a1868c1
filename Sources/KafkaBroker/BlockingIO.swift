import NIOPosix

/// Runs storage calls (pread, pwrite, fsync, renames) on a dedicated thread pool, never on an event
/// loop or Swift's cooperative pool.
struct BlockingIO: Sendable {
    let pool: NIOThreadPool

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
