import CZooKeeper

/// A znode's metadata, as ZooKeeper returns it.
public struct Stat: Sendable, Hashable {
    /// The transaction that created the znode; Kafka uses it as the broker epoch.
    public var czxid: Int64
    public var mzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    /// Data version, the token for compare-and-set.
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    /// The owning session of an ephemeral znode, 0 for a persistent one.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numChildren: Int32
    public var pzxid: Int64

    init(_ s: CZooKeeper.Stat) {
        czxid = s.czxid
        mzxid = s.mzxid
        ctime = s.ctime
        mtime = s.mtime
        version = s.version
        cversion = s.cversion
        aversion = s.aversion
        ephemeralOwner = s.ephemeralOwner
        dataLength = s.dataLength
        numChildren = s.numChildren
        pzxid = s.pzxid
    }
}

public enum CreateMode: Sendable, Hashable {
    case persistent
    case ephemeral
    case persistentSequential
    case ephemeralSequential

    var flags: Int32 {
        switch self {
        case .persistent: ZOO_PERSISTENT
        case .ephemeral: ZOO_EPHEMERAL
        case .persistentSequential: ZOO_PERSISTENT_SEQUENTIAL
        case .ephemeralSequential: ZOO_EPHEMERAL_SEQUENTIAL
        }
    }
}

/// One access-control entry: permissions for an identity (`world:anyone`, `digest:user:hash`, ...).
public struct ACL: Sendable, Hashable {
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let read = Permissions(rawValue: 1)
        public static let write = Permissions(rawValue: 2)
        public static let create = Permissions(rawValue: 4)
        public static let delete = Permissions(rawValue: 8)
        public static let admin = Permissions(rawValue: 16)
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }

    public var permissions: Permissions
    public var scheme: String
    public var id: String

    public init(permissions: Permissions, scheme: String, id: String) {
        self.permissions = permissions
        self.scheme = scheme
        self.id = id
    }

    /// Anyone may do anything (`ZOO_OPEN_ACL_UNSAFE`).
    public static let openUnsafe: [ACL] = [ACL(permissions: .all, scheme: "world", id: "anyone")]
    /// The authenticated creator may do anything (`ZOO_CREATOR_ALL_ACL`).
    public static let creatorAll: [ACL] = [ACL(permissions: .all, scheme: "auth", id: "")]
    /// Anyone may read (`ZOO_READ_ACL_UNSAFE`).
    public static let readUnsafe: [ACL] = [ACL(permissions: .read, scheme: "world", id: "anyone")]
}

/// The session as its owner sees it.
public enum SessionState: Sendable, Hashable {
    /// Connected, with the session's id.
    case connected(sessionID: Int64)
    /// The connection dropped; the library is reconnecting within the same session, and pending
    /// requests and watches survive if it succeeds before the session timeout.
    case connecting
    /// The session is gone: its ephemeral znodes and watches with it. The client opens a new
    /// session by itself; owners re-create their ephemeral znodes once `.connected` follows.
    case expired
    /// The server refused the credentials.
    case authFailed
    /// `close()` was called.
    case closed

    public var isConnected: Bool {
        if case .connected = self { return true }
        return false
    }
}

/// What happened to a watched znode.
public enum WatchEvent: Sendable, Hashable {
    case created(path: String)
    case deleted(path: String)
    case dataChanged(path: String)
    case childrenChanged(path: String)
    /// The session that held the watch expired (or the client closed): the watch will never fire.
    case sessionLost
}

/// One operation of an atomic `multi` transaction.
public enum MultiOperation: Sendable, Hashable {
    case create(path: String, data: [UInt8], acl: [ACL], mode: CreateMode)
    case delete(path: String, version: Int32)
    case setData(path: String, data: [UInt8], version: Int32)
    /// Succeeds only if the znode's version is `version` (the fencing check of Kafka's controller).
    case check(path: String, version: Int32)

    var path: String {
        switch self {
        case .create(let path, _, _, _), .delete(let path, _), .setData(let path, _, _), .check(let path, _): path
        }
    }
}

/// The result of one operation of a successful `multi`.
public enum MultiResult: Sendable, Hashable {
    case created(path: String)
    case deleted
    case set(Stat)
    case checked
}

/// An error code from ZooKeeper (`ZOO_ERRORS`), with the library's text.
public struct ZooKeeperError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Errors are the same when their codes are: the path only explains.
    public static func == (lhs: ZooKeeperError, rhs: ZooKeeperError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    public let code: Int32
    /// The path the failed call was about, when there was one.
    public let path: String?

    public init(code: Int32, path: String? = nil) {
        self.code = code
        self.path = path
    }

    public static let connectionLoss = ZooKeeperError(code: ZCONNECTIONLOSS.rawValue)
    public static let operationTimeout = ZooKeeperError(code: ZOPERATIONTIMEOUT.rawValue)
    public static let noNode = ZooKeeperError(code: ZNONODE.rawValue)
    public static let nodeExists = ZooKeeperError(code: ZNODEEXISTS.rawValue)
    public static let badVersion = ZooKeeperError(code: ZBADVERSION.rawValue)
    public static let notEmpty = ZooKeeperError(code: ZNOTEMPTY.rawValue)
    public static let noAuth = ZooKeeperError(code: ZNOAUTH.rawValue)
    public static let sessionExpired = ZooKeeperError(code: ZSESSIONEXPIRED.rawValue)
    public static let invalidState = ZooKeeperError(code: ZINVALIDSTATE.rawValue)
    public static let closing = ZooKeeperError(code: ZCLOSING.rawValue)
    public static let badArguments = ZooKeeperError(code: ZBADARGUMENTS.rawValue)

    /// Same error code, whatever the path.
    public static func ~= (pattern: ZooKeeperError, value: any Error) -> Bool {
        (value as? ZooKeeperError)?.code == pattern.code
    }

    public var description: String {
        let text = String(cString: zerror(code))
        return path.map { "\(text) (\(code)) at \($0)" } ?? "\(text) (\(code))"
    }
}
