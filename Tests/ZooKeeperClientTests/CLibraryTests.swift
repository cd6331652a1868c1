import CZooKeeper
@testable import ZooKeeperClient
import Testing

/// The ZooKeeper C client links and its constants are reachable through the shim.
@Suite struct CZooKeeperLinkTests {
    @Test func libraryLinksAndAnswers() {
        #expect(String(cString: zerror(Int32(ZNONODE.rawValue))) == "no node")
        #expect(czk_open_acl_unsafe().pointee.count == 1)
        #expect(czk_state_connected() == 3)
        #expect(czk_state_expired_session() == -112)
    }
}

/// The C library repeats its reconnection lines every 100 ms while a server is unreachable.
@Suite struct ZooKeeperLogTests {
    @Test func repeatedLinesAreWrittenOncePerQuietPeriodWithACount() {
        let line = "2026-11-23 18:38:01,363:1(0x1):ZOO_WARN@logtest_interest@2561: Delaying connection"
        let other = "2026-11-23 18:38:01,363:1(0x1):ZOO_WARN@logtest_interest@2600: Something else"
        let start = ContinuousClock.now
        #expect(ZooKeeperLog.admit(line, now: start) == 0)
        #expect(ZooKeeperLog.admit(line, now: start + .milliseconds(100)) == nil)
        #expect(ZooKeeperLog.admit(line, now: start + .milliseconds(200)) == nil)
        #expect(ZooKeeperLog.admit(other, now: start + .milliseconds(200)) == 0)
        #expect(ZooKeeperLog.admit(line, now: start + ZooKeeperLog.quietPeriod + .milliseconds(1)) == 2)
        #expect(ZooKeeperLog.admit("no level marker", now: start) == 0)
    }
}
