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
    /// The batch was a retry of one an idempotent producer already appended: nothing was written,
    /// and the offsets are the original batch's (answer the produce with them and no error, as
    /// Kafka does). `logAppendTime` is then the original batch's max timestamp, as in Kafka.
    public let isDuplicate: Bool

    public init(firstOffset: Int64, lastOffset: Int64, logAppendTime: Int64, logStartOffset: Int64, isDuplicate: Bool = false) {
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.logAppendTime = logAppendTime
        self.logStartOffset = logStartOffset
        self.isDuplicate = isDuplicate
    }

    /// The log end offset right after this append; pass it to `PartitionLog.waitForDurable(upTo:)`.
    public var nextOffset: Int64 { lastOffset + 1 }
}
