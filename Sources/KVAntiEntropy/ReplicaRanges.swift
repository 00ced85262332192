import KVCluster
import KVHash
import KVPartitioning

/// Names one replicated range: a 64-bit hash of its sorted replica ids, so every replica derives
/// the same id from the same membership without exchanging anything.
public struct RangeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let raw: UInt64

    public init(raw: UInt64) { self.raw = raw }

    /// The id of the range replicated by exactly these nodes (any order).
    public init(replicas: [NodeID]) {
        var bytes: [UInt8] = []
        for id in replicas.sorted() {
            bytes.append(contentsOf: id.utf8)
            bytes.append(0)
        }
        raw = XXH3.hash(bytes, seed: 0x4145_5247)  // "AERG"
    }

    public static func < (a: RangeID, b: RangeID) -> Bool { a.raw < b.raw }

    public var description: String {
        let hex = String(raw, radix: 16)
        return "range-" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// One unit of anti-entropy: the token-ring arcs whose preference lists hold the same N nodes.
/// Every replica of those arcs holds exactly the same keys for them (hinted copies aside), so they
/// build comparable trees over the group.
public struct ReplicaRange: Equatable, Sendable {
    public let id: RangeID
    /// The replicas, sorted by id.
    public let replicas: [NodeID]
    /// How many token arcs the range groups.
    public let arcCount: Int
}

/// The ranges one node replicates, and which range a key belongs to, derived from `Placement`.
///
/// The ring's arcs are the spans between consecutive tokens; each arc's N-node preference list is
/// its replica set. Arcs sharing a replica set are grouped into one `ReplicaRange` (a Dynamo-style
/// "key range" per replica set), which keeps the number of trees small with many vnodes: at most
/// one per distinct replica set this node is part of.
public struct ReplicaRanges: Sendable {
    /// This node.
    public let node: NodeID
    public let placement: Placement
    /// The ranges this node replicates, sorted by id.
    public let ranges: [ReplicaRange]
    /// For each token arc, the index in `ranges` of its range, or -1 when this node does not replicate it.
    let arcRange: [Int32]
    private let indexByID: [RangeID: Int]

    public init(placement: Placement, node: NodeID) {
        self.node = node
        self.placement = placement
        let ring = placement.ring
        let nodes = ring.membership.nodes
        var groups: [RangeID: (replicas: [NodeID], arcs: [Int])] = [:]
        for arc in ring.tokens.indices {
            let replicas = ring.preferenceList(for: ring.tokens[arc], count: placement.n).map { nodes[$0].id }.sorted()
            guard replicas.contains(node) else { continue }
            let id = RangeID(replicas: replicas)
            groups[id, default: (replicas, [])].arcs.append(arc)
        }
        let sorted = groups.keys.sorted()
        var arcRange = [Int32](repeating: -1, count: ring.tokens.count)
        var ranges: [ReplicaRange] = []
        var indexByID: [RangeID: Int] = [:]
        for (i, id) in sorted.enumerated() {
            let g = groups[id]!
            ranges.append(ReplicaRange(id: id, replicas: g.replicas, arcCount: g.arcs.count))
            indexByID[id] = i
            for arc in g.arcs { arcRange[arc] = Int32(i) }
        }
        self.ranges = ranges
        self.arcRange = arcRange
        self.indexByID = indexByID
    }

    /// Index in `ranges` of the range holding a key with this hash, or nil when this node is not
    /// one of the key's replicas (a hinted copy, or not ours at all).
    public func rangeIndex(forKeyHash keyHash: UInt64) -> Int? {
        let r = arcRange[placement.ring.tokenIndex(for: keyHash)]
        return r < 0 ? nil : Int(r)
    }

    /// Index in `ranges` of the range with this id.
    public func rangeIndex(of id: RangeID) -> Int? { indexByID[id] }

    /// What this node syncs: each range with its other replicas. With `initiatorOnly`, only the
    /// peers whose id sorts after this node's, so each pair of replicas runs one periodic session
    /// per range instead of two (a session repairs both sides).
    public func syncPairs(initiatorOnly: Bool = false) -> [(range: RangeID, peers: [NodeID])] {
        ranges.compactMap { r in
            let peers = r.replicas.filter { $0 != node && (!initiatorOnly || $0 > node) }
            return peers.isEmpty ? nil : (r.id, peers)
        }
    }
}
