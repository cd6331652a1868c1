/// Which leader epoch started at which offset (KIP-101, Kafka's `LeaderEpochFileCache`), the data a
/// follower needs to find where its log diverged from the leader's. Entries are kept with both epoch
/// and start offset strictly increasing.
///
/// A value type: `PartitionLog` keeps one under its lock and persists it to
/// `leader-epoch-checkpoint` (`LeaderEpochCheckpointFile`) whenever a mutating method returns true.
/// Nothing here touches files or blocks.
public struct LeaderEpochCache: Sendable, Hashable {
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        public var epoch: Int32
        public var startOffset: Int64

        public init(epoch: Int32, startOffset: Int64) {
            self.epoch = epoch
            self.startOffset = startOffset
        }

        public var description: String { "EpochEntry(epoch=\(epoch), startOffset=\(startOffset))" }
    }

    /// Kafka's `UNDEFINED_EPOCH` and `UNDEFINED_EPOCH_OFFSET`.
    public static let undefinedEpoch: Int32 = -1
    public static let undefinedEpochOffset: Int64 = -1

    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    public var latestEntry: Entry? { entries.last }
    public var latestEpoch: Int32? { entries.last?.epoch }
    public var earliestEntry: Entry? { entries.first }

    /// Records that `epoch` starts at `startOffset`, when that is news: a new epoch, or the latest
    /// epoch at a lower offset. Entries that would break monotonicity (epoch >= `epoch` or start
    /// offset >= `startOffset`) are dropped first. Negative values are ignored. Returns whether the
    /// cache changed. Blocks: no.
    @discardableResult
    public mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        guard epoch >= 0, startOffset >= 0 else { return false }
        if let latest = entries.last, latest.epoch == epoch, latest.startOffset <= startOffset {
            return false
        }
        while let last = entries.last, last.epoch >= epoch || last.startOffset >= startOffset {
            entries.removeLast()
        }
        entries.append(Entry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// After the log is truncated to `endOffset`: drops entries starting at or after it. Returns
    /// whether the cache changed. Blocks: no.
    @discardableResult
    public mutating func truncateFromEnd(endOffset: Int64) -> Bool {
        guard endOffset >= 0, let latest = entries.last, latest.startOffset >= endOffset else { return false }
        entries.removeAll { $0.startOffset >= endOffset }
        return true
    }

    /// After the log start moves to `startOffset`: drops entries at or below it, keeping the last of
    /// them as starting at `startOffset` (its epoch still covers the new first offset). Returns
    /// whether the cache changed. Blocks: no.
    @discardableResult
    public mutating func truncateFromStart(startOffset: Int64) -> Bool {
        guard startOffset >= 0 else { return false }
        let covered = entries.prefix { $0.startOffset <= startOffset }
        guard let lastCovered = covered.last, lastCovered.startOffset != startOffset || covered.count > 1 else { return false }
        entries.removeFirst(covered.count)
        entries.insert(Entry(epoch: lastCovered.epoch, startOffset: startOffset), at: 0)
        return true
    }

    /// The answer to OffsetsForLeaderEpoch (Kafka's `endOffsetFor`): for the latest epoch, the log
    /// end offset; for an older one, the largest cached epoch <= it and the start offset of the next
    /// cached epoch; for an epoch below every entry, that epoch and the first entry's start; and
    /// (-1, -1) for an undefined epoch, an empty cache, or an epoch above every entry. Blocks: no.
    public func endOffset(for requestedEpoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        guard requestedEpoch != Self.undefinedEpoch, let latest = entries.last else {
            return (Self.undefinedEpoch, Self.undefinedEpochOffset)
        }
        if latest.epoch == requestedEpoch {
            return (requestedEpoch, logEndOffset)
        }
        guard let higher = entries.first(where: { $0.epoch > requestedEpoch }) else {
            return (Self.undefinedEpoch, Self.undefinedEpochOffset)
        }
        guard let floor = entries.last(where: { $0.epoch <= requestedEpoch }) else {
            return (requestedEpoch, higher.startOffset)
        }
        return (floor.epoch, higher.startOffset)
    }

    /// Removes every entry. Returns whether the cache changed. Blocks: no.
    @discardableResult
    public mutating func clear() -> Bool {
        guard !entries.isEmpty else { return false }
        entries.removeAll()
        return true
    }
}
