#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Thin wrappers over the few system calls the engine makes that are not tied to one open file.
// All of them block.

func systemErrorMessage(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// Retries a system call interrupted by a signal; returns its result, or throws with `errno`.
@inline(__always)
func retryingOnInterrupt<T: BinaryInteger>(_ what: @autoclosure () -> String, _ call: () -> T) throws(StorageError) -> T {
    while true {
        let result = call()
        if result >= 0 { return result }
        let error = errno
        if error == EINTR { continue }
        throw StorageError(.io, what(), errno: error)
    }
}

/// fsyncs a directory so that file creations, renames and deletions in it survive a crash.
func syncDirectory(_ path: String) throws(StorageError) {
    let descriptor = try retryingOnInterrupt("cannot open directory \(path) to fsync it") {
        open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }
    defer { close(descriptor) }
    _ = try retryingOnInterrupt("cannot fsync directory \(path)") { fsync(descriptor) }
}

/// Renames atomically (replacing `to` if it exists).
func renameFile(_ from: String, to: String) throws(StorageError) {
    _ = try retryingOnInterrupt("cannot rename \(from) to \(to)") { rename(from, to) }
}

/// Removes a file; a file that is already gone is not an error.
func removeFile(_ path: String) throws(StorageError) {
    if unlink(path) != 0 && errno != ENOENT {
        throw StorageError(.io, "cannot delete \(path)", errno: errno)
    }
}

func fileExists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0
}

func isDirectory(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
}

/// Creates a directory (and its missing parents); an existing directory is fine.
func makeDirectory(_ path: String) throws(StorageError) {
    if isDirectory(path) { return }
    let parent = parentDirectory(of: path)
    if parent != path && !parent.isEmpty && !isDirectory(parent) {
        try makeDirectory(parent)
    }
    if mkdir(path, 0o755) != 0 && errno != EEXIST {
        throw StorageError(.io, "cannot create directory \(path)", errno: errno)
    }
}

/// The names in a directory, without "." and "..".
func directoryEntries(_ path: String) throws(StorageError) -> [String] {
    guard let directory = opendir(path) else {
        throw StorageError(.io, "cannot list directory \(path)", errno: errno)
    }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// Deletes a directory tree (files first, then directories). Missing paths are fine. Symbolic
/// links are removed, never followed.
func removeTree(_ path: String) throws(StorageError) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if (info.st_mode & S_IFMT) == S_IFDIR {
        for name in try directoryEntries(path) {
            try removeTree(path + "/" + name)
        }
        if rmdir(path) != 0 && errno != ENOENT {
            throw StorageError(.io, "cannot delete directory \(path)", errno: errno)
        }
    } else {
        try removeFile(path)
    }
}

func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    if slash == path.startIndex { return "/" }
    return String(path[..<slash])
}

func lastPathComponent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

/// Wall-clock milliseconds of a file's last modification, or nil if it cannot be read.
func fileModificationMs(descriptor: Int32) -> Int64? {
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return nil }
    #if canImport(Darwin)
    let time = info.st_mtimespec
    #else
    let time = info.st_mtim
    #endif
    return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
}

/// Calls `body` through a `rethrows` API (which forgets typed throws) and gives the error its type
/// back. Only `StorageError`s are thrown inside, so the fallback is never taken.
func restoringErrorType<T>(_ body: () throws -> T) throws(StorageError) -> T {
    do {
        return try body()
    } catch let error as StorageError {
        throw error
    } catch {
        throw StorageError(.io, "unexpected error: \(error)")
    }
}
