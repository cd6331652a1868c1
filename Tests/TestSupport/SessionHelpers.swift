import CZooKeeper
import Dispatch
import Foundation
import Logging
import ZooKeeperClient

/// Ends a session from outside, as a server would on timeout: a second handle takes the session over
/// with its id and password, then closes it.
public func expireSession(of client: ZooKeeper, connectString: String) async throws {
    guard let (id, password) = client.sessionCredentials else { throw TestFailure("no session to expire") }
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        // zookeeper_close blocks: run the takeover off the cooperative pool.
        DispatchQueue.global().async {
            var clientID = clientid_t()
            clientID.client_id = id
            withUnsafeMutableBytes(of: &clientID.passwd) { $0.copyBytes(from: password) }
            if let handle = zookeeper_init(connectString, nil, 10_000, &clientID, nil, 0) {
                for _ in 0..<100 where zoo_state(handle) != czk_state_connected() { usleep(50_000) }
                zookeeper_close(handle)
            }
            continuation.resume()
        }
    }
}

/// Waits for a state in the stream, within a bound.
public func waitFor(
    _ client: ZooKeeper, timeout: Duration = .seconds(20), _ predicate: @escaping @Sendable (SessionState) -> Bool
) async throws -> SessionState {
    try await withThrowingTaskGroup(of: SessionState.self) { group in
        group.addTask {
            for await state in client.sessionStates where predicate(state) { return state }
            throw TestFailure("session state stream ended")
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestFailure("the expected session state did not come within \(timeout)")
        }
        let state = try await group.next()!
        group.cancelAll()
        return state
    }
}

public let testLogger: Logger = {
    var logger = Logger(label: "zk-test")
    logger.logLevel = .warning
    return logger
}()

/// Retries a request that fails with connection loss while the client reconnects (bounded).
public func retrying<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    for _ in 0..<50 {
        do {
            return try await body()
        } catch ZooKeeperError.connectionLoss, ZooKeeperError.operationTimeout {
            try await Task.sleep(for: .milliseconds(200))
        }
    }
    return try await body()
}
