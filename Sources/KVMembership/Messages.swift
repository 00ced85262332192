/// One gossiped statement: `member` is in this state, as asserted by `source` (a member id; for
/// suspicions it is the suspecter, which is what makes confirmations independent).
public struct MemberUpdate: Sendable, Hashable {
    public var member: Member
    public var source: String

    public init(member: Member, source: String) {
        self.member = member
        self.source = source
    }
}

/// The protocol's message kinds.
public enum MembershipBody: Sendable, Hashable {
    /// Direct probe; answered with `ack(seq)` to the sender.
    case ping(seq: UInt64)
    /// Answer to a probe (sent by the target, or relayed by a helper with the requester's `seq`).
    case ack(seq: UInt64)
    /// Ask a helper to probe `target` on our behalf (SWIM's ping-req).
    case pingRequest(seq: UInt64, targetID: String, targetAddress: String)
    /// Helper → requester: the target did not answer me in time (Lifeguard: proves the requester's
    /// own links work, so a missing nack points at the requester).
    case nack(seq: UInt64)
    /// Piggyback-only dissemination.
    case gossip
    /// A new (or restarted) node asks a seed to admit it; answered with `sync(isReply: true)`.
    case join(Member)
    /// Full state push (answered with the receiver's full state) or the answer.
    case sync(members: [Member], isReply: Bool)
}

/// A message between members: who sent it (id and incarnation — informational, e.g. for a shell's
/// logs; liveness comes only from the protocol's own statements), what, and piggybacked updates.
public struct MembershipMessage: Sendable, Hashable {
    public var senderID: String
    public var senderIncarnation: UInt64
    public var body: MembershipBody
    public var gossip: [MemberUpdate]

    public init(senderID: String, senderIncarnation: UInt64, body: MembershipBody, gossip: [MemberUpdate] = []) {
        self.senderID = senderID
        self.senderIncarnation = senderIncarnation
        self.body = body
        self.gossip = gossip
    }
}

/// Timers an instance asks its shell for (re-setting an id replaces it).
public enum MembershipTimer: Sendable, Hashable {
    /// Start of the next protocol period (next probe).
    case protocolPeriod
    /// The direct probe `seq` got no ack in time: go indirect.
    case probeTimeout(UInt64)
    /// The indirect phase of probe `seq` is over.
    case indirectTimeout(UInt64)
    /// As a helper: my probe `seq` for someone else got no ack; send a nack.
    case helperTimeout(UInt64)
    /// The suspicion of this member may have run out.
    case suspicion(String)
    case gossip
    case sync
    case joinRetry
}

/// What happens to an instance.
public enum MembershipEvent: Sendable, Hashable {
    /// The process started: arms the periodic timers (the node is `joining` until `join` succeeds).
    case start
    /// Join through any of these seed addresses (own address ignored; none left: this node is the
    /// first and is `up` at once). Tried in turn until one answers.
    case join(seeds: [String])
    case timer(MembershipTimer)
    /// A message from the member at this address.
    case message(from: String, MembershipMessage)
    /// Leave gracefully: announce `leaving` (the shell moves data, then stops the process).
    case leave
    /// Operator: remove this member for good (spreads by gossip).
    case operatorRemove(String)
}

/// What an instance asks its shell to do.
public enum MembershipEffect: Sendable, Hashable {
    case send(to: String, MembershipMessage)
    case setTimer(MembershipTimer, after: UInt64)
    case cancelTimer(MembershipTimer)
    /// A member (possibly this node) changed status or incarnation.
    case memberChanged(MembershipChange)
    /// This node's incarnation changed: store it durably (restart with a larger one).
    case persistIncarnation(UInt64)
}
