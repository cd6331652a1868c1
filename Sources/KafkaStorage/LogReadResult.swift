import NIOCore

/// A range of a segment file to send to a consumer or follower, plus the partition's offsets at the
/// time of the read.
///
/// `file` keeps the segment's descriptor open for as long as the result is held, even if the segment
/// is deleted or truncated meanwhile, so the network layer can `sendfile(socket, file.descriptor,
/// position, length)` without copying. The range starts at a batch boundary; it may end inside a
/// batch, as Kafka's reads may (clients drop a trailing partial batch). If the log was truncated
/// concurrently the file may now be shorter than `position + length`.
public struct LogReadResult: Sendable {
    /// The segment's `.log` file; nil when there is nothing to read.
    public let file: LogFile?
    /// Byte position of the first batch in `file`.
    public let position: Int
    /// Number of bytes to send (0 when there is nothing to read).
    public let length: Int
    /// Base offset of the first batch in the range (it may be below the offset asked for, which the
    /// batch contains); nil when empty.
    public let firstBatchOffset: Int64?
    public let highWatermark: Int64
    public let logStartOffset: Int64
    public let logEndOffset: Int64

    public init(
        file: LogFile?, position: Int, length: Int, firstBatchOffset: Int64?, highWatermark: Int64,
        logStartOffset: Int64, logEndOffset: Int64
    ) {
        self.file = file
        self.position = position
        self.length = length
        self.firstBatchOffset = firstBatchOffset
        self.highWatermark = highWatermark
        self.logStartOffset = logStartOffset
        self.logEndOffset = logEndOffset
    }

    public var isEmpty: Bool { length == 0 }

    /// Copies the range into memory (for tools, tests and followers that want bytes). Blocks (pread).
    public func readBytes() throws(StorageError) -> ByteBuffer {
        guard let file, length > 0 else { return ByteBuffer() }
        return try file.readBuffer(count: length, at: position)
    }
}
