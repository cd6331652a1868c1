import CZooKeeper
import Logging
import Synchronization

/// Sends the C library's log lines to swift-log. The library's callback has no context argument,
/// so the destination is process-wide: the logger of the most recent client.
enum ZooKeeperLog {
    private static let destination = Mutex<Logger?>(nil)

    static func install(_ logger: Logger) {
        destination.withLock { $0 = logger }
        // The library formats lines itself; let it produce INFO only when someone will read them.
        zoo_set_debug_level(logger.logLevel <= .debug ? ZOO_LOG_LEVEL_INFO : ZOO_LOG_LEVEL_WARN)
    }

    static func write(_ line: String) {
        guard let logger = destination.withLock({ $0 }) else { return }
        let level: Logger.Level =
            // The library reports every refused reconnection attempt as an error; the session
            // state stream says what matters, so these are warnings at most.
            line.contains("ZOO_ERROR@") ? .warning : line.contains("ZOO_WARN@") ? .notice : .debug
        logger.log(level: level, "\(line)", metadata: ["source": "zookeeper-c"])
    }
}

let zooKeeperLogCallback: log_callback_fn = { message in
    guard let message else { return }
    ZooKeeperLog.write(String(cString: message))
}
