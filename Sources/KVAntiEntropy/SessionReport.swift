import KVCluster

/// What one anti-entropy session did, from one side's point of view. Bytes are encoded message
/// sizes (the frames' payloads), so `bytesExchanged` against `differingObjectBytes` shows how much
/// the protocol costs beyond the data that actually had to move.
public struct SessionReport: Equatable, Sendable {
    /// How the session ended.
    public enum Outcome: Equatable, Sendable {
        /// The trees agreed (at the root or further down): nothing to repair.
        case inSync
        /// Differing keys were exchanged.
        case repaired
        case aborted(AbortReason)
    }

    public var session: UInt64
    public var peer: NodeID
    public var range: RangeID
    public var isInitiator: Bool
    public var outcome: Outcome = .inSync
    /// Ranges compared: 1 once the trees were compared, 0 for a session refused at the start.
    public var rangesCompared = 0
    /// Tree levels descended below the root.
    public var levelsDescended = 0
    /// Tree node digests sent plus received (the root counts as one).
    public var treeNodesExchanged = 0
    /// Leaf buckets found differing (after the per-session cap).
    public var bucketsDiffering = 0
    /// Key entries listed for differing buckets, sent plus received.
    public var keyEntriesExchanged = 0
    /// Sets this side sent to the peer.
    public var keysSent = 0
    /// Sets received from the peer (handed to the store to merge).
    public var keysReceived = 0
    /// Encoded bytes of the sets sent plus received (keys included): the differing data.
    public var differingObjectBytes = 0
    public var messagesSent = 0
    public var messagesReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// True when more differing buckets were found than one session handles (run again).
    public var truncated = false
    /// When the session started and ended (the shell's ticks).
    public var startedAt: Tick = 0
    public var endedAt: Tick = 0

    /// Everything this side sent and received.
    public var bytesExchanged: Int { bytesSent + bytesReceived }

    public init(session: UInt64, peer: NodeID, range: RangeID, isInitiator: Bool, startedAt: Tick) {
        self.session = session
        self.peer = peer
        self.range = range
        self.isInitiator = isInitiator
        self.startedAt = startedAt
        endedAt = startedAt
    }
}

/// Running totals over finished sessions (what `INFO` or `KV.REPAIR` reports).
public struct AntiEntropyTotals: Equatable, Sendable {
    public var sessions = 0
    public var rangesCompared = 0
    public var rangesInSync = 0
    public var aborted = 0
    public var keysSent = 0
    public var keysReceived = 0
    public var bytesExchanged = 0
    public var differingObjectBytes = 0

    public init() {}

    public mutating func add(_ r: SessionReport) {
        sessions += 1
        rangesCompared += r.rangesCompared
        if r.outcome == .inSync { rangesInSync += 1 }
        if case .aborted = r.outcome { aborted += 1 }
        keysSent += r.keysSent
        keysReceived += r.keysReceived
        bytesExchanged += r.bytesExchanged
        differingObjectBytes += r.differingObjectBytes
    }
}
