/// What an append did: the offsets the batches got, and the values a Produce response returns.
public struct LogAppendInfo: Sendable, Hashable {
    /// The first offset appended (the Produce response's `base_offset`).
    public let firstOffset: Int64
    /// The last offset appended.
    public let lastOffset: Int64
    /// The broker time stamped on the batch for a `LogAppendTime` log; -1 otherwise.
    public let logAppendTime: Int64
    /// The log start offset after the append (Produce v5+ `log_start_offset`).
    public let logStartOffset: Int64

    public init(firstOffset: Int64, lastOffset: Int64, logAppendTime: Int64, logStartOffset: Int64) {
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.logAppendTime = logAppendTime
        self.logStartOffset = logStartOffset
    }

    /// The log end offset right after this append; pass it to `PartitionLog.waitForDurable(upTo:)`.
    public var nextOffset: Int64 { lastOffset + 1 }
}
