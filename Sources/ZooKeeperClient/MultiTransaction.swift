import CZooKeeper
import Glibc

/// The C side of one `multi`: the op array the library serializes during `zoo_amulti`, and the
/// result slots, created-path buffers and stats it fills in before the completion runs, which must
/// therefore outlive the call. Touched by the submitting task, then only by the completion thread
/// (the library's queue orders the two), hence `@unchecked Sendable`.
final class MultiTransaction: @unchecked Sendable {
    private let operations: [MultiOperation]
    private let results: UnsafeMutablePointer<zoo_op_result_t>
    private let pathBuffers: UnsafeMutablePointer<CChar>
    private let stats: UnsafeMutablePointer<CZooKeeper.Stat>
    private static let pathBufferSize = 1024

    init(_ operations: [MultiOperation]) {
        self.operations = operations
        results = .allocate(capacity: operations.count)
        results.initialize(repeating: zoo_op_result_t(), count: operations.count)
        pathBuffers = .allocate(capacity: operations.count * Self.pathBufferSize)
        pathBuffers.initialize(repeating: 0, count: operations.count * Self.pathBufferSize)
        stats = .allocate(capacity: operations.count)
        stats.initialize(repeating: CZooKeeper.Stat(), count: operations.count)
    }

    deinit {
        results.deallocate()
        pathBuffers.deallocate()
        stats.deallocate()
    }

    /// Builds the op array for the duration of `body` (the zoo_amulti call).
    func withOps<T>(_ body: (UnsafePointer<zoo_op_t>, UnsafeMutablePointer<zoo_op_result_t>) throws -> T) rethrows -> T {
        let ops = UnsafeMutablePointer<zoo_op_t>.allocate(capacity: operations.count)
        var allocations: [UnsafeMutableRawPointer] = []
        var aclVectors: [UnsafeMutablePointer<ACL_vector>] = []
        defer {
            allocations.forEach { free($0) }
            for vector in aclVectors {
                for i in 0..<Int(vector.pointee.count) {
                    free(vector.pointee.data[i].id.scheme)
                    free(vector.pointee.data[i].id.id)
                }
                vector.pointee.data.deallocate()
                vector.deallocate()
            }
            ops.deallocate()
        }
        func copy(_ string: String) -> UnsafeMutablePointer<CChar> {
            let pointer = strdup(string)!
            allocations.append(pointer)
            return pointer
        }
        func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
            guard !bytes.isEmpty else { return nil }
            let pointer = malloc(bytes.count)!
            bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
            allocations.append(pointer)
            return pointer.assumingMemoryBound(to: CChar.self)
        }
        for (index, operation) in operations.enumerated() {
            let op = ops + index
            op.initialize(to: zoo_op_t())
            switch operation {
            case .create(let path, let data, let acl, let mode):
                let entries = UnsafeMutablePointer<CZooKeeper.ACL>.allocate(capacity: max(acl.count, 1))
                for (i, entry) in acl.enumerated() {
                    entries[i] = CZooKeeper.ACL(perms: entry.permissions.rawValue, id: Id(scheme: strdup(entry.scheme), id: strdup(entry.id)))
                }
                let vector = UnsafeMutablePointer<ACL_vector>.allocate(capacity: 1)
                vector.initialize(to: ACL_vector(count: Int32(acl.count), data: entries))
                aclVectors.append(vector)
                zoo_create_op_init(
                    op, copy(path), copy(data), Int32(data.count), vector, mode.flags,
                    pathBuffers + index * Self.pathBufferSize, Int32(Self.pathBufferSize))
            case .delete(let path, let version):
                zoo_delete_op_init(op, copy(path), version)
            case .setData(let path, let data, let version):
                zoo_set_op_init(op, copy(path), copy(data), Int32(data.count), version, stats + index)
            case .check(let path, let version):
                zoo_check_op_init(op, copy(path), version)
            }
        }
        return try body(ops, results)
    }

    /// Reads the per-operation results once the completion has run.
    func results(rc: Int32) throws -> [MultiResult] {
        guard rc == ZOK.rawValue else {
            // The failing operation carries the real error; the others report a rollback.
            for index in operations.indices where results[index].err != ZOK.rawValue
                && results[index].err != ZRUNTIMEINCONSISTENCY.rawValue
            {
                throw ZooKeeperError(code: results[index].err, path: operations[index].path)
            }
            throw ZooKeeperError(code: rc, path: operations.first?.path)
        }
        return operations.indices.map { index in
            switch operations[index] {
            case .create: .created(path: String(cString: pathBuffers + index * Self.pathBufferSize))
            case .delete: .deleted
            case .setData: .set(Stat(stats[index]))
            case .check: .checked
            }
        }
    }
}
