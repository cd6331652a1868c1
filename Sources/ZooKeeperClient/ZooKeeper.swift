import CZooKeeper
import Dispatch
import Logging
import Synchronization

/// An async client for a ZooKeeper ensemble, over ZooKeeper's multi-threaded C library.
///
/// One `ZooKeeper` keeps one session at a time. Connection loss inside a session is handled by the
/// library (pending requests fail with `connectionLoss`; watches survive). When the session expires
/// the client reports `.expired`, fails the session's watches with `.sessionLost`, and opens a new
/// session by itself: owners of ephemeral znodes watch `sessionStates` and re-create them on the
/// `.connected` that follows. Every call is non-blocking: requests are queued to the library and
/// their completions, which the library runs on its own thread, resume the waiting task.
public final class ZooKeeper: Sendable {
    let core: ZooKeeperCore

    /// Connects to `connectString` (`host:port,host:port/chroot`) and waits, at most
    /// `connectionTimeout` (default: the session timeout), until the session is established.
    public static func connect(
        _ connectString: String,
        sessionTimeout: Duration = .milliseconds(18_000),
        connectionTimeout: Duration? = nil,
        logger: Logger = Logger(label: "zookeeper")
    ) async throws -> ZooKeeper {
        let client = ZooKeeper(
            core: ZooKeeperCore(connectString: connectString, sessionTimeout: sessionTimeout, logger: logger))
        do {
            try client.core.start()
            try await client.core.waitUntilConnected(timeout: connectionTimeout ?? sessionTimeout)
        } catch {
            await client.close()
            throw error
        }
        return client
    }

    private init(core: ZooKeeperCore) {
        self.core = core
    }

    /// Session state changes from now on, starting with the current state.
    public var sessionStates: AsyncStream<SessionState> { core.subscribe() }

    /// The current session state.
    public var sessionState: SessionState { core.currentState }

    /// The id of the current session, if connected.
    public var sessionID: Int64? {
        if case .connected(let id) = core.currentState { return id }
        return nil
    }

    /// Waits until the session is connected (after a connection loss or an expiry).
    public func waitUntilConnected(timeout: Duration) async throws {
        try await core.waitUntilConnected(timeout: timeout)
    }

    /// Adds credentials (for example `digest`, `user:password`) to this session and to every later
    /// session the client opens.
    public func addAuth(scheme: String, credentials: String) async throws {
        try await core.addAuth(scheme: scheme, credentials: credentials)
    }

    /// Ends the session (its ephemeral znodes go at once) and releases the library's threads.
    public func close() async {
        await core.close()
    }

    // MARK: Reads

    /// The znode's data and stat. With `watch`, the returned `Watch` fires on the next change or deletion.
    public func getData(_ path: String, watch: Bool = false) async throws -> (data: [UInt8], stat: Stat, watch: Watch?) {
        try await core.getData(path, watch: watch)
    }

    /// The znode's stat, or nil if it does not exist. With `watch`, the `Watch` fires on its creation,
    /// change or deletion.
    public func exists(_ path: String, watch: Bool = false) async throws -> (stat: Stat?, watch: Watch?) {
        try await core.exists(path, watch: watch)
    }

    /// The names of the znode's children, sorted. With `watch`, the `Watch` fires when a child is added
    /// or removed, or the znode is deleted.
    public func getChildren(_ path: String, watch: Bool = false) async throws -> (children: [String], stat: Stat, watch: Watch?) {
        try await core.getChildren(path, watch: watch)
    }

    // MARK: Writes

    /// Creates a znode; returns its actual path (with the suffix, for sequential modes).
    @discardableResult
    public func create(
        _ path: String, data: [UInt8] = [], acl: [ACL] = ACL.openUnsafe, mode: CreateMode = .persistent
    ) async throws -> String {
        try await core.create(path, data: data, acl: acl, mode: mode)
    }

    /// Sets the data if the version matches (`-1`: any version). Throws `badVersion` otherwise.
    @discardableResult
    public func setData(_ path: String, data: [UInt8], version: Int32 = -1) async throws -> Stat {
        try await core.setData(path, data: data, version: version)
    }

    /// Deletes the znode if the version matches (`-1`: any version).
    public func delete(_ path: String, version: Int32 = -1) async throws {
        try await core.delete(path, version: version)
    }

    /// Runs the operations as one atomic transaction: all succeed or none does. On failure the
    /// error names the first operation that failed.
    @discardableResult
    public func multi(_ operations: [MultiOperation]) async throws -> [MultiResult] {
        try await core.multi(operations)
    }
}

/// A one-shot watch: `event()` returns when the znode changes as the watch asked, or with
/// `.sessionLost` when the session that set it expires.
public struct Watch: Sendable {
    let box: WatchBox

    public func event() async -> WatchEvent {
        await box.wait()
    }
}

/// Errors of the client itself rather than of the server.
public struct ZooKeeperClientError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

extension ZooKeeper {
    /// The current session's id and password, as a second handle needs them to take the session
    /// over (which is how tests expire a session on demand).
    public var sessionCredentials: (id: Int64, password: [UInt8])? {
        core.sessionCredentials
    }
}
