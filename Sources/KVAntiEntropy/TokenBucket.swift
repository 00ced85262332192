import KVCluster

/// A byte-rate limiter (token bucket) with debt: `charge` always succeeds and may drive the level
/// negative, and new work waits until the level is back to zero or above. That bounds the average
/// rate to `bytesPerSecond` without having to know a session's size before starting it.
/// Pure: time comes in as ticks, with `ticksPerSecond` to convert (1000 for milliseconds).
public struct TokenBucket: Equatable, Sendable {
    public let bytesPerSecond: Int
    /// Most bytes that can accumulate while idle.
    public let burst: Int
    public let ticksPerSecond: UInt64
    /// Current level in bytes (negative: in debt).
    public private(set) var level: Int
    private var last: Tick

    public init(bytesPerSecond: Int, burst: Int, ticksPerSecond: UInt64 = 1000, now: Tick = 0) {
        precondition(bytesPerSecond > 0 && burst > 0 && ticksPerSecond > 0, "rates must be positive")
        self.bytesPerSecond = bytesPerSecond
        self.burst = burst
        self.ticksPerSecond = ticksPerSecond
        level = burst
        last = now
    }

    /// Refills for the time elapsed since the last call (time never runs backwards here).
    public mutating func refill(now: Tick) {
        guard now > last else { return }
        let product = (now - last).multipliedReportingOverflow(by: UInt64(bytesPerSecond))
        let gained = product.overflow ? UInt64.max : product.partialValue / ticksPerSecond
        // Less than one byte earned: keep `last` so the fraction is not lost.
        guard gained > 0 else { return }
        let room = UInt64(burst - level)  // level <= burst always
        level = gained >= room ? burst : level + Int(gained)
        last = now
    }

    /// True when new work may start now.
    public mutating func allows(now: Tick) -> Bool {
        refill(now: now)
        return level >= 0
    }

    /// Takes `bytes` (may go into debt).
    public mutating func charge(_ bytes: Int, now: Tick) {
        refill(now: now)
        level -= bytes
    }

    /// Ticks until the level is back to zero (0 when it already is).
    public func ticksUntilAllowed() -> Tick {
        guard level < 0 else { return 0 }
        let owed = UInt64(-level).multipliedReportingOverflow(by: ticksPerSecond)
        if owed.overflow { return Tick.max }
        return owed.partialValue / UInt64(bytesPerSecond) + (owed.partialValue % UInt64(bytesPerSecond) == 0 ? 0 : 1)
    }
}
