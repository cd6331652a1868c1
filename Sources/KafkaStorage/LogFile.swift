#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import Synchronization

/// An open file of the log (segment data or index), shared by reference.
///
/// The descriptor stays open for as long as anyone holds the object, so a reader that was handed one
/// (a fetch about to `sendfile`) is safe even if the segment is deleted or the log closed meanwhile:
/// deleting only renames the file to `.deleted` and marks it; the descriptor is closed, and the file
/// unlinked, when the last reference goes away (`deinit`).
///
/// Thread-safe: the descriptor never changes; the path and the delete mark sit in a `Mutex`.
/// pread/pwrite/fsync on one descriptor may run concurrently. Every method blocks.
public final class LogFile: Sendable {
    /// The open descriptor (read-write). Valid until this object is released; do not close it.
    public let descriptor: Int32
    private let state: Mutex<State>

    private struct State {
        var path: String
        var unlinkOnRelease = false
    }

    /// Opens (optionally creating) a file for reading and writing. Blocks.
    init(path: String, create: Bool) throws(StorageError) {
        let flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0)
        descriptor = try retryingOnInterrupt("cannot open \(path)") { open(path, flags, 0o644) }
        state = Mutex(State(path: path))
    }

    deinit {
        let (path, unlinkNow) = state.withLock { ($0.path, $0.unlinkOnRelease) }
        if unlinkNow { unlinkIfStillOurs(path) }
        close(descriptor)
    }

    /// The file's current path (it changes when the file is renamed to `.deleted`). Blocks: no.
    public var path: String { state.withLock { $0.path } }

    /// A new descriptor for the same open file (`dup`), for a caller that must own and close one
    /// (e.g. to wrap it in a NIO file handle). The caller closes it. Blocks (briefly).
    public func duplicateDescriptor() throws(StorageError) -> Int32 {
        try retryingOnInterrupt("cannot duplicate the descriptor of \(path)") { dup(descriptor) }
    }

    /// The file's size in bytes. Blocks.
    func size() throws(StorageError) -> Int {
        var info = stat()
        _ = try retryingOnInterrupt("cannot stat \(path)") { fstat(descriptor, &info) }
        return Int(info.st_size)
    }

    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (fewer only at the
    /// end of the file). Blocks.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws(StorageError) -> Int {
        var done = 0
        while done < buffer.count {
            let count = try retryingOnInterrupt("cannot read \(path) at position \(offset + done)") {
                pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Reads up to `count` bytes at `offset` into a new array (shorter at the end of the file). Blocks.
    func read(count: Int, at offset: Int) throws(StorageError) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        let done = try restoringErrorType { try bytes.withUnsafeMutableBytes { raw in try read(into: raw, at: offset) } }
        if done < count { bytes.removeLast(count - done) }
        return bytes
    }

    /// Reads up to `count` bytes at `offset` into a ByteBuffer (shorter at the end of the file). Blocks.
    func readBuffer(count: Int, at offset: Int) throws(StorageError) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: max(count, 0))
        guard count > 0 else { return buffer }
        _ = try restoringErrorType {
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { raw in
                try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]), at: offset)
            }
        }
        return buffer
    }

    /// Writes all of `bytes` at `offset`. Blocks.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let count = try retryingOnInterrupt("cannot write \(bytes.count) bytes to \(path) at position \(offset)") {
                pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            }
            done += count
        }
    }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        try restoringErrorType { try bytes.withUnsafeBytes { raw in try write(raw, at: offset) } }
    }

    /// Cuts the file to `size` bytes. Blocks.
    func truncate(to size: Int) throws(StorageError) {
        _ = try retryingOnInterrupt("cannot truncate \(path) to \(size) bytes") { ftruncate(descriptor, off_t(size)) }
    }

    /// Forces the file's data to disk. Blocks, typically for milliseconds.
    func sync() throws(StorageError) {
        #if canImport(Darwin)
        _ = try retryingOnInterrupt("cannot fsync \(path)") { fsync(descriptor) }
        #else
        _ = try retryingOnInterrupt("cannot fsync \(path)") { fdatasync(descriptor) }
        #endif
    }

    /// Wall-clock time of the last modification, in milliseconds (0 if unknown).
    var lastModifiedMs: Int64 { fileModificationMs(descriptor: descriptor) ?? 0 }

    /// Renames the open file. Blocks.
    func rename(to newPath: String) throws(StorageError) {
        try state.withLock { state throws(StorageError) in
            try renameFile(state.path, to: newPath)
            state.path = newPath
        }
    }

    /// Renames the file to `<path>.deleted` and unlinks it when the last reference is released.
    /// Blocks.
    func markDeleted() throws(StorageError) {
        try state.withLock { state throws(StorageError) in
            guard !state.path.hasSuffix(LogFileSuffix.deleted) else { return }
            let newPath = state.path + LogFileSuffix.deleted
            do throws(StorageError) {
                try renameFile(state.path, to: newPath)
            } catch where error.errno == ENOENT {
                return  // already gone from the directory: nothing left to unlink
            }
            state.path = newPath
            state.unlinkOnRelease = true
        }
    }

    /// Unlinks `path` only if it still names this open file: a later file may have been renamed to
    /// the same `.deleted` name, and that one is not ours to remove.
    private func unlinkIfStillOurs(_ path: String) {
        var ours = stat()
        var named = stat()
        guard fstat(descriptor, &ours) == 0, stat(path, &named) == 0 else { return }
        if ours.st_dev == named.st_dev && ours.st_ino == named.st_ino {
            unlink(path)
        }
    }
}

/// File name suffixes, as Kafka's `LogFileUtils`.
enum LogFileSuffix {
    static let log = ".log"
    static let index = ".index"
    static let timeIndex = ".timeindex"
    static let deleted = ".deleted"
    static let cleaned = ".cleaned"
    static let swap = ".swap"
}
