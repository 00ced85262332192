/// Timing and fan-out settings of the membership protocol (durations in the shell's time unit, ms by
/// default). Every member of one cluster should use the same values.
public struct MembershipConfig: Sendable, Equatable {
    /// Protocol period: one probe per period (stretched by the local health multiplier).
    public var probeInterval: UInt64 = 1_000
    /// Wait for a direct ack before asking helpers (stretched by the local health multiplier).
    public var probeTimeout: UInt64 = 500
    /// Helpers asked to probe indirectly (SWIM's k).
    public var indirectProbes: Int = 3
    /// Most the local health multiplier reaches (Lifeguard: timeouts scale by 1 + LHM).
    public var maxLocalHealth: Int = 8
    /// Suspicion timeout once `suspicionConfirmations` independent suspicions arrived. A suspicion
    /// starts at the earliest ~0.95 probe periods after a node stops answering (probe timeout plus
    /// the indirect window), so a pause of up to `min + 0.95 · probeInterval − refutation latency`
    /// (≈ 2 s with the defaults) is refuted before anyone declares the node down.
    public var suspicionMinTimeout: UInt64 = 1_500
    /// Suspicion timeout with no confirmation (Lifeguard starts high and shrinks).
    public var suspicionMaxTimeout: UInt64 = 3_000
    /// Independent confirmations (beyond the first suspicion) that bring the timeout to its minimum
    /// (Lifeguard's K; capped by the number of other live members).
    public var suspicionConfirmations: Int = 3
    /// Gossip period: pending updates go to `gossipFanout` random members this often.
    public var gossipInterval: UInt64 = 200
    public var gossipFanout: Int = 3
    /// Each update is sent `retransmitMultiplier · ⌈log2(n + 1)⌉` times (SWIM's λ log n).
    public var retransmitMultiplier: Int = 3
    /// Most updates piggybacked on one message.
    public var maxPiggyback: Int = 8
    /// Full-state push-pull with one random member this often (repairs what gossip missed; down
    /// members are also tried, so partitions heal).
    public var syncInterval: UInt64 = 5_000
    /// A join request to a seed is retried with the next seed after this long.
    public var joinRetryInterval: UInt64 = 1_000
    /// Explicit policy: a member down this long is removed (data moves). Nil (default): only an
    /// operator removes.
    public var autoRemoveDownAfter: UInt64? = nil

    public init() {}

    /// Rejects settings the protocol cannot run with.
    public func validate() throws(MembershipConfigError) {
        guard probeInterval > 0, probeTimeout > 0, probeTimeout < probeInterval else {
            throw .invalid("probeTimeout must be positive and below probeInterval")
        }
        guard suspicionMinTimeout > 0, suspicionMinTimeout <= suspicionMaxTimeout else {
            throw .invalid("suspicion timeouts must satisfy 0 < min <= max")
        }
        guard indirectProbes >= 0, suspicionConfirmations >= 0, maxLocalHealth >= 0 else {
            throw .invalid("counts must not be negative")
        }
        guard gossipInterval > 0, gossipFanout >= 1, retransmitMultiplier >= 1, maxPiggyback >= 1,
              maxPiggyback <= MembershipCoding.maxUpdatesPerMessage else {
            throw .invalid("gossip settings out of range")
        }
        guard syncInterval > 0, joinRetryInterval > 0 else { throw .invalid("intervals must be positive") }
    }
}

/// A configuration the protocol cannot run with.
public enum MembershipConfigError: Error, Equatable, Sendable {
    case invalid(String)
}
