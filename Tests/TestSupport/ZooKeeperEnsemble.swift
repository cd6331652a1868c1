import Foundation
import Glibc

/// Real ZooKeeper servers (Debian's `zookeeper` package) started by a test on free loopback ports,
/// each with its own data directory under a temporary folder; tickTime 500, admin server off.
/// `stop()` kills everything it started; the data directory goes with it.
public final class ZooKeeperEnsemble: @unchecked Sendable {
    public struct Server {
        public var id: Int
        public var clientPort: Int
        var quorumPort: Int
        var electionPort: Int
        var process: Process?
    }

    public let root: URL
    public private(set) var servers: [Server]
    private let lock = NSLock()

    /// Starts `size` servers (1: standalone) and waits until each answers `srvr` as serving.
    public init(size: Int = 1) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zk-\(UUID().uuidString.prefix(8))")
        servers = try (1...size).map { Server(id: $0, clientPort: try freePort(), quorumPort: try freePort(), electionPort: try freePort()) }
        for server in servers {
            let dir = root.appendingPathComponent("server\(server.id)")
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
            var config = """
                tickTime=500
                initLimit=10
                syncLimit=5
                dataDir=\(dir.appendingPathComponent("data").path)
                clientPort=\(server.clientPort)
                clientPortAddress=127.0.0.1
                admin.enableServer=false
                4lw.commands.whitelist=*
                maxSessionTimeout=60000

                """
            if size > 1 {
                for s in servers { config += "server.\(s.id)=127.0.0.1:\(s.quorumPort):\(s.electionPort)\n" }
                try "\(server.id)\n".write(to: dir.appendingPathComponent("data/myid"), atomically: true, encoding: .utf8)
            }
            try config.write(to: dir.appendingPathComponent("zoo.cfg"), atomically: true, encoding: .utf8)
        }
        for index in servers.indices { try start(index) }
        try waitUntilServing(servers.indices.map { $0 })
    }

    deinit { stop() }

    /// `host:port,...` for every server, optionally with a chroot.
    public func connectString(chroot: String = "") -> String {
        servers.map { "127.0.0.1:\($0.clientPort)" }.joined(separator: ",") + chroot
    }

    public func start(_ index: Int) throws {
        let dir = root.appendingPathComponent("server\(servers[index].id)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/java")
        process.arguments = [
            "-Xmx256m", "-Dzookeeper.admin.enableServer=false", "-Dzookeeper.4lw.commands.whitelist=*",
            "-cp", "/usr/share/java/zookeeper.jar:/etc/zookeeper/conf",
            "org.apache.zookeeper.server.quorum.QuorumPeerMain", dir.appendingPathComponent("zoo.cfg").path,
        ]
        let log = dir.appendingPathComponent("server.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = process.standardOutput
        try process.run()
        lock.withLock { servers[index].process = process }
    }

    public func kill(_ index: Int) {
        guard let process = lock.withLock({ servers[index].process }) else { return }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        lock.withLock { servers[index].process = nil }
    }

    /// SIGSTOP / SIGCONT: the server stops answering without closing its sockets.
    public func pause(_ index: Int) { signal(index, SIGSTOP) }
    public func resume(_ index: Int) { signal(index, SIGCONT) }

    private func signal(_ index: Int, _ signal: Int32) {
        if let pid = lock.withLock({ servers[index].process?.processIdentifier }) { Glibc.kill(pid, signal) }
    }

    public func stop() {
        for index in servers.indices {
            resume(index)
            kill(index)
        }
        try? FileManager.default.removeItem(at: root)
    }

    /// Waits until each listed server reports a serving mode (standalone, leader or follower).
    public func waitUntilServing(_ indices: [Int], timeout: Double = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        for index in indices {
            while true {
                if let answer = fourLetterWord("srvr", port: servers[index].clientPort),
                    answer.contains("Mode: standalone") || answer.contains("Mode: leader") || answer.contains("Mode: follower")
                {
                    break
                }
                guard Date() < deadline else {
                    throw TestFailure("ZooKeeper server \(index + 1) did not start serving within \(timeout) s; see \(root.path)")
                }
                usleep(100_000)
            }
        }
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Asks a free port of the kernel on 127.0.0.1.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
            guard Glibc.bind(fd, pointer, length) == 0 else { return -1 }
            return getsockname(fd, pointer, &length)
        }
    }
    guard bound == 0 else { throw TestFailure("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Sends a four-letter command and returns the answer, or nil if the server does not answer.
public func fourLetterWord(_ word: String, port: Int) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    _ = word.withCString { send(fd, $0, strlen($0), 0) }
    var answer = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { break }
        answer += buffer[..<n]
    }
    return answer.isEmpty ? nil : String(decoding: answer, as: UTF8.self)
}
