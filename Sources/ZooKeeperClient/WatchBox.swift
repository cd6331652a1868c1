import Synchronization

/// Holds one watch's outcome until someone awaits it. Fired at most once.
final class WatchBox: Sendable {
    private enum State {
        case pending([CheckedContinuation<WatchEvent, Never>])
        case fired(WatchEvent)
    }

    private let state = Mutex<State>(.pending([]))

    func fire(_ event: WatchEvent) {
        let waiters: [CheckedContinuation<WatchEvent, Never>] = state.withLock { state in
            guard case .pending(let waiters) = state else { return [] }
            state = .fired(event)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: event) }
    }

    func wait() async -> WatchEvent {
        await withCheckedContinuation { continuation in
            let event: WatchEvent? = state.withLock { state in
                switch state {
                case .fired(let event):
                    return event
                case .pending(var waiters):
                    waiters.append(continuation)
                    state = .pending(waiters)
                    return nil
                }
            }
            if let event { continuation.resume(returning: event) }
        }
    }
}

/// Which kind of watch a request set, for routing the library's events.
enum WatchKind: Hashable {
    case data  // getData: fires on change and deletion
    case exists  // exists: fires on creation, change and deletion
    case children  // getChildren: fires on child changes and deletion
}

struct WatchKey: Hashable {
    var path: String
    var kind: WatchKind
}
