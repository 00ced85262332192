import KVVersioning

/// A write this node coordinates: stamped on one replica, then replicated to the others. A class so
/// that updating it in the pending table copies nothing (it is never shared outside its node).
final class PendingWrite {
    var client: ClientRequestID
    var key: [UInt8]
    var value: [UInt8]
    var isTombstone: Bool
    var context: VersionVector
    var supersedeLocal: Bool
    var timestamp: UInt64
    var required: Int
    var strict: Bool
    var targets: [ReplicaTarget]
    /// Down primaries no fallback stands in for (too few nodes): the coordinator keeps a hint for each.
    var uncovered: [NodeID] = []
    /// Index in `targets` of the replica asked to stamp.
    var stamper: Int = 0
    var stamped: SiblingSet?
    var dot: Dot?
    /// Nodes that confirmed (stamper included), and how many of them are primaries.
    var acked: [NodeID] = []
    var answered: [NodeID] = []
    var replied = false

    init(client: ClientRequestID, key: [UInt8], value: [UInt8], isTombstone: Bool, context: VersionVector,
         supersedeLocal: Bool, timestamp: UInt64, required: Int, strict: Bool, targets: [ReplicaTarget]) {
        self.client = client
        self.key = key
        self.value = value
        self.isTombstone = isTombstone
        self.context = context
        self.supersedeLocal = supersedeLocal
        self.timestamp = timestamp
        self.required = required
        self.strict = strict
        self.targets = targets
        acked.reserveCapacity(targets.count)
        answered.reserveCapacity(targets.count)
    }

    var primaryAcks: Int { acked.filter { n in targets.contains { $0.node == n && $0.isPrimary } }.count }
    var counted: Int { strict ? primaryAcks : acked.count }
}

/// A read this node coordinates (a class for the same reason as `PendingWrite`).
final class PendingRead {
    var client: ClientRequestID
    var key: [UInt8]
    var required: Int
    var strict: Bool
    var targets: [ReplicaTarget]
    var answers: [(node: NodeID, object: SiblingSet?)] = []
    var replied = false
    var repaired = false

    init(client: ClientRequestID, key: [UInt8], required: Int, strict: Bool, targets: [ReplicaTarget]) {
        self.client = client
        self.key = key
        self.required = required
        self.strict = strict
        self.targets = targets
    }

    var merged: SiblingSet {
        var m = SiblingSet()
        for a in answers { if let o = a.object { m.sync(o) } }
        return m
    }
}

extension ClusterNode {
    /// Starts coordinating a client request (or answers `getLocal` directly).
    mutating func coordinate(_ request: ClientRequest, client: ClientRequestID, now: Tick, out: inout Output) {
        switch request {
        case .getLocal(let key):
            out.effects.append(.reply(client, .value(store.object(for: key)?.siblings ?? SiblingSet())))
        case let .get(key, quorum):
            startRead(key: key, quorum: quorum, client: client, out: &out)
        case let .put(key, value, context, quorum):
            startWrite(key: key, value: value, isTombstone: false, context: context, supersedeLocal: false,
                       quorum: quorum, client: client, now: now, out: &out)
        case let .delete(key, context, quorum, tag):
            startWrite(key: key, value: tag, isTombstone: true, context: context, supersedeLocal: false,
                       quorum: quorum, client: client, now: now, out: &out)
        case let .plainSet(key, value, quorum):
            startWrite(key: key, value: value, isTombstone: false, context: VersionVector(), supersedeLocal: true,
                       quorum: quorum, client: client, now: now, out: &out)
        case let .plainDelete(key, quorum):
            startWrite(key: key, value: [], isTombstone: true, context: VersionVector(), supersedeLocal: true,
                       quorum: quorum, client: client, now: now, out: &out)
        }
    }

    /// Targets for a key, ordered so the first one stamps writes: this node when it is a primary
    /// (no extra hop), else the first primary, else a fallback (fallbacks stamp under short-lived
    /// epochs, so preferring primaries keeps version vectors small). With `ownerStamps` the first
    /// primary in ring order stamps even when this node is another primary: plain Redis writes
    /// through different coordinators then supersede each other on one stamper instead of becoming
    /// siblings (one hop more when the coordinator is not the owner).
    func orderedTargets(for key: [UInt8], strict: Bool, ownerStamps: Bool = false) -> [ReplicaTarget] {
        let me = id
        let down = down
        var targets = placement.targets(for: key, strict: strict) { $0 == me || !down.contains($0) }
        if transition == nil, targets.allSatisfy(\.isPrimary) {
            // The usual case, ordered without building new lists: every target a primary, in ring order.
            if !ownerStamps, let mine = targets.firstIndex(where: { $0.node == me }), mine > 0 {
                targets.insert(targets.remove(at: mine), at: 0)
            }
            return targets
        }
        if ownerStamps {
            // `targets` is in ring order: primaries first (the owner leads), then fallbacks. During a
            // ring transition, primaries that were primaries before go first, in the old ring's order:
            // they hold the key, and a coordinator still on the old view picks the same stamper.
            let primaries = targets.filter(\.isPrimary)
            if let old = transition?.previous {
                let held = old.primaries(for: key)
                return held.compactMap { h in primaries.first { $0.node == h } } + primaries.filter { !held.contains($0.node) }
                    + targets.filter { !$0.isPrimary }
            }
            return primaries + targets.filter { !$0.isPrimary }
        }
        var ordered: [ReplicaTarget] = []
        ordered.reserveCapacity(targets.count)
        // Stable passes by rank: self-primary, other primaries, self-fallback, other fallbacks.
        for rank in 0..<4 {
            for t in targets where (t.isPrimary ? (t.node == me ? 0 : 1) : (t.node == me ? 2 : 3)) == rank {
                ordered.append(t)
            }
        }
        return ordered
    }

    private mutating func startWrite(
        key: [UInt8], value: [UInt8], isTombstone: Bool, context: VersionVector, supersedeLocal: Bool, quorum: Quorum,
        client: ClientRequestID, now: Tick, out: inout Output
    ) {
        let required = config.quorum(quorum.count, default: config.w)
        if let t = transition, rebalance == nil, now >= t.since &+ config.ringTransitionGrace { transition = nil }
        let targets = orderedTargets(for: key, strict: quorum.strict, ownerStamps: supersedeLocal)
        let reachable = quorum.strict ? targets.filter(\.isPrimary).count : targets.count
        guard reachable >= required, !targets.isEmpty else {
            out.effects.append(.reply(client, .unavailable(reachable: reachable, required: required)))
            return
        }
        let request = nextRequestID()
        let write = PendingWrite(client: client, key: key, value: value, isTombstone: isTombstone, context: context,
                                 supersedeLocal: supersedeLocal, timestamp: now, required: required, strict: quorum.strict, targets: targets)
        if config.coordinatorHints {
            write.uncovered = placement.primaries(for: key).filter { p in
                !targets.contains { $0.node == p || $0.hintFor == p }
            }
        }
        if config.plantedBug == .ackBeforeW {
            write.replied = true
            out.effects.append(.reply(client, .written(context: context, dot: nil)))
        }
        writes[request] = write
        out.effects.append(.setTimer(.request(request), after: config.requestTimeout))
        sendStamp(request, write, out: &out)
    }

    private func sendStamp(_ request: RequestID, _ w: PendingWrite, out: inout Output) {
        let t = w.targets[w.stamper]
        out.send(.stampPut(request: request, key: w.key, value: w.value, isTombstone: w.isTombstone,
                           context: w.context, supersedeLocal: w.supersedeLocal, timestamp: w.timestamp,
                           hintFor: t.hintFor), to: t.node, self: id)
    }

    mutating func writeStamped(_ request: RequestID, by node: NodeID, object: SiblingSet?, dot: Dot?, now: Tick,
                               out: inout Output) {
        guard let w = writes[request], w.targets[w.stamper].node == node, w.stamped == nil else { return }
        guard let object else {
            // Refused (hint capacity): let the next target stamp, if any.
            w.answered.append(node)
            w.stamper += 1
            if w.stamper < w.targets.count { sendStamp(request, w, out: &out) } else { finishIfDone(request, w, out: &out) }
            return
        }
        w.stamped = object
        w.dot = dot
        for owner in w.uncovered {
            // Best effort beyond the quorum: a full hint store refuses, nothing else changes.
            _ = replicaMerge(key: w.key, object: object, hintFor: owner, now: now, isReplicate: false)
        }
        w.acked.append(node)
        w.answered.append(node)
        for (i, t) in w.targets.enumerated() where i > w.stamper {
            out.send(.replicate(request: request, key: w.key, object: object, hintFor: t.hintFor), to: t.node, self: id)
        }
        checkWriteQuorum(request, w, out: &out)
    }

    mutating func writeReplicated(_ request: RequestID, by node: NodeID, accepted: Bool, out: inout Output) {
        guard let w = writes[request], w.stamped != nil, !w.answered.contains(node),
              w.targets.contains(where: { $0.node == node }) else { return }
        w.answered.append(node)
        if accepted { w.acked.append(node) }
        checkWriteQuorum(request, w, out: &out)
    }

    /// `w` is `writes[request]` (passed along so the table is looked up once per message).
    private mutating func checkWriteQuorum(_ request: RequestID, _ w: PendingWrite, out: inout Output) {
        if !w.replied, w.counted >= w.required, let stamped = w.stamped {
            w.replied = true
            out.effects.append(.reply(w.client, .written(context: stamped.context, dot: w.dot)))
        }
        finishIfDone(request, w, out: &out)
    }

    /// Forgets a write once every target answered (after replying).
    private mutating func finishIfDone(_ request: RequestID, _ w: PendingWrite, out: inout Output) {
        let allAnswered = w.answered.count >= w.targets.count
        if allAnswered {
            if !w.replied {
                out.effects.append(.reply(w.client, .notAcknowledged(acks: w.counted, required: w.required)))
            }
            if config.reapTombstones, w.isTombstone, let stamped = w.stamped, stamped.isDeleted,
               w.targets.count == config.n, w.targets.allSatisfy(\.isPrimary), w.acked.count == config.n {
                for t in w.targets {
                    out.send(.reapTombstones(key: w.key, context: stamped.context), to: t.node, self: id)
                }
            }
            writes[request] = nil
            out.effects.append(.cancelTimer(.request(request)))
        }
    }

    private mutating func startRead(key: [UInt8], quorum: Quorum, client: ClientRequestID, out: inout Output) {
        let required = config.quorum(quorum.count, default: config.r)
        let targets = orderedTargets(for: key, strict: quorum.strict)
        guard targets.count >= required else {
            out.effects.append(.reply(client, .unavailable(reachable: targets.count, required: required)))
            return
        }
        let request = nextRequestID()
        reads[request] = PendingRead(client: client, key: key, required: required, strict: quorum.strict, targets: targets)
        out.effects.append(.setTimer(.request(request), after: config.requestTimeout))
        for t in targets { out.send(.get(request: request, key: key), to: t.node, self: id) }
    }

    mutating func readAnswered(_ request: RequestID, by node: NodeID, object: SiblingSet?, out: inout Output) {
        guard let r = reads[request], r.targets.contains(where: { $0.node == node }),
              !r.answers.contains(where: { $0.node == node }) else { return }
        r.answers.append((node, object))
        if !r.replied && r.answers.count >= r.required {
            r.replied = true
            var merged = r.merged
            if config.lastWriteWins { merged = merged.resolvedLastWriteWins() }
            if config.repairBeforeReply { repair(r, out: &out) }
            out.effects.append(.reply(r.client, .value(merged)))
        }
        if r.answers.count == r.targets.count {
            repair(r, out: &out)
            reads[request] = nil
            out.effects.append(.cancelTimer(.request(request)))
        }
    }

    /// Sends the merged set to every answering replica that lacks part of it.
    private func repair(_ r: PendingRead, out: inout Output) {
        let merged = r.merged
        if merged.isEmpty { return }
        for a in r.answers where a.object != merged {
            let hintFor = r.targets.first { $0.node == a.node }?.hintFor
            out.send(.repair(key: r.key, object: merged, hintFor: hintFor), to: a.node, self: id)
        }
        r.repaired = true
    }

    mutating func requestTimedOut(_ request: RequestID, now: Tick, out: inout Output) {
        if let w = writes.removeValue(forKey: request) {
            if !w.replied {
                out.effects.append(.reply(w.client, .notAcknowledged(acks: w.counted, required: w.required)))
            }
            if config.coordinatorHints, let stamped = w.stamped {
                // Targets that never confirmed (crashed mid-request, message lost): keep a hinted copy
                // for each, so handoff retries until the owner has it (Cassandra's write-timeout hints).
                for t in w.targets where !w.answered.contains(t.node) {
                    let owner = t.hintFor ?? t.node
                    if owner != id {
                        _ = replicaMerge(key: w.key, object: stamped, hintFor: owner, now: now, isReplicate: false)
                    }
                }
            }
        } else if let r = reads.removeValue(forKey: request) {
            if !r.replied {
                out.effects.append(.reply(r.client, .readTimedOut(answered: r.answers.count, required: r.required)))
            }
            repair(r, out: &out)
        }
    }
}
