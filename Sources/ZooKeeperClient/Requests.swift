import CZooKeeper
import Glibc

// The requests, each queued with a zoo_a* call and answered through `Completion`.
extension ZooKeeperCore {
    func getData(_ path: String, watch: Bool) async throws -> (data: [UInt8], stat: Stat, watch: Watch?) {
        try await watched(path, kind: .data, watch: watch, keepOn: []) { data, flag in
            try submit(path) { zoo_aget($0, path, flag, dataCompletion, data) }
        } result: { rc, payload in
            try Completion.check(rc, path)
            guard case .data(let bytes, let stat?) = payload else { throw ZooKeeperError(code: ZMARSHALLINGERROR.rawValue, path: path) }
            return (bytes, stat)
        } combine: { ($0.0, $0.1, $1) }
    }

    func exists(_ path: String, watch: Bool) async throws -> (stat: Stat?, watch: Watch?) {
        // ZooKeeper sets an exists watch even when the znode is missing: that is how creation is watched.
        try await watched(path, kind: .exists, watch: watch, keepOn: [ZNONODE.rawValue]) { data, flag in
            try submit(path) { zoo_aexists($0, path, flag, statCompletion, data) }
        } result: { rc, payload -> Stat? in
            if rc == ZNONODE.rawValue { return nil }
            try Completion.check(rc, path)
            guard case .stat(let stat) = payload else { return nil }
            return stat
        } combine: { ($0, $1) }
    }

    func getChildren(_ path: String, watch: Bool) async throws -> (children: [String], stat: Stat, watch: Watch?) {
        try await watched(path, kind: .children, watch: watch, keepOn: []) { data, flag in
            try submit(path) { zoo_aget_children2($0, path, flag, childrenCompletion, data) }
        } result: { rc, payload in
            try Completion.check(rc, path)
            guard case .children(let names, let stat?) = payload else { throw ZooKeeperError(code: ZMARSHALLINGERROR.rawValue, path: path) }
            return (names, stat)
        } combine: { ($0.0, $0.1, $1) }
    }

    /// Registers the watch before the request is sent, so an event that races the answer is not
    /// missed; drops it again when the server did not set one (an error other than `keepOn`).
    private func watched<R: Sendable, T>(
        _ path: String, kind: WatchKind, watch: Bool, keepOn: Set<Int32>,
        submit: (UnsafeMutableRawPointer, Int32) throws -> Void,
        result: @escaping @Sendable (Int32, CompletionPayload) throws -> R,
        combine: (R, Watch?) -> T
    ) async throws -> T {
        let key = WatchKey(path: path, kind: kind)
        let box = watch ? registerWatch(key) : nil
        do {
            let value = try await Completion.run(path, submit: { try submit($0, watch ? 1 : 0) }) { rc, payload in
                if let box, rc != ZOK.rawValue, !keepOn.contains(rc) { self.unregisterWatch(key, box) }
                return try result(rc, payload)
            }
            return combine(value, box.map(Watch.init))
        } catch {
            if let box { unregisterWatch(key, box) }
            throw error
        }
    }

    func create(_ path: String, data: [UInt8], acl: [ACL], mode: CreateMode) async throws -> String {
        try await Completion.run(path) { completionData in
            try CACLVector.with(acl) { aclVector in
                try data.withUnsafeBufferPointer { bytes in
                    try submit(path) {
                        zoo_acreate(
                            $0, path, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                            Int32(bytes.count), aclVector, mode.flags, stringCompletion, completionData)
                    }
                }
            }
        } result: { rc, payload in
            try Completion.check(rc, path)
            guard case .string(let created?) = payload else { return path }
            return created
        }
    }

    func setData(_ path: String, data: [UInt8], version: Int32) async throws -> Stat {
        try await Completion.run(path) { completionData in
            try data.withUnsafeBufferPointer { bytes in
                try submit(path) {
                    zoo_aset(
                        $0, path, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                        Int32(bytes.count), version, statCompletion, completionData)
                }
            }
        } result: { rc, payload in
            try Completion.check(rc, path)
            guard case .stat(let stat?) = payload else { throw ZooKeeperError(code: ZMARSHALLINGERROR.rawValue, path: path) }
            return stat
        }
    }

    func delete(_ path: String, version: Int32) async throws {
        try await Completion.run(path) { completionData in
            try submit(path) { zoo_adelete($0, path, version, voidCompletion, completionData) }
        }
    }

    func multi(_ operations: [MultiOperation]) async throws -> [MultiResult] {
        if operations.isEmpty { return [] }
        let transaction = MultiTransaction(operations)
        return try await Completion.run("multi") { completionData in
            try transaction.withOps { ops, results in
                try submit(operations[0].path) {
                    zoo_amulti($0, Int32(operations.count), ops, results, voidCompletion, completionData)
                }
            }
        } result: { rc, _ in
            try transaction.results(rc: rc)
        }
    }
}

/// An ACL list laid out as the library's `struct ACL_vector`, alive for the duration of one call
/// (the library serializes requests inside the zoo_a* call).
enum CACLVector {
    static func with<T>(_ acl: [ACL], _ body: (UnsafeMutablePointer<ACL_vector>) throws -> T) rethrows -> T {
        let entries = UnsafeMutablePointer<CZooKeeper.ACL>.allocate(capacity: max(acl.count, 1))
        var strings: [UnsafeMutablePointer<CChar>] = []
        defer {
            strings.forEach { free($0) }
            entries.deallocate()
        }
        for (index, entry) in acl.enumerated() {
            let scheme = strdup(entry.scheme)!
            let id = strdup(entry.id)!
            strings += [scheme, id]
            entries[index] = CZooKeeper.ACL(perms: entry.permissions.rawValue, id: Id(scheme: scheme, id: id))
        }
        var vector = ACL_vector(count: Int32(acl.count), data: entries)
        return try body(&vector)
    }
}
