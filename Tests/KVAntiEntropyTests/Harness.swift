import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning

/// A deterministic 64-bit generator for the property tests (SplitMix64).
struct Rng {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// Replicas of a small cluster, each an `InMemoryLocalStore` behind an `AntiEntropyStore` with
/// its `AntiEntropyNode`. Writes go straight to one replica's store (as during a partition with
/// hints disabled); `run` delivers the anti-entropy messages and applies the merges until quiet.
final class Replicas {
    let ids: [NodeID]
    let placement: Placement
    var stores: [NodeID: AntiEntropyStore] = [:]
    var nodes: [NodeID: AntiEntropyNode] = [:]
    var queue: [(from: NodeID, to: NodeID, bytes: [UInt8])] = []
    var reports: [SessionReport] = []
    var rejected = 0
    var now: Tick = 0
    /// Frames seen in flight, for tests that tamper with them.
    var tamper: ((inout [UInt8]) -> Void)?

    init(count: Int, n: Int, shape: MerkleShape = .standard, config: AntiEntropyConfig = Replicas.unlimited) {
        ids = (0..<count).map { "n\($0)" }
        let membership = try! Membership(ids.map { Node(id: $0) })
        placement = Placement(membership: membership, n: n, tokensPerNode: 8)
        for (i, id) in ids.enumerated() {
            let index = AntiEntropyIndex(ranges: ReplicaRanges(placement: placement, node: id), shape: shape)
            let store = AntiEntropyStore(wrapping: InMemoryLocalStore(), index: index)
            stores[id] = store
            nodes[id] = AntiEntropyNode(id: id, index: index, source: store, config: config, sessionIDBase: UInt32(i + 1))
        }
    }

    static var unlimited: AntiEntropyConfig {
        var c = AntiEntropyConfig()
        c.bytesPerSecond = nil
        c.maxBucketsPerSession = 1 << 20
        return c
    }

    func key(_ i: Int) -> [UInt8] { Array("key-\(i)".utf8) }

    /// Stamps a write on one replica only (its own actor, epoch 1), superseding what `context` covers.
    @discardableResult
    func write(_ node: NodeID, _ key: [UInt8], _ value: [UInt8], context: VersionVector? = nil,
               tombstone: Bool = false) -> SiblingSet {
        let store = stores[node]!
        var object = store.object(for: key) ?? StoredObject()
        let ctx = context ?? object.siblings.context
        object.siblings.update(clientContext: ctx, actor: Actor(node: node, epoch: 1), value: value,
                               isTombstone: tombstone, timestamp: now)
        store.setObject(object, for: key)
        return object.siblings
    }

    /// Puts the same set on every replica of the key (a fully replicated write).
    func writeEverywhere(_ key: [UInt8], _ set: SiblingSet) {
        for r in placement.primaries(for: key) { stores[r]!.setObject(StoredObject(siblings: set), for: key) }
    }

    func set(_ node: NodeID, _ key: [UInt8]) -> SiblingSet? { stores[node]!.siblings(for: key) }

    func event(_ node: NodeID, _ e: AntiEntropyEvent) {
        var n = nodes[node]!
        let effects = n.handle(e, now: now)
        nodes[node] = n
        for effect in effects {
            switch effect {
            case let .send(to, bytes): queue.append((node, to, bytes))
            case let .merge(key, siblings, _):
                let store = stores[node]!
                var object = store.object(for: key) ?? StoredObject()
                object.siblings.sync(siblings)
                store.setObject(object, for: key)
            case let .finished(report): reports.append(report)
            case .rejected: rejected += 1
            }
        }
    }

    /// Delivers messages until none are left.
    func pump() {
        while !queue.isEmpty {
            var (from, to, bytes) = queue.removeFirst()
            now += 1
            tamper?(&bytes)
            event(to, .received(from: from, bytes: bytes))
        }
    }

    /// One session for every range between `a` and `b` (a initiates), delivered to the end.
    func sync(_ a: NodeID, _ b: NodeID) {
        for pair in nodes[a]!.index.ranges.syncPairs() where pair.peers.contains(b) {
            event(a, .start(range: pair.range, peer: b))
            pump()
        }
    }

    /// `KV.REPAIR` on every node, delivered to the end.
    func repairEverywhere() {
        for id in ids {
            event(id, .repairAll)
            pump()
            while nodes[id]!.queuedSessionCount > 0 {
                event(id, .tick)
                pump()
            }
        }
    }

    /// Per key, the merge of every replica's set: what all of them must hold once repaired.
    func mergedAcrossReplicas(_ keys: [[UInt8]]) -> [[UInt8]: SiblingSet] {
        var merged: [[UInt8]: SiblingSet] = [:]
        for k in keys {
            var m = SiblingSet()
            for id in placement.primaries(for: k) { if let s = set(id, k) { m.sync(s) } }
            merged[k] = m
        }
        return merged
    }

    /// Keys whose sets differ between the replicas that hold them.
    func divergentKeys(_ keys: [[UInt8]]) -> [[UInt8]] {
        keys.filter { k in
            let sets = placement.primaries(for: k).map { set($0, k) }
            return sets.contains { $0 != sets[0] }
        }
    }

    /// Initiator-side reports (they count both directions).
    var initiatorReports: [SessionReport] { reports.filter(\.isInitiator) }
}
