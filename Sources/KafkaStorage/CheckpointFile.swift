/// A Kafka text checkpoint file (Kafka's `CheckpointFile`): ASCII lines ending in '\n',
/// ```
/// <version>
/// <number of entries>
/// <entry>            one line per entry, fields separated by a space
/// ```
/// Writing is atomic: the text goes to `<file>.tmp`, which is fsynced, renamed over the file, and then
/// the directory is fsynced. A crash leaves the old file or the new one, never a mix (perhaps also a
/// stray `.tmp`, which is ignored and later overwritten).
///
/// Reading: a missing file means "no entries". A file that cannot be parsed (wrong version, a count
/// that does not match the lines, a malformed line, no final newline as after a torn write) throws
/// `.corruptCheckpoint` naming the file and line; callers log it and treat the file as absent.
struct CheckpointFile {
    let path: String
    let version: Int

    /// Files larger than this are not checkpoints; refuse rather than read them into memory.
    static let maximumSize = 64 << 20

    /// Replaces the file's content with `entries` (each one line without its '\n'). Blocks: two
    /// fsyncs.
    func write(_ entries: [String]) throws(StorageError) {
        var text = "\(version)\n\(entries.count)\n"
        for entry in entries {
            text += entry
            text += "\n"
        }
        let temporary = path + ".tmp"
        let file = try LogFile(path: temporary, create: true)
        try file.truncate(to: 0)
        try file.write(Array(text.utf8), at: 0)
        try file.sync()
        try renameFile(temporary, to: path)
        try syncDirectory(parentDirectory(of: path))
    }

    /// The entries, each split into its space-separated fields; nil if the file does not exist.
    /// Blocks.
    func read() throws(StorageError) -> [[Substring]]? {
        guard fileExists(path) else { return nil }
        let file = try LogFile(path: path, create: false)
        let size = try file.size()
        guard size <= Self.maximumSize else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) is \(size) bytes, too large to be a checkpoint")
        }
        let text = String(decoding: try file.read(count: size, at: 0), as: UTF8.self)
        guard text.hasSuffix("\n") else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) does not end with a newline (torn write?)")
        }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 2 else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) has no version and entry count lines")
        }
        guard let foundVersion = Int(lines[0]) else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) line 1: expected a version number, found \"\(lines[0].prefix(40))\"")
        }
        guard foundVersion == version else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) has version \(foundVersion), expected \(version)")
        }
        guard let count = Int(lines[1]), count >= 0 else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) line 2: expected an entry count, found \"\(lines[1].prefix(40))\"")
        }
        guard lines.count - 2 == count else {
            throw StorageError(.corruptCheckpoint, "checkpoint file \(path) announces \(count) entries but has \(lines.count - 2)")
        }
        return lines.dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true) }
    }

    /// The `.corruptCheckpoint` error for a malformed entry (1-based line numbers, as an editor shows).
    func malformed(entry index: Int, _ fields: [Substring], expected: String) -> StorageError {
        StorageError(
            .corruptCheckpoint,
            "checkpoint file \(path) line \(index + 3): expected \"\(expected)\", found \"\(fields.joined(separator: " ").prefix(80))\"")
    }
}
