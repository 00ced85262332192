import KVCluster
import KVVersioning

/// Anti-entropy settings; every replica of a cluster must use the same tree shape.
public struct AntiEntropyConfig: Sendable, Equatable {
    /// Period of the automatic rounds (every range with every peer whose id sorts after this node's).
    public var interval: Tick = 60_000
    /// Whether the first tick after start runs a round at once (a restarted replica catches up with
    /// what it missed beyond its hints); otherwise the first round comes one interval after start.
    public var roundAtStart = true
    /// A session that saw no message for this long is abandoned.
    public var sessionTimeout: Tick = 10_000
    /// Sessions this node initiates at once (responding is not limited).
    public var maxConcurrentSessions = 1
    /// Most differing nodes followed per level, and so most buckets repaired per session; the rest
    /// waits for the next session (started at once when this node initiated).
    public var maxBucketsPerSession = 1024
    /// Most bytes of sets in one `.objects` message (at least one set always goes); the rest waits
    /// for the next session.
    public var maxObjectBytesPerMessage = 32 << 20
    /// Sessions other nodes may run with this one at once; more are refused with `.busy`.
    public var maxResponderSessions = 64
    /// Bytes per second for new sessions (nil: unlimited), with this burst.
    public var bytesPerSecond: Int? = 4 << 20
    public var burstBytes = 1 << 20
    /// Ticks per second of the `now` the shell passes (1000 for milliseconds).
    public var ticksPerSecond: UInt64 = 1000

    public init() {}
}

/// What happens to the anti-entropy machine.
public enum AntiEntropyEvent: Sendable, Equatable {
    /// Start a session for one range with one peer now (no rate or concurrency limit).
    case start(range: RangeID, peer: NodeID)
    /// `KV.REPAIR`: queue a session for every range with every other replica.
    case repairAll
    /// A frame from a peer (the encoded `AntiEntropyMessage`).
    case received(from: NodeID, bytes: [UInt8])
    /// Periodic tick: expires idle sessions, starts rounds and queued sessions.
    case tick
    case peerDown(NodeID)
    case peerUp(NodeID)
}

/// What the shell must do.
public enum AntiEntropyEffect: Sendable, Equatable {
    /// Send this encoded message to the peer (drop it if the peer is not connected: the session
    /// times out).
    case send(to: NodeID, bytes: [UInt8])
    /// Merge this set into the local store for `key` (as a replica merges a read repair: through
    /// `ClusterNode`'s `.repair` message, so last-write-wins and hint rules stay in one place).
    case merge(key: [UInt8], siblings: SiblingSet, from: NodeID)
    /// A session ended (both sides report).
    case finished(SessionReport)
    /// A frame could not be decoded; it was dropped.
    case rejected(from: NodeID, VersionDecodingError)
}

/// Merkle-tree anti-entropy as a deterministic state machine: events in, effects out, no I/O,
/// clock or randomness (time arrives with each event; session ids come from a counter under a
/// caller-chosen base, e.g. the node's incarnation).
///
/// A session between two replicas of a range: the initiator sends its root; if the roots differ
/// the replicas take turns sending the digests of the children of the nodes that differed, one
/// level at a time, so only differing subtrees are walked; at the leaves one side lists the keys
/// (digest and causal context) of each differing bucket; the other answers with the sets the
/// first lacks or holds older (sent unless the first's context strictly descends its own), plus
/// the keys it wants back; the first answers those. Received sets come out as `.merge` effects.
public struct AntiEntropyNode {
    public let id: NodeID
    public let config: AntiEntropyConfig
    public private(set) var index: AntiEntropyIndex
    let source: any AntiEntropySource
    let sessionIDBase: UInt64
    var counter: UInt64 = 0
    var sessions: [SessionKey: Session] = [:]
    var queue: [PendingSession] = []
    var down: Set<NodeID> = []
    var nextRoundAt: Tick?
    var limiter: TokenBucket?
    /// Totals over every finished session.
    public private(set) var totals = AntiEntropyTotals()

    public init(id: NodeID, index: AntiEntropyIndex, source: any AntiEntropySource,
                config: AntiEntropyConfig = AntiEntropyConfig(), sessionIDBase: UInt32 = 0) {
        self.id = id
        self.index = index
        self.source = source
        self.config = config
        self.sessionIDBase = UInt64(sessionIDBase) << 32
        limiter = config.bytesPerSecond.map {
            TokenBucket(bytesPerSecond: max(1, $0), burst: max(1, config.burstBytes),
                        ticksPerSecond: max(1, config.ticksPerSecond))
        }
    }

    /// The ring changed: ends every session (telling the peers), forgets queued work, and continues
    /// with `index` (built for the new ranges). The next periodic round, a full interval later, compares
    /// the new ranges (`.repairAll` still runs at once).
    public mutating func replaceIndex(_ index: AntiEntropyIndex, now: Tick) -> [AntiEntropyEffect] {
        var out: [AntiEntropyEffect] = []
        for key in sessions.keys.sorted() { abort(key, .ringChanged, now: now, out: &out) }
        queue.removeAll()
        self.index = index
        // Not at once: right after a ring change the replicas of a range are still being filled by
        // rebalancing (and peers may still hold the old view); comparing now would only duplicate that.
        nextRoundAt = now + config.interval
        return out
    }

    /// Sessions in progress (both roles).
    public var activeSessionCount: Int { sessions.count }
    /// Sessions queued to start.
    public var queuedSessionCount: Int { queue.count }

    public mutating func handle(_ event: AntiEntropyEvent, now: Tick) -> [AntiEntropyEffect] {
        var out: [AntiEntropyEffect] = []
        switch event {
        case let .start(range, peer):
            begin(range: range, peer: peer, now: now, out: &out)
        case .repairAll:
            for pair in index.ranges.syncPairs() { for peer in pair.peers { enqueue(pair.range, peer) } }
            startQueued(now: now, out: &out)
        case let .received(from, bytes):
            do {
                let message = try AntiEntropyCoding.decode(bytes)
                receive(message, from: from, size: bytes.count, now: now, out: &out)
            } catch {
                out.append(.rejected(from: from, error))
            }
        case .tick:
            expire(now: now, out: &out)
            if nextRoundAt == nil && !config.roundAtStart { nextRoundAt = now + config.interval }
            if nextRoundAt.map({ now >= $0 }) ?? true {
                if queue.isEmpty {
                    for pair in index.ranges.syncPairs(initiatorOnly: true) {
                        for peer in pair.peers { enqueue(pair.range, peer) }
                    }
                }
                nextRoundAt = now + config.interval
            }
            startQueued(now: now, out: &out)
        case let .peerDown(peer):
            down.insert(peer)
            for key in sessions.keys.sorted() where key.peer == peer {
                finish(key, outcome: .aborted(.peerDown), now: now, out: &out)
            }
        case let .peerUp(peer):
            down.remove(peer)
        }
        return out
    }

    // MARK: Scheduling

    private mutating func enqueue(_ range: RangeID, _ peer: NodeID) {
        let p = PendingSession(range: range, peer: peer)
        if !queue.contains(p) { queue.append(p) }
    }

    private var initiatedCount: Int { sessions.keys.reduce(0) { $0 + ($1.initiatedHere ? 1 : 0) } }

    private mutating func startQueued(now: Tick, out: inout [AntiEntropyEffect]) {
        while !queue.isEmpty && initiatedCount < config.maxConcurrentSessions {
            if var l = limiter {
                let ok = l.allows(now: now)
                limiter = l
                if !ok { return }
            }
            let next = queue.removeFirst()
            if down.contains(next.peer) { continue }
            begin(range: next.range, peer: next.peer, now: now, out: &out)
        }
    }

    private mutating func expire(now: Tick, out: inout [AntiEntropyEffect]) {
        for key in sessions.keys.sorted() {
            if let s = sessions[key], now >= s.lastActivity &+ config.sessionTimeout {
                finish(key, outcome: .aborted(.timedOut), now: now, out: &out)
            }
        }
    }

    // MARK: Session plumbing

    /// Encodes, counts and sends a message of a session.
    mutating func send(_ body: AntiEntropyMessage.Body, in key: SessionKey, now: Tick, out: inout [AntiEntropyEffect]) {
        let bytes = AntiEntropyCoding.encode(AntiEntropyMessage(session: key.id, fromInitiator: key.initiatedHere, body: body))
        if var s = sessions[key] {
            s.report.messagesSent += 1
            s.report.bytesSent += bytes.count
            s.lastActivity = now
            sessions[key] = s
        }
        if var l = limiter {
            l.charge(bytes.count, now: now)
            limiter = l
        }
        out.append(.send(to: key.peer, bytes: bytes))
    }

    /// Ends a session: reports it and forgets it. `.repaired` is chosen over `.inSync` when keys moved.
    mutating func finish(_ key: SessionKey, outcome: SessionReport.Outcome, now: Tick, out: inout [AntiEntropyEffect]) {
        guard var s = sessions.removeValue(forKey: key) else { return }
        var o = outcome
        if o == .inSync && s.report.keysSent + s.report.keysReceived > 0 { o = .repaired }
        s.report.outcome = o
        s.report.endedAt = now
        totals.add(s.report)
        out.append(.finished(s.report))
        if s.report.truncated && key.initiatedHere { enqueue(s.report.range, key.peer) }
    }

    /// Sends an abort to the peer and ends the session.
    mutating func abort(_ key: SessionKey, _ reason: AbortReason, now: Tick, out: inout [AntiEntropyEffect]) {
        send(.abort(reason), in: key, now: now, out: &out)
        finish(key, outcome: .aborted(reason), now: now, out: &out)
    }

    mutating func nextSessionID() -> UInt64 {
        counter &+= 1
        return sessionIDBase | (counter & 0xFFFF_FFFF)
    }
}

/// Names a session in this node's table: the peer, the initiator's id, and which side started it.
struct SessionKey: Hashable, Comparable {
    var peer: NodeID
    var id: UInt64
    var initiatedHere: Bool

    static func < (a: SessionKey, b: SessionKey) -> Bool {
        (a.peer, a.id, a.initiatedHere ? 1 : 0) < (b.peer, b.id, b.initiatedHere ? 1 : 0)
    }
}

/// A session waiting to start.
struct PendingSession: Equatable {
    var range: RangeID
    var peer: NodeID
}

/// One session's state: which range, what comes next, and its report so far.
struct Session {
    /// What the next message from the peer must be.
    enum Stage: Equatable {
        /// Initiator after `.begin`: level-1 digests or `.inSync`.
        case digests(level: Int)
        /// After sending leaf digests: the peer's bucket entries.
        case entries
        /// After sending entries: the peer's sets and wants.
        case objects
        /// After sending sets with wants: the peer's answer (last message).
        case finalObjects
    }

    var rangeIndex: Int
    var stage: Stage
    var lastActivity: Tick
    var report: SessionReport
}
