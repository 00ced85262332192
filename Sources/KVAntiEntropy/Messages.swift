import KVCluster
import KVVersioning

/// One key as listed in a differing bucket: its version digest and causal context, enough for the
/// other side to decide which way the key's set must travel.
public struct KeyVersion: Equatable, Sendable {
    public var key: [UInt8]
    public var digest: UInt64
    public var context: VersionVector

    public init(key: [UInt8], digest: UInt64, context: VersionVector) {
        self.key = key
        self.digest = digest
        self.context = context
    }
}

/// The keys of one differing leaf bucket.
public struct BucketEntries: Equatable, Sendable {
    public var bucket: Int
    public var keys: [KeyVersion]

    public init(bucket: Int, keys: [KeyVersion]) {
        self.bucket = bucket
        self.keys = keys
    }
}

/// A key and its sibling set, as shipped by a repair.
public struct KeyedSet: Equatable, Sendable {
    public var key: [UInt8]
    public var siblings: SiblingSet

    public init(key: [UInt8], siblings: SiblingSet) {
        self.key = key
        self.siblings = siblings
    }
}

/// Why a session ended early.
public enum AbortReason: UInt8, Sendable, Equatable {
    /// The responder does not replicate the range (membership views differ).
    case unknownRange = 1
    /// The two trees have different shapes.
    case shapeMismatch = 2
    /// A message did not fit the session's stage or the tree (a bug or a hostile peer).
    case protocolError = 3
    /// The session saw no message for longer than the session timeout.
    case timedOut = 4
    /// The peer was reported down.
    case peerDown = 5
    /// The responder already runs as many sessions as it accepts.
    case busy = 6
    /// The ring changed under the session: its ranges were recomputed.
    case ringChanged = 7
}

/// One anti-entropy message between two replicas of a range. Sessions are named by the
/// initiator's id; `fromInitiator` tells the receiver which of its session tables to look in.
public struct AntiEntropyMessage: Equatable, Sendable {
    public var session: UInt64
    public var fromInitiator: Bool
    public var body: Body

    /// The steps of the exchange.
    public enum Body: Equatable, Sendable {
        /// Initiator → responder: compare this range's root.
        case begin(range: RangeID, shape: MerkleShape, root: UInt64)
        /// The trees agree (roots equal, or no differing node left): the session is over.
        case inSync
        /// The sender's digests of level `level` for the children of each of `parents` (nodes of
        /// `level - 1` that differed), `fanout` per parent, in order.
        case digests(level: Int, parents: [Int], digests: [UInt64])
        /// The sender's keys of each differing leaf bucket.
        case entries([BucketEntries])
        /// Sets the receiver lacks or holds older, and the keys whose sets the sender wants back.
        /// `isLast`: no answer follows (nothing wanted, or this is the answer). `more`: the sender
        /// left differences out (byte or bucket limits), so another session should follow.
        case objects(sets: [KeyedSet], want: [[UInt8]], isLast: Bool, more: Bool)
        /// The sender ended the session.
        case abort(AbortReason)
    }

    public init(session: UInt64, fromInitiator: Bool, body: Body) {
        self.session = session
        self.fromInitiator = fromInitiator
        self.body = body
    }
}
