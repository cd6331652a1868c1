import Foundation
import Testing

@testable import KafkaStorage

@Suite struct GroupCommitTests {
    @Test func concurrentSyncedAppendsShareFsyncs() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.syncOnAppend = true
        let log = try openLog(directory, config: config)
        log.syncDelayMicrosecondsForTesting = 2000  // a real disk's fsync; on some VMs it is nearly free
        let threads = 8
        let appendsPerThread = 40
        let notDurable = LockedCounter()
        let failures = LockedCounter()
        // Real threads: concurrentPerform would run only as many at once as there are cores.
        runOnThreads(threads) {
            for _ in 0..<appendsPerThread {
                do {
                    let info = try log.appendAsLeader(makeBatch(count: 2), leaderEpoch: 0)
                    // Acknowledged only once fsynced.
                    if log.recoveryPoint < info.nextOffset { notDurable.increment() }
                } catch {
                    failures.increment()
                }
            }
        }
        let appends = threads * appendsPerThread
        #expect(failures.value == 0)
        #expect(notDurable.value == 0)
        #expect(log.logEndOffset == Int64(2 * appends))
        #expect(log.recoveryPoint == log.logEndOffset)
        // One fsync covered many appends.
        #expect(log.syncRounds < appends / 2)
        #expect(log.syncRounds > 0)
    }

    @Test func waitForDurableReturnsAtOnceWhenAlreadyCovered() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let log = try openLog(directory)
        var last = LogAppendInfo(firstOffset: 0, lastOffset: 0, logAppendTime: -1, logStartOffset: 0)
        for _ in 0..<5 { last = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        #expect(log.recoveryPoint == 0)  // the default leaves flushing to the page cache
        try log.waitForDurable(upTo: 3)
        #expect(log.syncRounds == 1)
        #expect(log.recoveryPoint == 5)  // the fsync covered everything appended so far
        try log.waitForDurable(upTo: last.nextOffset)
        try log.waitForDurable(upTo: 2)
        #expect(log.syncRounds == 1)
        #expect(throws: StorageError.self) { try log.waitForDurable(upTo: 99) }
    }

    @Test func flushMessagesAndFlushMsTriggerFlushes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.flushMessages = 3
        config.flushMs = 1000
        let clock = ManualClock()
        let log = try openLog(directory, config: config, clock: clock)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        #expect(log.recoveryPoint == 0)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        #expect(log.recoveryPoint == 3)
        _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0)
        #expect(try !log.flushIfDue(now: clock.milliseconds + 999))
        #expect(try log.flushIfDue(now: clock.milliseconds + 1000))
        #expect(log.recoveryPoint == 4)
    }

    @Test func rolledSegmentsAreFlushedByThePeriodicFlush() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var config = LogConfig()
        config.segmentBytes = 200
        let log = try openLog(directory, config: config)
        for _ in 0..<5 { _ = try log.appendAsLeader(makeBatch(), leaderEpoch: 0) }
        #expect(log.recoveryPoint == 0)
        #expect(try log.flushIfDue())
        #expect(log.recoveryPoint >= log.segmentBaseOffsets.last!)
        #expect(try !log.flushIfDue())
    }
}

/// Runs `body` on `count` new threads at once and waits for all of them.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
    let group = DispatchGroup()
    for _ in 0..<count {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.start()
    }
    group.wait()
}
