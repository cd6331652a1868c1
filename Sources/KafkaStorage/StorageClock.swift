#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in milliseconds since the epoch, injected so tests control time (segment rolling
/// by age, retention, LogAppendTime, flush.ms).
public struct StorageClock: Sendable {
    private let read: @Sendable () -> Int64

    public init(milliseconds: @escaping @Sendable () -> Int64) {
        read = milliseconds
    }

    /// The current time in milliseconds. Blocks: no.
    public func milliseconds() -> Int64 { read() }

    /// The system's real-time clock.
    public static let system = StorageClock {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
