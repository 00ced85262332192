/// Where a member stands in the cluster, as one node believes it.
///
/// Lifecycle: `joining` → `up` ⇄ `suspect` → `down` → (operator or policy) `removed`; a graceful
/// leave goes `up` → `leaving` → `removed`. A restart re-enters as `joining` with a larger incarnation.
public enum MemberStatus: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Known, but has not yet received the cluster state from a seed: place no data on it yet.
    case joining = 0
    /// Answering probes.
    case up = 1
    /// Missed a probe (direct and indirect); declared down unless it refutes before the suspicion timeout.
    case suspect = 2
    /// Failed: nobody heard a refutation in time. Temporary by default: no data movement.
    case down = 3
    /// Leaving gracefully: its data should move; once it stops answering it becomes `removed`.
    case leaving = 4
    /// Gone for good (operator, auto-remove policy, or completed leave): data moves off it.
    case removed = 5

    /// Precedence between two statements with the same incarnation: the higher rank wins.
    var rank: UInt8 { rawValue }

    /// Statuses whose members are probed and used as helpers or gossip targets.
    var isLive: Bool { self == .joining || self == .up || self == .suspect || self == .leaving }

    public var description: String {
        switch self {
        case .joining: "joining"
        case .up: "up"
        case .suspect: "suspect"
        case .down: "down"
        case .leaving: "leaving"
        case .removed: "removed"
        }
    }
}

/// One member as a node sees it: who, where, which life (incarnation) and in what state.
///
/// Incarnation rule: a node bumps its incarnation to refute a suspicion (or a `down`) about itself, and
/// a restarted node must start above every incarnation it ever announced. The instance emits
/// `.persistIncarnation` whenever its own incarnation changes; the shell stores the value and starts
/// the next process with `stored + 1` (or anything larger, e.g. milliseconds since the epoch).
public struct Member: Sendable, Hashable, CustomStringConvertible {
    /// Stable node id (the cluster's `NodeID`).
    public var id: String
    /// Address the shell sends to ("host:port").
    public var address: String
    /// The member's life counter; higher means newer information.
    public var incarnation: UInt64
    public var status: MemberStatus

    public init(id: String, address: String, incarnation: UInt64, status: MemberStatus) {
        self.id = id
        self.address = address
        self.incarnation = incarnation
        self.status = status
    }

    /// True when this statement about the member should replace `old`: a newer incarnation, or the same
    /// incarnation with a stronger status. (Removal is sticky: see `MembershipInstance`.)
    public func supersedes(_ old: Member) -> Bool {
        incarnation != old.incarnation ? incarnation > old.incarnation : status.rank > old.status.rank
    }

    public var description: String { "\(id)@\(address)#\(incarnation):\(status)" }
}

/// A state change the shell must act on (`previous == nil`: a member seen for the first time).
public struct MembershipChange: Sendable, Hashable {
    public var member: Member
    public var previous: Member?

    public init(member: Member, previous: Member?) {
        self.member = member
        self.previous = previous
    }

    /// The member came back in a new life (restart) after being seen in an older one.
    public var isRestart: Bool {
        guard let previous else { return false }
        return member.incarnation > previous.incarnation && (member.status == .joining || previous.status == .down
            || previous.status == .removed)
    }
}
