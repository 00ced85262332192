import KVPartitioning
import KVVersioning

/// Identifies one coordinated request of one node incarnation (incarnation in the high 32 bits).
public typealias RequestID = UInt64

/// The shell's handle for a client request; the node echoes it in `Effect.reply`.
public typealias ClientRequestID = UInt64

/// How many replicas must answer, and whether only true replicas (primaries) count.
public struct Quorum: Sendable, Equatable {
    /// Replicas that must answer; nil takes the cluster default (R or W).
    public var count: Int?
    /// Strict mode (Riak's PR/PW = count): fallbacks are not used and only primaries count.
    public var strict: Bool

    public init(_ count: Int? = nil, strict: Bool = false) {
        self.count = count
        self.strict = strict
    }
}

/// A client command the node coordinates (or answers locally).
public enum ClientRequest: Sendable, Equatable {
    /// `KV.GET key [R n]`.
    case get(key: [UInt8], quorum: Quorum)
    /// `KV.PUT key value [CONTEXT ctx] [W n]`.
    case put(key: [UInt8], value: [UInt8], context: VersionVector, quorum: Quorum)
    /// `KV.DEL key [CONTEXT ctx] [W n]`: writes a tombstone. `tag` is stored as the tombstone's bytes
    /// (empty in production; the simulator uses it to identify deletes).
    case delete(key: [UInt8], context: VersionVector, quorum: Quorum, tag: [UInt8])
    /// Plain Redis `SET key value`: a write that supersedes every version the stamping replica holds
    /// (no siblings pile up for Redis clients; versions only on other replicas may still be siblings).
    case plainSet(key: [UInt8], value: [UInt8], quorum: Quorum)
    /// Plain Redis `DEL key`: a tombstone that supersedes every version the stamping replica holds.
    case plainDelete(key: [UInt8], quorum: Quorum)
    /// `KV.GETLOCAL key`: this node's own stored set, no coordination.
    case getLocal(key: [UInt8])
}

/// The answer to a client request.
public enum ClientReply: Sendable, Equatable {
    /// A read's merged set (context + siblings, tombstones included: the shell hides them).
    case value(SiblingSet)
    /// A write reached W replicas; `context` is the stamped set's context, `dot` the new sibling's.
    case written(context: VersionVector, dot: Dot?)
    /// A write was confirmed by fewer than W replicas before the timeout. It may still be applied
    /// on some replicas: not acknowledged, never "failed for sure".
    case notAcknowledged(acks: Int, required: Int)
    /// A read got fewer than R answers before the timeout.
    case readTimedOut(answered: Int, required: Int)
    /// Fewer than the quorum of replicas were believed reachable; nothing was sent.
    case unavailable(reachable: Int, required: Int)
}

/// Node-to-node messages (the peer protocol's payloads). Replies name the request they answer;
/// the sender is known from the connection (`Event.peer(from:_:)`).
public enum PeerMessage: Sendable, Equatable {
    /// Coordinator → first replica: stamp this write with your actor and store it. With
    /// `supersedeLocal` the write also supersedes everything the replica holds (plain SET/DEL).
    case stampPut(request: RequestID, key: [UInt8], value: [UInt8], isTombstone: Bool,
                  context: VersionVector, supersedeLocal: Bool, timestamp: UInt64, hintFor: NodeID?)
    /// Stamping replica → coordinator: the stored set after the write, and the new dot (nil: refused).
    case stamped(request: RequestID, object: SiblingSet?, dot: Dot?)
    /// Coordinator → other replicas: merge this stamped set.
    case replicate(request: RequestID, key: [UInt8], object: SiblingSet, hintFor: NodeID?)
    /// Replica → coordinator: merged and stored (false: refused, e.g. hint capacity reached).
    case replicated(request: RequestID, accepted: Bool)
    /// Coordinator → replicas: send me your set for this key.
    case get(request: RequestID, key: [UInt8])
    /// Replica → coordinator: its set (nil when it holds nothing for the key).
    case got(request: RequestID, object: SiblingSet?)
    /// Read repair: merge this set (no answer).
    case repair(key: [UInt8], object: SiblingSet, hintFor: NodeID?)
    /// Coordinator → every true replica, once all N confirmed a delete: drop the tombstones if your
    /// set is exactly this (deleted) context — nothing newer arrived.
    case reapTombstones(key: [UInt8], context: VersionVector)
    /// Fallback → owner: a hinted copy to merge.
    case handoff(hint: UInt64, key: [UInt8], object: SiblingSet)
    /// Owner → fallback: the hinted copy is stored; the hint can go.
    case handoffAck(hint: UInt64, key: [UInt8])
    /// Rebalancing, old holder → new owner after a membership change: merge this set.
    case transfer(id: UInt64, key: [UInt8], object: SiblingSet)
    /// New owner → old holder: the transferred set is stored.
    case transferAck(id: UInt64, key: [UInt8])
    /// An anti-entropy frame (`KVAntiEntropy`'s own encoding), carried for the shell: `ClusterNode`
    /// ignores it; the shell hands it to its anti-entropy machine.
    case antiEntropy(bytes: [UInt8])
    /// A membership (SWIM) frame (`KVMembership`'s encoding), carried for the shell like `antiEntropy`.
    case membership(bytes: [UInt8])
}

/// Timers a node asks its shell for.
public enum TimerID: Hashable, Sendable {
    /// A coordinated request's deadline.
    case request(RequestID)
    /// The periodic hinted-handoff tick.
    case handoff
}

/// What a node asks its shell to do. Persistence is not an effect: it happens synchronously through
/// `LocalStore` before any effect that depends on it (an ack) is returned.
public enum Effect: Sendable, Equatable {
    case send(to: NodeID, PeerMessage)
    case reply(ClientRequestID, ClientReply)
    case setTimer(TimerID, after: Tick)
    case cancelTimer(TimerID)
}

/// What happens to a node.
public enum Event: Sendable, Equatable {
    /// The node (re)started: arms its periodic timers.
    case start
    case client(ClientRequestID, ClientRequest)
    case peer(from: NodeID, PeerMessage)
    case timer(TimerID)
    /// The failure detector believes this peer is down / up again.
    case peerDown(NodeID)
    case peerUp(NodeID)
    /// The membership changed (a node joined, left or was removed): placement follows it at once and a
    /// background pass hands the keys whose owners changed to their new owners.
    case membershipChanged(Membership)
}
