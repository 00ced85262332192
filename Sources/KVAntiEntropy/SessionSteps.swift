import KVCluster
import KVVersioning

/// The exchange itself: each step compares what the peer sent with the local tree or keys and
/// answers with the next step.
extension AntiEntropyNode {
    /// Initiates a session: sends the range's root.
    mutating func begin(range: RangeID, peer: NodeID, now: Tick, out: inout [AntiEntropyEffect]) {
        guard let r = index.ranges.rangeIndex(of: range), peer != id else { return }
        let key = SessionKey(peer: peer, id: nextSessionID(), initiatedHere: true)
        sessions[key] = Session(rangeIndex: r, stage: .digests(level: 1), lastActivity: now,
                                report: SessionReport(session: key.id, peer: peer, range: range, isInitiator: true, startedAt: now))
        sessions[key]!.report.treeNodesExchanged = 1
        send(.begin(range: range, shape: index.shape, root: index.trees[r].root), in: key, now: now, out: &out)
    }

    mutating func receive(_ message: AntiEntropyMessage, from peer: NodeID, size: Int, now: Tick,
                          out: inout [AntiEntropyEffect]) {
        // A message from the initiator belongs to a session the peer started, and vice versa.
        let key = SessionKey(peer: peer, id: message.session, initiatedHere: !message.fromInitiator)
        if case let .begin(range, shape, root) = message.body {
            guard message.fromInitiator else { return }
            respond(key, range: range, shape: shape, root: root, size: size, now: now, out: &out)
            return
        }
        // Unknown sessions (finished, timed out, or never started) are ignored.
        guard var s = sessions[key] else { return }
        s.report.messagesReceived += 1
        s.report.bytesReceived += size
        // The responder compared the roots unless it refused the session outright.
        if case .abort = message.body {} else { s.report.rangesCompared = 1 }
        s.lastActivity = now
        sessions[key] = s
        switch (message.body, s.stage) {
        case (.abort(let reason), _):
            finish(key, outcome: .aborted(reason), now: now, out: &out)
        case (.inSync, .digests), (.inSync, .entries):
            finish(key, outcome: .inSync, now: now, out: &out)
        case let (.digests(level, parents, digests), .digests(expected)) where level == expected:
            compareLevel(key, level: level, parents: parents, remote: digests, now: now, out: &out)
        case let (.entries(buckets), .entries):
            compareBuckets(key, buckets, now: now, out: &out)
        case let (.objects(sets, want, isLast, more), .objects):
            if more { sessions[key]!.report.truncated = true }
            mergeIncoming(key, sets, now: now, out: &out)
            if !isLast {
                var answer = ObjectBatch(limit: config.maxObjectBytesPerMessage)
                for k in want {
                    guard let set = localSet(k, range: s.rangeIndex) else { continue }
                    if !answer.add(set) { break }
                }
                record(answer, in: key)
                send(.objects(sets: answer.sets, want: [], isLast: true, more: answer.isFull), in: key, now: now, out: &out)
            }
            finish(key, outcome: .inSync, now: now, out: &out)
        case let (.objects(sets, want, isLast, more), .finalObjects) where isLast && want.isEmpty:
            if more { sessions[key]!.report.truncated = true }
            mergeIncoming(key, sets, now: now, out: &out)
            finish(key, outcome: .inSync, now: now, out: &out)
        default:
            abort(key, .protocolError, now: now, out: &out)
        }
    }

    /// Responder: compares the initiator's root and, when it differs, sends the root's children.
    private mutating func respond(_ key: SessionKey, range: RangeID, shape: MerkleShape, root: UInt64, size: Int,
                                  now: Tick, out: inout [AntiEntropyEffect]) {
        var report = SessionReport(session: key.id, peer: key.peer, range: range, isInitiator: false, startedAt: now)
        report.messagesReceived = 1
        report.bytesReceived = size
        report.treeNodesExchanged = 1
        // A repeated id (the peer restarted) replaces the old session silently.
        let responding = sessions.keys.reduce(0) { $0 + ($1.initiatedHere || $1 == key ? 0 : 1) }
        sessions[key] = Session(rangeIndex: 0, stage: .digests(level: 1), lastActivity: now, report: report)
        guard responding < config.maxResponderSessions else { return abort(key, .busy, now: now, out: &out) }
        guard let r = index.ranges.rangeIndex(of: range) else { return abort(key, .unknownRange, now: now, out: &out) }
        guard shape == index.shape else { return abort(key, .shapeMismatch, now: now, out: &out) }
        sessions[key]!.rangeIndex = r
        sessions[key]!.report.rangesCompared = 1
        let tree = index.trees[r]
        if tree.root == root {
            send(.inSync, in: key, now: now, out: &out)
            return finish(key, outcome: .inSync, now: now, out: &out)
        }
        sendLevel(key, level: 1, parents: [0], tree: tree, now: now, out: &out)
    }

    /// Sends this side's digests of `level` under `parents` and sets what must come back.
    private mutating func sendLevel(_ key: SessionKey, level: Int, parents: [Int], tree: MerkleTree, now: Tick,
                                    out: inout [AntiEntropyEffect]) {
        var digests: [UInt64] = []
        digests.reserveCapacity(parents.count * tree.shape.fanout)
        for p in parents { digests.append(contentsOf: tree.children(ofParent: p, atLevel: level)) }
        sessions[key]!.stage = level == tree.shape.depth ? .entries : .digests(level: level + 1)
        sessions[key]!.report.treeNodesExchanged += digests.count
        sessions[key]!.report.levelsDescended = level
        send(.digests(level: level, parents: parents, digests: digests), in: key, now: now, out: &out)
    }

    /// Compares the peer's digests of one level; descends into the differing nodes, or at the
    /// leaves lists the keys of the differing buckets.
    private mutating func compareLevel(_ key: SessionKey, level: Int, parents: [Int], remote: [UInt64], now: Tick,
                                       out: inout [AntiEntropyEffect]) {
        let s = sessions[key]!
        let tree = index.trees[s.rangeIndex]
        guard level <= tree.shape.depth,
              var differing = tree.differingChildren(level: level, parents: parents, remote: remote) else {
            return abort(key, .protocolError, now: now, out: &out)
        }
        sessions[key]!.report.treeNodesExchanged += remote.count
        sessions[key]!.report.levelsDescended = level
        if differing.isEmpty {
            send(.inSync, in: key, now: now, out: &out)
            return finish(key, outcome: .inSync, now: now, out: &out)
        }
        if differing.count > config.maxBucketsPerSession {
            differing.removeLast(differing.count - config.maxBucketsPerSession)
            sessions[key]!.report.truncated = true
        }
        if level < tree.shape.depth {
            return sendLevel(key, level: level + 1, parents: differing, tree: tree, now: now, out: &out)
        }
        var buckets: [BucketEntries] = []
        buckets.reserveCapacity(differing.count)
        var listed = 0
        for b in differing {
            let keys = index.entries(range: s.rangeIndex, bucket: b).compactMap { e -> KeyVersion? in
                guard let set = source.siblings(for: e.key) else { return nil }
                return KeyVersion(key: e.key, digest: e.digest, context: set.context)
            }
            listed += keys.count
            buckets.append(BucketEntries(bucket: b, keys: keys))
        }
        sessions[key]!.report.bucketsDiffering = differing.count
        sessions[key]!.report.keyEntriesExchanged += listed
        sessions[key]!.stage = .objects
        send(.entries(buckets), in: key, now: now, out: &out)
    }

    /// Compares the peer's keys of the differing buckets with this side's: sends the sets the peer
    /// lacks or holds older, and asks for the ones this side lacks or holds older.
    private mutating func compareBuckets(_ key: SessionKey, _ buckets: [BucketEntries], now: Tick,
                                         out: inout [AntiEntropyEffect]) {
        let r = sessions[key]!.rangeIndex
        let shape = index.shape
        guard buckets.count <= max(config.maxBucketsPerSession, 1),
              buckets.indices.allSatisfy({ $0 == 0 || buckets[$0 - 1].bucket < buckets[$0].bucket }),
              buckets.allSatisfy({ $0.bucket < shape.leafCount }) else {
            return abort(key, .protocolError, now: now, out: &out)
        }
        var sendSets = ObjectBatch(limit: config.maxObjectBytesPerMessage)
        var want: [[UInt8]] = []
        var listed = 0
        for b in buckets where !sendSets.isFull {
            listed += b.keys.count
            var mine: [[UInt8]: UInt64] = [:]
            for e in index.entries(range: r, bucket: b.bucket) { mine[e.key] = e.digest }
            for theirs in b.keys {
                // Only keys that really fall in this range and bucket are compared.
                guard let loc = index.location(of: theirs.key), loc.range == r, loc.bucket == b.bucket else { continue }
                guard let digest = mine.removeValue(forKey: theirs.key),
                      let set = source.siblings(for: theirs.key) else {
                    want.append(theirs.key)
                    continue
                }
                if digest == theirs.digest { continue }
                // Send unless the peer's history strictly descends ours; want theirs unless ours
                // strictly descends theirs. Equal contexts with different sets go both ways.
                let order = set.context.compare(theirs.context)
                if order != .before { _ = sendSets.add(KeyedSet(key: theirs.key, siblings: set)) }
                if order != .after { want.append(theirs.key) }
            }
            for k in mine.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                if let set = source.siblings(for: k) { _ = sendSets.add(KeyedSet(key: k, siblings: set)) }
            }
        }
        sessions[key]!.report.bucketsDiffering = buckets.count
        sessions[key]!.report.keyEntriesExchanged += listed
        record(sendSets, in: key)
        let isLast = want.isEmpty
        sessions[key]!.stage = .finalObjects
        let more = sessions[key]!.report.truncated
        send(.objects(sets: sendSets.sets, want: want, isLast: isLast, more: more), in: key, now: now, out: &out)
        if isLast { finish(key, outcome: .inSync, now: now, out: &out) }
    }

    /// Hands received sets to the store (only keys of the session's range) and counts them.
    private mutating func mergeIncoming(_ key: SessionKey, _ sets: [KeyedSet], now: Tick,
                                        out: inout [AntiEntropyEffect]) {
        let r = sessions[key]!.rangeIndex
        for s in sets {
            guard index.location(of: s.key)?.range == r else { continue }
            sessions[key]!.report.keysReceived += 1
            sessions[key]!.report.differingObjectBytes += AntiEntropyCoding.objectSize(s)
            out.append(.merge(key: s.key, siblings: s.siblings, from: key.peer))
        }
    }

    /// Counts a batch about to be sent; a batch cut short by its byte limit leaves work for the next session.
    private mutating func record(_ batch: ObjectBatch, in key: SessionKey) {
        sessions[key]!.report.keysSent += batch.sets.count
        sessions[key]!.report.differingObjectBytes += batch.bytes
        if batch.isFull { sessions[key]!.report.truncated = true }
    }

    /// The local set of a wanted key, if it belongs to the range.
    private func localSet(_ key: [UInt8], range: Int) -> KeyedSet? {
        guard index.location(of: key)?.range == range, let set = source.siblings(for: key) else { return nil }
        return KeyedSet(key: key, siblings: set)
    }
}

/// Sets gathered for one `.objects` message, up to a byte limit (the first set always fits, however big).
struct ObjectBatch {
    let limit: Int
    private(set) var sets: [KeyedSet] = []
    private(set) var bytes = 0
    /// True once a set was refused for lack of room.
    private(set) var isFull = false

    init(limit: Int) { self.limit = limit }

    /// Adds a set unless it would pass the limit; false when refused.
    mutating func add(_ set: KeyedSet) -> Bool {
        if isFull { return false }
        let size = AntiEntropyCoding.objectSize(set)
        if !sets.isEmpty && bytes + size > limit {
            isFull = true
            return false
        }
        sets.append(set)
        bytes += size
        return true
    }
}
