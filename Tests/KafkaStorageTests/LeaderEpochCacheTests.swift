import Testing

@testable import KafkaStorage

@Suite struct LeaderEpochCacheTests {
    typealias Entry = LeaderEpochCache.Entry

    @Test func assignKeepsEpochsAndOffsetsIncreasing() {
        var cache = LeaderEpochCache()
        do { let changed = cache.assign(epoch: 0, startOffset: 0); #expect(changed) }
        do { let changed = cache.assign(epoch: 0, startOffset: 5); #expect(!changed) }  // same epoch, later offset: no news
        do { let changed = cache.assign(epoch: 2, startOffset: 10); #expect(changed) }
        do { let changed = cache.assign(epoch: 3, startOffset: 20); #expect(changed) }
        #expect(cache.entries == [Entry(epoch: 0, startOffset: 0), Entry(epoch: 2, startOffset: 10), Entry(epoch: 3, startOffset: 20)])
        // A lower start offset for epoch 3 drops what no longer fits.
        do { let changed = cache.assign(epoch: 3, startOffset: 8); #expect(changed) }
        #expect(cache.entries == [Entry(epoch: 0, startOffset: 0), Entry(epoch: 3, startOffset: 8)])
        // An older epoch drops the newer ones.
        do { let changed = cache.assign(epoch: 1, startOffset: 30); #expect(changed) }
        #expect(cache.entries == [Entry(epoch: 0, startOffset: 0), Entry(epoch: 1, startOffset: 30)])
        do { let changed = cache.assign(epoch: -1, startOffset: 40); #expect(!changed) }
    }

    @Test func endOffsetForFollowsKip101() {
        let cache = LeaderEpochCache(entries: [Entry(epoch: 1, startOffset: 0), Entry(epoch: 3, startOffset: 100), Entry(epoch: 5, startOffset: 200)])
        #expect(cache.endOffset(for: 5, logEndOffset: 250) == (5, 250))  // latest: the log end
        #expect(cache.endOffset(for: 3, logEndOffset: 250) == (3, 200))
        #expect(cache.endOffset(for: 4, logEndOffset: 250) == (3, 200))  // floor epoch 3
        #expect(cache.endOffset(for: 0, logEndOffset: 250) == (0, 0))  // below all entries
        #expect(cache.endOffset(for: 6, logEndOffset: 250) == (-1, -1))  // above all
        #expect(cache.endOffset(for: -1, logEndOffset: 250) == (-1, -1))
        #expect(LeaderEpochCache().endOffset(for: 1, logEndOffset: 9) == (-1, -1))
    }

    @Test func truncation() {
        var cache = LeaderEpochCache(entries: [Entry(epoch: 1, startOffset: 0), Entry(epoch: 3, startOffset: 100), Entry(epoch: 5, startOffset: 200)])
        do { let changed = cache.truncateFromEnd(endOffset: 300); #expect(!changed) }
        do { let changed = cache.truncateFromEnd(endOffset: 200); #expect(changed) }
        #expect(cache.entries == [Entry(epoch: 1, startOffset: 0), Entry(epoch: 3, startOffset: 100)])
        do { let changed = cache.truncateFromStart(startOffset: 150); #expect(changed) }
        #expect(cache.entries == [Entry(epoch: 3, startOffset: 150)])
        do { let changed = cache.truncateFromStart(startOffset: 150); #expect(!changed) }
        do { let changed = cache.truncateFromStart(startOffset: 10); #expect(!changed) }
        do { let changed = cache.clear(); #expect(changed) }
        #expect(cache.entries.isEmpty)
    }
}
