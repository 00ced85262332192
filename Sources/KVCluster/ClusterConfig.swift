/// A node's stable id (the membership's `Node.id`).
public typealias NodeID = String

/// Virtual or real time as the shell feeds it (the simulator uses abstract ticks; a NIO shell can
/// use milliseconds). The cores never read a clock: every `handle` call is told `now`.
public typealias Tick = UInt64

/// Cluster-wide settings every node of one cluster must share (N, default quorums, timeouts, hints).
public struct ClusterConfig: Sendable, Equatable {
    /// Replicas per key (N).
    public var n: Int = 3
    /// Default read quorum (R).
    public var r: Int = 2
    /// Default write quorum (W).
    public var w: Int = 2
    /// Vnodes per node on the token ring.
    public var tokensPerNode: Int = 64
    /// A client request that has not reached its quorum by then is answered with an error naming
    /// how many replicas answered.
    public var requestTimeout: Tick = 1_000
    /// Period of the hinted-handoff timer (delivery attempts and window expiry).
    public var handoffInterval: Tick = 250
    /// Hints older than this are dropped with their hinted copy (bounded risk: if the owner was down
    /// the whole window and no other replica has the write, that write is lost).
    public var hintWindow: Tick = 3_600_000
    /// Most hints a node holds; beyond it the node refuses to act as a fallback (the coordinator
    /// then counts one replica fewer — nothing is dropped).
    public var hintCapacity: Int = 100_000
    /// Most handoff messages sent per handoff tick.
    public var handoffBatch: Int = 64
    /// Most rebalancing transfers a node keeps unacknowledged: further keys wait for acknowledgements, so
    /// a slow new owner slows its senders down instead of drowning in resends.
    public var transferWindow: Int = 256
    /// A handoff or transfer not acknowledged within `requestTimeout` is sent again after
    /// `requestTimeout << min(attempts - 1, retryBackoffSteps)`: 1, 2, 4 … timeouts between tries.
    public var retryBackoffSteps: Int = 3
    /// Rebalancing's bandwidth cap: most value bytes a node streams to new owners per handoff tick
    /// (nil: only `handoffBatch` bounds it). A key larger than the cap still goes, alone in its tick.
    public var rebalanceBytesPerTick: Int? = nil
    /// After a membership change, plain writes are stamped by a primary that was a primary before
    /// the change (it holds the key; a new owner may not have received it yet and would stamp a
    /// version concurrent with it, a sibling) while this node's rebalancing pass runs and at least
    /// this long after the change.
    public var ringTransitionGrace: Tick = 10_000
    /// The coordinator keeps a hinted copy for a primary that no fallback stands in for (fewer than
    /// N + 1 nodes up) and for every target that had not confirmed a stamped write by its timeout
    /// (crashed mid-request, message lost), and hands it off when that node is up (as Cassandra does),
    /// so a restarted replica catches up without waiting for a read or anti-entropy.
    public var coordinatorHints: Bool = true
    /// Repair stale replicas as soon as the quorum answer is known, before the reply effect
    /// (default: after the reply, once every replica answered or the request timed out).
    public var repairBeforeReply: Bool = false
    /// Last-write-wins mode: replicas keep only the winner (highest timestamp, then highest dot).
    /// Concurrent writes other than the winner are silently lost — use only where that is acceptable.
    public var lastWriteWins: Bool = false
    /// Remove tombstones once a delete is confirmed by all N true replicas (the key's context stays).
    public var reapTombstones: Bool = true
    /// Stamps remembered per key to make duplicated stamp requests idempotent.
    public var rememberedStampsPerKey: Int = 32
    /// A deliberate bug, for proving that the simulator's checker catches it. Never set in production.
    public var plantedBug: PlantedBug? = nil

    public init() {}

    /// How long after its `attempts`-th send an unacknowledged handoff or transfer is sent again.
    func retryDelay(attempts: Int) -> Tick { requestTimeout << Tick(min(max(attempts - 1, 0), retryBackoffSteps)) }

    /// Clamps a per-request quorum to `1...n`.
    func quorum(_ requested: Int?, default d: Int) -> Int { max(1, min(n, requested ?? d)) }
}

/// Bugs the simulator must be able to catch (see `ClusterConfig.plantedBug`).
public enum PlantedBug: String, Sendable, Equatable, CaseIterable {
    /// The coordinator acknowledges a write as soon as it has sent it, before any replica confirmed.
    case ackBeforeW = "ack-before-w"
    /// Replicas overwrite their set with a replicated one instead of merging (loses siblings).
    case overwriteOnReplicate = "overwrite-on-replicate"
    /// Nodes always stamp under epoch 1, even after dropping a key's object (plain per-node actors):
    /// a fallback that handed a key off and stamps it again reuses counters.
    case reuseActor = "reuse-actor"
}
