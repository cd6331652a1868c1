import CZooKeeper
import Glibc
import Dispatch
import Logging
import Synchronization

/// A zhandle_t pointer that may cross threads. Only `ZooKeeperCore` touches it, under its lock.
struct HandleRef: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// The watcher context the library hands back on every session and watch event of one handle.
/// Retained for the handle's lifetime: see `ZooKeeperCore.openHandle` and `closeHandle`.
final class HandleContext: Sendable {
    weak let core: ZooKeeperCore?
    let generation: Int

    init(core: ZooKeeperCore, generation: Int) {
        self.core = core
        self.generation = generation
    }
}

/// The state behind `ZooKeeper`: the current handle, the session state and its subscribers, the
/// watches waiting for events. All mutable state is under one lock that is never held across a
/// call that can block or call back into us (`zookeeper_init`, `zookeeper_close`).
final class ZooKeeperCore: Sendable {
    let connectString: String
    let sessionTimeout: Duration
    let logger: Logger

    private struct State {
        var handle: HandleRef?
        var handleContext: Unmanaged<HandleContext>?
        var generation = 0
        var session: SessionState = .connecting
        var closed = false
        var subscribers: [Int: AsyncStream<SessionState>.Continuation] = [:]
        var nextSubscriber = 0
        var connectWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var nextWaiter = 0
        var watches: [WatchKey: [WatchBox]] = [:]
        var auths: [(scheme: String, credentials: String)] = []
    }

    private let state = Mutex(State())
    /// Runs the library's blocking calls (handle creation and close) off the callers' threads and
    /// off Swift's cooperative pool.
    private static let lifecycleQueue = DispatchQueue(label: "odradek.zookeeper.lifecycle")

    init(connectString: String, sessionTimeout: Duration, logger: Logger) {
        self.connectString = connectString
        self.sessionTimeout = sessionTimeout
        self.logger = logger
        ZooKeeperLog.install(logger)
    }

    var currentState: SessionState { state.withLock { $0.session } }

    var sessionCredentials: (id: Int64, password: [UInt8])? {
        state.withLock { state in
            guard let handle = state.handle, let client = zoo_client_id(handle.pointer) else { return nil }
            let password = withUnsafeBytes(of: client.pointee.passwd) { Array($0) }
            return (client.pointee.client_id, password)
        }
    }

    // MARK: Handles

    func start() throws {
        try openHandle()
    }

    /// Creates a handle for a new session. `zookeeper_init` starts the library's threads and resolves
    /// host names but does not wait for the connection.
    private func openHandle() throws {
        let generation = state.withLock { state -> Int in
            state.generation += 1
            return state.generation
        }
        // Retained here; released in `closeHandle` after `zookeeper_close` returns, when the
        // library can no longer call the watcher with it.
        let context = Unmanaged.passRetained(HandleContext(core: self, generation: generation))
        let timeoutMs = Int32(clamping: sessionTimeout.components.seconds * 1000 + sessionTimeout.components.attoseconds / 1_000_000_000_000_000)
        guard
            let handle = zookeeper_init2(
                connectString, zooKeeperWatcher, timeoutMs, nil, context.toOpaque(), 0, zooKeeperLogCallback)
        else {
            context.release()  // the library never saw it
            throw ZooKeeperClientError(message: "cannot start a ZooKeeper session for '\(connectString)' (errno \(errno)); check zookeeper.connect")
        }
        let (auths, stale) = state.withLock { state -> ([(scheme: String, credentials: String)], (HandleRef, Unmanaged<HandleContext>)?) in
            let previous = state.handle.flatMap { h in state.handleContext.map { (h, $0) } }
            state.handle = HandleRef(pointer: handle)
            state.handleContext = context
            return (state.auths, previous)
        }
        if let stale { closeHandle(stale.0, context: stale.1) }
        for auth in auths {
            _ = zoo_add_auth(handle, auth.scheme, auth.credentials, Int32(auth.credentials.utf8.count), nil, nil)
        }
    }

    /// Closes a handle on the lifecycle queue; `zookeeper_close` joins the library's threads.
    private func closeHandle(_ handle: HandleRef, context: Unmanaged<HandleContext>, done: (@Sendable () -> Void)? = nil) {
        Self.lifecycleQueue.async {
            zookeeper_close(handle.pointer)
            // Balances the passRetained in `openHandle`: the handle is gone, so no callback can use it.
            context.release()
            done?()
        }
    }

    func close() async {
        let toClose = state.withLock { state -> (HandleRef, Unmanaged<HandleContext>)? in
            guard !state.closed else { return nil }
            state.closed = true
            defer {
                state.handle = nil
                state.handleContext = nil
            }
            return state.handle.flatMap { h in state.handleContext.map { (h, $0) } }
        }
        publish(.closed)
        failAllWatches()
        let waiters = state.withLock { state in
            defer { state.connectWaiters = [:] }
            return Array(state.connectWaiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: ZooKeeperError.closing) }
        if let (handle, context) = toClose {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                closeHandle(handle, context: context) { continuation.resume() }
            }
        }
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    // MARK: Session events

    /// Called by the watcher trampoline on the library's completion thread. Never blocks it.
    func handleEvent(generation: Int, type: Int32, state sessionState: Int32, path: String) {
        let current = state.withLock { $0.generation == generation && !$0.closed }
        guard current else { return }  // an event of a handle already replaced
        if type == czk_event_session() {
            handleSessionEvent(sessionState)
            return
        }
        let event: WatchEvent
        let kinds: [WatchKind]
        switch type {
        case czk_event_created(): (event, kinds) = (.created(path: path), [.exists])
        case czk_event_deleted(): (event, kinds) = (.deleted(path: path), [.data, .exists, .children])
        case czk_event_changed(): (event, kinds) = (.dataChanged(path: path), [.data, .exists])
        case czk_event_child(): (event, kinds) = (.childrenChanged(path: path), [.children])
        default: return  // not watching: the server dropped the watch; nothing is waiting on it
        }
        let boxes = state.withLock { state in
            kinds.flatMap { state.watches.removeValue(forKey: WatchKey(path: path, kind: $0)) ?? [] }
        }
        for box in boxes { box.fire(event) }
    }

    private func handleSessionEvent(_ code: Int32) {
        switch code {
        case czk_state_connected():
            let id = state.withLock { state -> Int64 in
                guard let handle = state.handle, let client = zoo_client_id(handle.pointer) else { return 0 }
                return client.pointee.client_id
            }
            logger.info("ZooKeeper session connected", metadata: ["zk.session": "0x\(String(id, radix: 16))"])
            publish(.connected(sessionID: id))
            let waiters = state.withLock { state in
                defer { state.connectWaiters = [:] }
                return Array(state.connectWaiters.values)
            }
            for waiter in waiters { waiter.resume() }
        case czk_state_connecting():
            logger.info("ZooKeeper connection lost; reconnecting within the session")
            publish(.connecting)
        case czk_state_expired_session():
            logger.warning("ZooKeeper session expired; opening a new session")
            publish(.expired)
            failAllWatches()
            // A new handle, from the lifecycle queue: this is the library's own thread.
            Self.lifecycleQueue.async { [self] in
                guard !state.withLock({ $0.closed }) else { return }
                do {
                    try openHandle()
                } catch {
                    logger.error("cannot open a new ZooKeeper session: \(error)")
                }
            }
        case czk_state_auth_failed():
            logger.error("ZooKeeper authentication failed; check the credentials")
            publish(.authFailed)
        default:
            break
        }
    }

    private func failAllWatches() {
        let boxes = state.withLock { state in
            defer { state.watches = [:] }
            return state.watches.values.flatMap { $0 }
        }
        for box in boxes { box.fire(.sessionLost) }
    }

    private func publish(_ session: SessionState) {
        let subscribers = state.withLock { state in
            state.session = session
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.yield(session) }
    }

    func subscribe() -> AsyncStream<SessionState> {
        let (stream, continuation) = AsyncStream.makeStream(of: SessionState.self, bufferingPolicy: .unbounded)
        let (id, current, closed) = state.withLock { state in
            state.nextSubscriber += 1
            if !state.closed { state.subscribers[state.nextSubscriber] = continuation }
            return (state.nextSubscriber, state.session, state.closed)
        }
        continuation.yield(current)
        if closed { continuation.finish() }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func waitUntilConnected(timeout: Duration) async throws {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withTaskCancellationHandler {
                    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                        let immediate: Result<Void, any Error>? = self.state.withLock { state in
                            if state.closed { return .failure(ZooKeeperError.closing) }
                            if case .connected = state.session { return .success(()) }
                            state.connectWaiters[id] = continuation
                            return nil
                        }
                        if let immediate { continuation.resume(with: immediate) }
                    }
                } onCancel: {
                    let waiter = self.state.withLock { $0.connectWaiters.removeValue(forKey: id) }
                    waiter?.resume(throwing: CancellationError())
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ZooKeeperClientError(
                    message: "no ZooKeeper session with '\(self.connectString)' within \(timeout); is the ensemble up? (zookeeper.connection.timeout.ms)")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: Requests

    /// Runs `submit` with the current handle, under the lock so the handle cannot be closed meanwhile
    /// (the zoo_a* calls only queue the request). A non-zero code means the completion will not run.
    func submit(_ path: String, _ body: (OpaquePointer) -> Int32) throws {
        let rc: Int32 = state.withLock { state in
            guard let handle = state.handle, !state.closed else { return ZooKeeperError.closing.code }
            return body(handle.pointer)
        }
        guard rc == ZOK.rawValue else { throw ZooKeeperError(code: rc, path: path) }
    }

    func registerWatch(_ key: WatchKey) -> WatchBox {
        let box = WatchBox()
        state.withLock { $0.watches[key, default: []].append(box) }
        return box
    }

    func unregisterWatch(_ key: WatchKey, _ box: WatchBox) {
        state.withLock { state in
            state.watches[key]?.removeAll { $0 === box }
            if state.watches[key]?.isEmpty == true { state.watches[key] = nil }
        }
    }

    func addAuth(scheme: String, credentials: String) async throws {
        state.withLock { $0.auths.append((scheme, credentials)) }
        try await Completion.run("auth") { data in
            try submit("auth") { zoo_add_auth($0, scheme, credentials, Int32(credentials.utf8.count), voidCompletion, data) }
        }
    }
}
