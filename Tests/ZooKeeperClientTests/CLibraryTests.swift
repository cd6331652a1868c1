import CZooKeeper
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
