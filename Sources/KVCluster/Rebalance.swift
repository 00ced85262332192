import KVPartitioning
import KVVersioning

/// Keys and bytes moved by rebalancing, as one node counts them.
public struct RebalanceStats: Sendable, Equatable {
    /// Membership changes this node has applied.
    public var changes = 0
    /// Keys (and their encoded value bytes) this node sent to new owners, counting each key once per owner.
    public var keysSent = 0
    public var bytesSent = 0
    /// Keys received by transfer that added something this node did not hold.
    public var keysReceived = 0
    public var bytesReceived = 0
    /// Keys this node dropped because it no longer replicates them (after the new owners confirmed).
    public var keysDropped = 0
    /// Transfers sent again after no acknowledgement.
    public var retries = 0
    /// The same counts per ring range (the hash range `(start, end]` one token owns, keyed by `end`),
    /// for the ranges that moved anything.
    public var ranges: [UInt64: RangeTransfers] = [:]

    public init() {}

    /// Counts of one ring range.
    public struct RangeTransfers: Sendable, Equatable {
        /// The range is `(start, end]` on the hash ring (it wraps when start > end).
        public var start: UInt64
        public var end: UInt64
        public var keysSent = 0, bytesSent = 0, keysReceived = 0, bytesReceived = 0
    }

    /// Adds one key moved in the range of `hash` on `ring` (sent, or received when `received`).
    mutating func count(hash: UInt64, on ring: TokenRing, bytes: Int, received: Bool) {
        guard !ring.tokens.isEmpty else { return }
        let i = ring.tokenIndex(for: hash)
        let end = ring.tokens[i]
        var r = ranges[end] ?? RangeTransfers(start: ring.tokens[(i + ring.tokens.count - 1) % ring.tokens.count], end: end)
        if received {
            r.keysReceived += 1
            r.bytesReceived += bytes
        } else {
            r.keysSent += 1
            r.bytesSent += bytes
        }
        ranges[end] = r
    }
}

/// The background pass after a membership change: walks a snapshot of the node's keys, sends each key
/// whose owners changed to the owners that did not have it, and drops keys the node no longer
/// replicates once every new owner confirmed.
///
/// Who sends: a node that stops replicating a key, and the first old replica that keeps it (in old
/// preference order), each to the owners that are new — with W ≥ 2, any write acknowledged before the
/// change is on one of the two, so moved traffic is at most twice the ideal. A stray (a key written here
/// by a peer with another view of the membership) goes to all its owners. A node drops a key only after
/// every owner it sent to confirmed, and only if it was not written again meanwhile.
struct RebalancePass {
    var previous: Placement
    var keys: [[UInt8]]
    var next = 0
    /// Keys queued and not yet processed, so each waits in the queue once.
    var queued: Set<[UInt8]> = []
    /// Transfers waiting for acknowledgement, by transfer id.
    var inFlight: [UInt64: Transfer] = [:]
    /// For keys this node will drop: the owners still to confirm, and the set that was sent (a key
    /// written again since is sent again rather than dropped).
    var awaitingDrop: [[UInt8]: (owners: Set<NodeID>, sent: SiblingSet)] = [:]

    struct Transfer {
        var key: [UInt8]
        var owner: NodeID
        var sentAt: Tick
        var attempts = 1
    }

    var isDone: Bool { next >= keys.count && inFlight.isEmpty }
}

extension ClusterNode {
    /// True while a rebalancing pass is running.
    public var isRebalancing: Bool { rebalance != nil }

    /// Applies a new membership: placement changes at once; the pass starts on the next handoff tick.
    mutating func membershipChanged(_ membership: Membership, now: Tick) {
        guard membership != placement.ring.membership else { return }
        let previous = rebalance?.previous ?? placement
        // Back-to-back changes keep the oldest placement: its primaries are the ones holding the data.
        transition = (transition?.previous ?? previous, now)
        placement = Placement(membership: membership, n: config.n, tokensPerNode: config.tokensPerNode)
        down = down.filter { membership.index(of: $0) != nil }
        var pass = RebalancePass(previous: previous, keys: store.allKeys())
        // Acks of transfers still in flight count, unless their owner left the ring (never acks, never retried).
        if let old = rebalance { pass.inFlight = old.inFlight.filter { membership.index(of: $0.value.owner) != nil } }
        rebalance = pass
        rebalanceStats.changes += 1
    }

    /// One step of the pass, on the handoff tick: retries what was not acknowledged (after
    /// `ClusterConfig.retryDelay`), then sends the next batch of keys while fewer than `transferWindow`
    /// transfers wait for acknowledgement.
    mutating func rebalanceTick(now: Tick, out: inout Output) {
        guard var pass = rebalance else { return }
        var sent = 0
        // Sorted: dictionary order differs between processes, and replays must not.
        for id in pass.inFlight.keys.sorted() {
            guard sent < config.handoffBatch else { break }
            let t = pass.inFlight[id]!
            guard now >= t.sentAt &+ config.retryDelay(attempts: t.attempts) && believesUp(t.owner) else { continue }
            guard let object = store.object(for: t.key) else {
                // Dropped meanwhile (its hint was handed off): nothing left to send or to wait for.
                pass.inFlight[id] = nil
                pass.awaitingDrop[t.key] = nil
                continue
            }
            pass.inFlight[id]!.sentAt = now
            pass.inFlight[id]!.attempts += 1
            out.send(.transfer(id: id, key: t.key, object: object.siblings), to: t.owner, self: self.id)
            rebalanceStats.retries += 1
            sent += 1
        }
        // Transfers to owners believed down wait for them and do not count against the window (they
        // must not stall what goes to the others).
        var outstanding = pass.inFlight.values.reduce(0) { $0 + (believesUp($1.owner) ? 1 : 0) }
        var bytes = 0
        while sent < config.handoffBatch && pass.next < pass.keys.count && outstanding < config.transferWindow
            && (config.rebalanceBytesPerTick.map { bytes < $0 } ?? true) {
            let key = pass.keys[pass.next]
            pass.next += 1
            pass.queued.remove(key)
            guard let object = store.object(for: key) else { continue }
            let old = pass.previous.primaries(for: key)
            let new = placement.primaries(for: key)
            // A copy held only for hints is handoff's job. A replica that holds hints too (it coordinated a
            // write that a replica did not confirm in time) still hands the key to its new owners: the hints
            // cover only their own owners.
            if store.hasHints(for: key) && !new.contains(id) && !old.contains(id) { continue }
            let leaving = !new.contains(id)
            let firstStaying = old.first { new.contains($0) } == id
            guard leaving || firstStaying else { continue }
            // A stray (never an old replica here) goes to every owner; otherwise only owners that are new.
            let owners = leaving && !old.contains(id) ? new : new.filter { !old.contains($0) }
            if leaving { pass.awaitingDrop[key] = (Set(owners.filter { $0 != id }), object.siblings) }
            for owner in owners where owner != id {
                let transferID = nextRequestID()
                pass.inFlight[transferID] = .init(key: key, owner: owner, sentAt: now)
                if believesUp(owner) { outstanding += 1 }
                out.send(.transfer(id: transferID, key: key, object: object.siblings), to: owner, self: id)
                rebalanceStats.keysSent += 1
                let size = object.siblings.siblings.reduce(0) { $0 + $1.value.count }
                rebalanceStats.bytesSent += size
                rebalanceStats.count(hash: Placement.hash(key), on: placement.ring, bytes: size, received: false)
                bytes += size
                sent += 1
            }
            if leaving && owners.isEmpty { dropIfNoLongerReplicated(key, pass: &pass) }
        }
        rebalance = pass.isDone && pass.awaitingDrop.isEmpty ? nil : pass
    }

    /// A key was written here although this node does not replicate it (a peer with another view of
    /// the membership sent it): queue it to be handed to its owners.
    mutating func noteStray(_ key: [UInt8]) {
        if rebalance == nil { rebalance = RebalancePass(previous: placement, keys: []) }
        guard rebalance!.awaitingDrop[key] == nil, rebalance!.queued.insert(key).inserted else { return }
        rebalance!.keys.append(key)
    }

    /// A new owner stored a transferred key.
    mutating func transferAcknowledged(_ id: UInt64, key: [UInt8], by owner: NodeID) {
        guard var pass = rebalance, let t = pass.inFlight[id], t.owner == owner, t.key == key else { return }
        pass.inFlight[id] = nil
        if var waiting = pass.awaitingDrop[key] {
            waiting.owners.remove(owner)
            pass.awaitingDrop[key] = waiting
            if waiting.owners.isEmpty { dropIfNoLongerReplicated(key, pass: &pass) }
        }
        rebalance = pass.isDone && pass.awaitingDrop.isEmpty ? nil : pass
    }

    /// Receives a transferred key: merges it like a replica would.
    mutating func transferReceived(_ id: UInt64, key: [UInt8], object: SiblingSet, from: NodeID, now: Tick,
                                   out: inout Output) {
        let before = store.object(for: key)?.siblings
        _ = replicaMerge(key: key, object: object, hintFor: nil, now: now, isReplicate: false)
        if store.object(for: key)?.siblings != before {
            let size = object.siblings.reduce(0) { $0 + $1.value.count }
            rebalanceStats.keysReceived += 1
            rebalanceStats.bytesReceived += size
            rebalanceStats.count(hash: Placement.hash(key), on: placement.ring, bytes: size, received: true)
        }
        out.send(.transferAck(id: id, key: key), to: from, self: self.id)
    }

    private mutating func dropIfNoLongerReplicated(_ key: [UInt8], pass: inout RebalancePass) {
        let sent = pass.awaitingDrop.removeValue(forKey: key)?.sent
        guard let object = store.object(for: key), !placement.primaries(for: key).contains(id),
              !store.hasHints(for: key) else { return }
        guard sent == nil || object.siblings == sent else {
            // Written again since it was sent: send the newer set before dropping anything.
            if pass.queued.insert(key).inserted { pass.keys.append(key) }
            return
        }
        store.removeObject(for: key)
        rebalanceStats.keysDropped += 1
    }
}

extension ClusterNode {
    /// A one-line summary of the running pass (for checkers and operators).
    public var rebalanceSummary: String {
        guard let p = rebalance else { return "idle" }
        return "keys \(p.next)/\(p.keys.count), in flight \(p.inFlight.values.map { "\($0.owner)@\($0.sentAt)" }), awaiting drop \(p.awaitingDrop.map { "\($0.value.owners)" })"
    }
}
