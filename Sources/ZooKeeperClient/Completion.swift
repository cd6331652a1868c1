import CZooKeeper

/// What a completion callback received, copied out of the library's buffers before it returns.
enum CompletionPayload {
    case none
    case stat(Stat?)
    case data([UInt8], Stat?)
    case children([String], Stat?)
    case string(String?)
}

/// The task waiting on one request. Travels to the library as the completion's `data` pointer.
final class CompletionBox: Sendable {
    let resume: @Sendable (Int32, CompletionPayload) -> Void

    init(resume: @escaping @Sendable (Int32, CompletionPayload) -> Void) {
        self.resume = resume
    }
}

enum Completion {
    /// Queues a request and waits for its completion. `submit` receives the `data` pointer to pass
    /// to the zoo_a* call; `result` turns the return code and payload into a value or an error.
    static func run<T: Sendable>(
        _ path: String,
        submit: (UnsafeMutableRawPointer) throws -> Void,
        result: @escaping @Sendable (Int32, CompletionPayload) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let box = CompletionBox { rc, payload in
                continuation.resume(with: Result { try result(rc, payload) })
            }
            // Retained for the library; the completion trampoline balances it with takeRetainedValue.
            // The library calls every completion of an accepted request exactly once (with ZCLOSING
            // at the latest, when the handle closes).
            let data = Unmanaged.passRetained(box).toOpaque()
            do {
                try submit(data)
            } catch {
                // Refused before queueing, so the library will never call back: balance it here.
                Unmanaged<CompletionBox>.fromOpaque(data).release()
                continuation.resume(throwing: error)
            }
        }
    }

    /// A request whose only answer is its return code.
    static func run(_ path: String, submit: (UnsafeMutableRawPointer) throws -> Void) async throws {
        try await run(path, submit: submit) { rc, _ in try check(rc, path) }
    }

    static func check(_ rc: Int32, _ path: String) throws {
        guard rc == ZOK.rawValue else { throw ZooKeeperError(code: rc, path: path) }
    }
}

/// Takes back the box that `Completion.run` retained for the library, exactly once per request.
private func takeBox(_ data: UnsafeRawPointer?) -> CompletionBox {
    // Balances Unmanaged.passRetained in Completion.run.
    Unmanaged<CompletionBox>.fromOpaque(data!).takeRetainedValue()
}

// The completion trampolines. The library calls them on its completion thread; each copies what it
// needs out of the library's buffers, which are freed when it returns, and resumes the task.

let voidCompletion: void_completion_t = { rc, data in
    takeBox(data).resume(rc, .none)
}

let statCompletion: stat_completion_t = { rc, stat, data in
    takeBox(data).resume(rc, .stat(stat.map { Stat($0.pointee) }))
}

let dataCompletion: data_completion_t = { rc, value, length, stat, data in
    var bytes: [UInt8] = []
    if let value, length > 0 {
        bytes = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
    }
    takeBox(data).resume(rc, .data(bytes, stat.map { Stat($0.pointee) }))
}

let childrenCompletion: strings_stat_completion_t = { rc, strings, stat, data in
    var names: [String] = []
    if let strings, let items = strings.pointee.data {
        names = (0..<Int(strings.pointee.count)).compactMap { items[$0].map { String(cString: $0) } }
    }
    takeBox(data).resume(rc, .children(names.sorted(), stat.map { Stat($0.pointee) }))
}

let stringCompletion: string_completion_t = { rc, value, data in
    takeBox(data).resume(rc, .string(value.map { String(cString: $0) }))
}

/// The session and watch events of every handle. `context` is the handle's `HandleContext`, which
/// stays retained while the handle lives (see `ZooKeeperCore.openHandle`): borrowed, not consumed.
let zooKeeperWatcher: watcher_fn = { _, type, state, path, context in
    guard let context else { return }
    let handle = Unmanaged<HandleContext>.fromOpaque(context).takeUnretainedValue()
    handle.core?.handleEvent(
        generation: handle.generation, type: type, state: state, path: path.map { String(cString: $0) } ?? "")
}
