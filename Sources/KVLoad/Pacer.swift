import KVWorkload

/// The open-loop schedule of one worker: each operation has an intended start time, the
/// next one `1/rate` after the previous (rate taken from the current phase). After a stall the
/// worker catches up, but never faster than `catchUpFactor` × the scheduled rate (as wrk2),
/// so a backlog drains gradually instead of as a burst. Rate 0 means closed loop: the
/// intended start is the actual send. Pure: time comes in as arguments.
public struct Pacer: Sendable {
    /// Steps of (duration, rate per worker); empty = one endless step at `rate`.
    public let phases: [Phase]
    /// Ops/s for this worker when there are no phases (0 = closed loop).
    public let rate: Double
    public let catchUpFactor: Double
    /// Idle time the catch-up bound may bank (absorbs coarse timer wake-ups; default 1 ms).
    public let burstNanos: UInt64
    public let start: UInt64
    /// Nanoseconds of the phases together (0 = unbounded).
    public let phasesLength: UInt64

    /// Intended start of the next operation (open loop).
    public private(set) var nextIntended: UInt64
    /// The earliest time the catch-up bound lets the next operation go.
    public private(set) var nextAllowed: UInt64
    /// Operations scheduled so far (the offered load).
    public private(set) var scheduled: Int64 = 0
    /// Rate 0 and no phases: every `next` sends at once (the closed loop's per-operation path skips the
    /// schedule arithmetic).
    let closedLoop: Bool

    public init(start: UInt64, rate: Double, phases: [Phase] = [], catchUpFactor: Double = 2, burstNanos: UInt64 = 1_000_000) {
        self.burstNanos = burstNanos
        self.start = start
        self.rate = max(rate, 0)
        self.phases = phases
        self.catchUpFactor = max(catchUpFactor, 1)
        phasesLength = UInt64(phases.reduce(0) { $0 + $1.duration } * 1e9)
        nextIntended = start
        nextAllowed = start
        closedLoop = self.rate == 0 && phases.isEmpty
    }

    /// The rate (ops/s, this worker) at time `t`; 0 = unthrottled; nil after the last phase.
    public func rate(at t: UInt64) -> Double? {
        guard !phases.isEmpty else { return rate }
        var elapsed = Double(t &- start) / 1e9
        if t < start { elapsed = 0 }
        for phase in phases {
            if elapsed < phase.duration { return phase.rate(at: elapsed) }
            elapsed -= phase.duration
        }
        return nil
    }

    /// What to do at `now`.
    public enum Decision: Equatable, Sendable {
        /// Send now; the operation's intended start is `intended`.
        case send(intended: UInt64)
        /// Nothing is due yet: wait until this time.
        case wait(until: UInt64)
        /// The phases are over.
        case finished
    }

    /// Decides about the next operation at `now` and, if it is sent, advances the schedule.
    /// The closed-loop case (every call sends, now) is inlined; a schedule is worked out in `nextScheduled`.
    @inline(__always)
    public mutating func next(now: UInt64) -> Decision {
        if closedLoop {
            scheduled &+= 1
            nextIntended = now
            nextAllowed = now
            return .send(intended: now)
        }
        return nextScheduled(now: now)
    }

    /// `next(now:)` with a rate or phases.
    @inline(never)
    mutating func nextScheduled(now: UInt64) -> Decision {
        if !phases.isEmpty, now >= start &+ phasesLength { return .finished }
        let due = max(nextIntended, nextAllowed)
        if now < due, rate(at: nextIntended) ?? 0 > 0 { return .wait(until: due) }
        guard let currentRate = rate(at: max(nextIntended, start)) else { return .finished }
        scheduled += 1
        if currentRate <= 0 {
            // Closed loop: the schedule follows the sends.
            nextIntended = now
            nextAllowed = now
            return .send(intended: now)
        }
        let intended = nextIntended
        let gap = 1e9 / currentRate
        nextIntended = intended &+ UInt64(gap)
        // Token-bucket style bound: the allowance advances from its own previous value (so a
        // late timer wake-up may send the few overdue operations at once) but never banks more
        // than `burstNanos` of idle time (so a long backlog drains at catchUpFactor × rate).
        let floor = now > burstNanos ? now - burstNanos : 0
        nextAllowed = max(nextAllowed, floor) &+ UInt64(gap / catchUpFactor)
        return .send(intended: intended)
    }
}
