#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A source of monotonic nanoseconds that workers read and wait on. Injected so tests can
/// drive time deterministically.
public protocol LoadClock: Sendable {
    /// Monotonic nanoseconds.
    func now() -> UInt64
    /// Returns when `now() >= deadline` (or soon after).
    func wait(until deadline: UInt64)
}

/// The real clock: `CLOCK_MONOTONIC`; waits sleep for the bulk and spin the last 50 µs
/// (sleep granularity would otherwise add pacing error to open-loop schedules).
public struct MonotonicClock: LoadClock {
    public init() {}

    @inline(__always)
    public func now() -> UInt64 { Self.nanoseconds() }

    @inline(__always)
    public static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    public func wait(until deadline: UInt64) {
        while true {
            let now = Self.nanoseconds()
            if now >= deadline { return }
            let remaining = deadline - now
            if remaining > 60_000 {
                var ts = timespec(tv_sec: Int((remaining - 50_000) / 1_000_000_000), tv_nsec: Int((remaining - 50_000) % 1_000_000_000))
                nanosleep(&ts, nil)
            }
        }
    }
}

/// A clock that moves only when told: `wait(until:)` jumps straight to the deadline and `advance(_:)` adds
/// time. Runs on it take no real time and are exactly reproducible, which is what tests and simulated
/// sessions need (the load driver's counterpart of NIO's `EmbeddedEventLoop`).
public final class ManualLoadClock: LoadClock {
    private let current: Atomic<UInt64>

    public init(start: UInt64 = 1_000_000_000) {
        current = Atomic(start)
    }

    public func now() -> UInt64 { current.load(ordering: .acquiring) }

    /// Moves the clock to `deadline` unless it is already past it.
    public func wait(until deadline: UInt64) {
        current.max(deadline, ordering: .acquiringAndReleasing)
    }

    /// Moves the clock `nanoseconds` forward.
    public func advance(_ nanoseconds: UInt64) {
        current.add(nanoseconds, ordering: .acquiringAndReleasing)
    }
}

/// Wall-clock seconds since the epoch (for log headers only).
public func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
