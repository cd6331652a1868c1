import CZooKeeper
import Logging
import Synchronization

/// Sends the C library's log lines to swift-log. The library's callback has no context argument,
/// so the destination is process-wide: the logger of the most recent client.
enum ZooKeeperLog {
    private static let destination = Mutex<Logger?>(nil)
    /// While a server is unreachable the library repeats the same few lines every 100 ms; each
    /// distinct source line is written at most once per `quietPeriod`, with a count of the rest.
    private static let recent = Mutex<[Substring: (last: ContinuousClock.Instant, suppressed: Int)]>([:])
    static let quietPeriod = Duration.seconds(10)

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
        guard logger.logLevel <= level else { return }
        guard let suppressed = admit(line) else { return }
        let text = suppressed > 0 ? "\(line) (\(suppressed) more like it in the last \(quietPeriod))" : line
        logger.log(level: level, "\(text)", metadata: ["source": "zookeeper-c"])
    }

    /// nil when the line's source (`ZOO_LEVEL@function@line`) was written within the quiet period;
    /// otherwise how many of its lines were dropped since it was last written.
    static func admit(_ line: String, now: ContinuousClock.Instant = .now) -> Int? {
        guard let source = line.split(separator: ":").first(where: { $0.hasPrefix("ZOO_") }) else { return 0 }
        return recent.withLock { recent in
            if let seen = recent[source], now - seen.last < quietPeriod {
                recent[source] = (seen.last, seen.suppressed + 1)
                return nil
            }
            let dropped = recent[source]?.suppressed ?? 0
            if recent.count > 256 { recent.removeAll() }
            recent[source] = (now, 0)
            return dropped
        }
    }
}

let zooKeeperLogCallback: log_callback_fn = { message in
    guard let message else { return }
    ZooKeeperLog.write(String(cString: message))
}
