import CZooKeeper
import Foundation
import Logging
import TestSupport
import Testing

@testable import ZooKeeperClient

@Suite(.serialized) struct ZooKeeperClientTests {
    @Test func crudAndCompareAndSet() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), sessionTimeout: .seconds(6), logger: testLogger)
        defer { Task { await zk.close() } }

        #expect(try await zk.create("/a", data: Array("one".utf8)) == "/a")
        let (data, stat, _) = try await zk.getData("/a")
        #expect(data == Array("one".utf8))
        #expect(stat.version == 0)
        let updated = try await zk.setData("/a", data: Array("two".utf8), version: 0)
        #expect(updated.version == 1)
        await #expect(throws: ZooKeeperError.badVersion) { try await zk.setData("/a", data: [], version: 0) }
        await #expect(throws: ZooKeeperError.nodeExists) { try await zk.create("/a") }
        await #expect(throws: ZooKeeperError.noNode) { try await zk.getData("/missing") }
        #expect(try await zk.exists("/missing").stat == nil)

        try await zk.create("/a/c2")
        try await zk.create("/a/c1")
        let sequential = try await zk.create("/a/seq-", mode: .persistentSequential)
        #expect(sequential.hasPrefix("/a/seq-") && sequential.count == "/a/seq-".count + 10)
        #expect(try await zk.getChildren("/a").children == ["c1", "c2", String(sequential.dropFirst(3))])
        await #expect(throws: ZooKeeperError.notEmpty) { try await zk.delete("/a") }
        await #expect(throws: ZooKeeperError.badVersion) { try await zk.delete("/a/c1", version: 5) }
        try await zk.delete("/a/c1", version: 0)
        #expect(try await zk.exists("/a/c1").stat == nil)

        let ephemeral = try await zk.create("/e", mode: .ephemeral)
        #expect(try await zk.exists(ephemeral).stat?.ephemeralOwner == zk.sessionID)
        await zk.close()
    }

    @Test func multiIsAtomic() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        try await zk.create("/epoch", data: Array("1".utf8))

        // A failing check rolls back the whole transaction and names the failing path.
        do {
            try await zk.multi([
                .create(path: "/x", data: [1], acl: ACL.openUnsafe, mode: .persistent),
                .check(path: "/epoch", version: 7),
            ])
            Issue.record("multi with a failing check succeeded")
        } catch let error as ZooKeeperError {
            #expect(error.code == ZooKeeperError.badVersion.code)
            #expect(error.path == "/epoch")
        }
        #expect(try await zk.exists("/x").stat == nil)

        let results = try await zk.multi([
            .create(path: "/x", data: [1], acl: ACL.openUnsafe, mode: .persistent),
            .setData(path: "/epoch", data: Array("2".utf8), version: 0),
            .check(path: "/epoch", version: 1),
            .delete(path: "/x", version: 0),
        ])
        #expect(results.count == 4)
        #expect(results[0] == .created(path: "/x"))
        if case .set(let stat) = results[1] { #expect(stat.version == 1) } else { Issue.record("expected a stat") }
        #expect(try await zk.getData("/epoch").data == Array("2".utf8))
        await zk.close()
    }

    @Test func watchesFire() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        let other = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)

        let created = try #require(try await zk.exists("/w", watch: true).watch)
        try await other.create("/w", data: [1])
        #expect(await created.event() == .created(path: "/w"))

        let changed = try #require(try await zk.getData("/w", watch: true).watch)
        let children = try #require(try await zk.getChildren("/w", watch: true).watch)
        try await other.setData("/w", data: [2])
        #expect(await changed.event() == .dataChanged(path: "/w"))
        try await other.create("/w/child")
        #expect(await children.event() == .childrenChanged(path: "/w"))

        let deleted = try #require(try await zk.getData("/w/child", watch: true).watch)
        try await other.delete("/w/child")
        #expect(await deleted.event() == .deleted(path: "/w/child"))
        await other.close()
        await zk.close()
    }

    @Test func sessionExpiryOpensANewSessionInTheSameProcess() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), sessionTimeout: .seconds(4), logger: testLogger)
        let firstSession = try #require(zk.sessionID)
        try await zk.create("/owner", mode: .ephemeral)
        let watch = try #require(try await zk.getData("/owner", watch: true).watch)

        try await expireSession(of: zk, connectString: ensemble.connectString())
        _ = try await waitFor(zk) { $0 == .expired }
        // The watch ends either way: the znode's deletion may reach it before the expiry does.
        let event = await watch.event()
        #expect(event == .sessionLost || event == .deleted(path: "/owner"), "\(event)")
        let state = try await waitFor(zk) { if case .connected = $0 { true } else { false } }
        guard case .connected(let secondSession) = state else { return }
        #expect(secondSession != firstSession)
        // The old session's ephemeral znode is gone; the owner can create it again.
        #expect(try await zk.exists("/owner").stat == nil)
        try await zk.create("/owner", mode: .ephemeral)
        #expect(try await zk.exists("/owner").stat?.ephemeralOwner == secondSession)
        await zk.close()
    }

    @Test func connectionLossInsideTheSessionIsTransparent() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), sessionTimeout: .seconds(8), logger: testLogger)
        let session = try #require(zk.sessionID)
        try await zk.create("/kept", mode: .ephemeral)

        ensemble.pause(0)
        _ = try await waitFor(zk) { $0 == .connecting }
        ensemble.resume(0)
        let state = try await waitFor(zk) { if case .connected = $0 { true } else { false } }
        #expect(state == .connected(sessionID: session))
        #expect(try await zk.exists("/kept").stat?.ephemeralOwner == session)
        await zk.close()
    }

    @Test func ensembleSurvivesAServerLossAndRecoversAQuorum() async throws {
        let ensemble = try ZooKeeperEnsemble(size: 3)
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), sessionTimeout: .seconds(10), logger: testLogger)
        let session = try #require(zk.sessionID)
        try await zk.create("/q", data: [0])

        // One server of three killed: the client carries on, reconnecting elsewhere if it was there.
        ensemble.kill(0)
        try await zk.waitUntilConnected(timeout: .seconds(15))
        _ = try await retrying { try await zk.setData("/q", data: [1]) }

        // Quorum lost: no server serves, the client keeps trying.
        ensemble.kill(1)
        _ = try await waitFor(zk) { $0 == .connecting }
        // Quorum restored within the session timeout: same session, same data.
        try ensemble.start(1)
        try ensemble.waitUntilServing([1, 2])
        try await zk.waitUntilConnected(timeout: .seconds(20))
        let data = try await retrying { try await zk.getData("/q").data }
        #expect(data == [1])
        #expect(zk.sessionID == session)
        await zk.close()
    }

    @Test func digestAuthenticationAndACLs() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let owner = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        try await owner.addAuth(scheme: "digest", credentials: "odradek:secret")
        try await owner.create("/secured", data: [7], acl: ACL.creatorAll + ACL.readUnsafe)

        let stranger = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        #expect(try await stranger.getData("/secured").data == [7])
        await #expect(throws: ZooKeeperError.noAuth) { try await stranger.setData("/secured", data: [8]) }
        try await owner.setData("/secured", data: [9])
        await stranger.close()
        await owner.close()
    }

    @Test func chrootAndConnectionTimeout() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let root = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)
        try await root.create("/kafka")
        let chrooted = try await ZooKeeper.connect(ensemble.connectString(chroot: "/kafka"), logger: testLogger)
        try await chrooted.create("/brokers")
        #expect(try await root.exists("/kafka/brokers").stat != nil)
        await chrooted.close()
        await root.close()

        let port = try freePort()  // nothing listens there
        await #expect(throws: ZooKeeperClientError.self) {
            _ = try await ZooKeeper.connect("127.0.0.1:\(port)", connectionTimeout: .seconds(1), logger: testLogger)
        }
    }
}


@Suite(.serialized) struct WatchStreamTests {
    @Test func dataAndChildrenUpdatesFollowChangesAndExpiry() async throws {
        let ensemble = try ZooKeeperEnsemble()
        defer { ensemble.stop() }
        let zk = try await ZooKeeper.connect(ensemble.connectString(), sessionTimeout: .seconds(4), logger: testLogger)
        let writer = try await ZooKeeper.connect(ensemble.connectString(), logger: testLogger)

        var data = zk.dataUpdates("/s").makeAsyncIterator()
        var children = zk.childrenUpdates("/s").makeAsyncIterator()
        #expect(try #require(await data.next()) == nil)
        #expect(try #require(await children.next()) == nil)

        try await writer.create("/s", data: [1])
        #expect(try #require(await data.next())?.data == [1])
        #expect(try #require(await children.next()) == [])
        try await writer.create("/s/a")
        #expect(try #require(await children.next()) == ["a"])

        // Across a session expiry the streams carry on with the new session.
        try await expireSession(of: zk, connectString: ensemble.connectString())
        _ = try await waitFor(zk) { if case .connected = $0 { true } else { false } }
        try await writer.setData("/s", data: [2])
        var latest: [UInt8]? = nil
        for _ in 0..<3 where latest != [2] { latest = try #require(await data.next())?.data }
        #expect(latest == [2])
        await writer.close()
        await zk.close()
    }
}
