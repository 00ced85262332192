#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running suspicion of one member's incarnation: who independently suspects it, since when.
struct Suspicion {
    var incarnation: UInt64
    var startedAt: UInt64
    var confirmers: Set<String>
}

/// Lifeguard's dynamic suspicion timeout: it starts at the maximum and shrinks logarithmically toward
/// the minimum as independent confirmations arrive; a suspect not refuted by then is `down`.
extension MembershipInstance {
    /// The timeout with `confirmations` independent suspicions beyond the first, when `others`
    /// members (neither this node nor the suspect) could confirm.
    public static func suspicionTimeout(confirmations: Int, others: Int, config: MembershipConfig) -> UInt64 {
        let k = min(config.suspicionConfirmations, max(0, others))
        let lo = config.suspicionMinTimeout, hi = max(config.suspicionMaxTimeout, lo)
        guard k > 0, confirmations < k else { return lo }
        let fraction = log(Double(confirmations + 1)) / log(Double(k + 1))
        let span = Double(hi - lo) * (1 - fraction)
        return lo + UInt64(span.rounded())
    }

    /// The current suspicion timeout of `id` (nil when it is not suspected), measured from when this
    /// node started suspecting it.
    public func suspicionTimeout(of id: String) -> UInt64? {
        guard let s = records[id]?.suspicion else { return nil }
        let others = liveIDs().count - 1
        return Self.suspicionTimeout(confirmations: s.confirmers.count - 1, others: others, config: config)
    }

    /// (Re)arms the suspicion timer of `id` for what is left of its current timeout.
    mutating func armSuspicionTimer(_ id: String, now: UInt64, out: inout [MembershipEffect]) {
        guard let s = records[id]?.suspicion, let timeout = suspicionTimeout(of: id) else { return }
        let deadline = s.startedAt + timeout
        out.append(.setTimer(.suspicion(id), after: deadline > now ? deadline - now : 0))
    }

    mutating func suspicionTimerFired(_ id: String, now: UInt64, out: inout [MembershipEffect]) {
        guard let record = records[id], record.member.status == .suspect, let s = record.suspicion,
              let timeout = suspicionTimeout(of: id) else { return }
        guard now >= s.startedAt + timeout else { return armSuspicionTimer(id, now: now, out: &out) }
        var dead = record.member
        dead.status = .down
        apply(MemberUpdate(member: dead, source: me.id), now: now, out: &out)
    }

    /// This node's own probe of `id` failed: suspect it (or confirm an existing suspicion).
    mutating func suspect(_ id: String, now: UInt64, out: inout [MembershipEffect]) {
        guard var m = records[id]?.member else { return }
        switch m.status {
        case .joining, .up, .suspect:
            m.status = .suspect
            apply(MemberUpdate(member: m, source: me.id), now: now, out: &out)
        case .leaving:
            // A leaving member that stops answering has left: its data already moved.
            m.status = .removed
            apply(MemberUpdate(member: m, source: me.id), now: now, out: &out)
        case .down, .removed:
            break
        }
    }
}
