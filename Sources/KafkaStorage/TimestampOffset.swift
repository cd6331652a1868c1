/// The answer to a ListOffsets-by-time lookup: the first offset whose record timestamp is at least
/// the target, and that record's timestamp.
public struct TimestampOffset: Sendable, Hashable {
    public let offset: Int64
    public let timestamp: Int64

    public init(offset: Int64, timestamp: Int64) {
        self.offset = offset
        self.timestamp = timestamp
    }
}
