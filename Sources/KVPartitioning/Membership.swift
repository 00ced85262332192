import KVHash

/// Position of a node in a `Membership`'s `nodes` array; what every partitioner returns.
public typealias NodeIndex = Int

/// One physical node of a cluster: a stable id, an optional failure domain and a relative capacity.
public struct Node: Hashable, Sendable {
    /// Stable, unique identifier (host name, UUID...). All placement derives from it.
    public let id: String
    /// Rack or availability zone; preference lists spread replicas over distinct zones when set.
    public let zone: String?
    /// Relative capacity (default 1). Honoured by the vnode ring, fixed partitions and rendezvous.
    public let weight: Double

    public init(id: String, zone: String? = nil, weight: Double = 1) {
        self.id = id
        self.zone = zone
        self.weight = weight
    }
}

/// Why a list of nodes is not a valid membership.
public enum MembershipError: Error, Equatable, Sendable {
    case empty
    case duplicateID(String)
    case invalidWeight(String)
}

/// The set of nodes a partitioner places keys on, in join order.
///
/// Every scheme except jump hashing is independent of the order of `nodes` (tokens and scores
/// derive from ids; ties break by id; the fixed-partition claim sorts by id). Jump hashing numbers
/// its buckets by position, so `nodes` is kept in the order given: append joiners, remove from the end.
public struct Membership: Sendable, Equatable {
    /// The nodes, in the order given (join order).
    public let nodes: [Node]
    /// For each node, a small integer naming its zone; nodes without a zone get a zone of their own.
    public let zoneIndex: [Int32]
    /// Number of distinct zones (counting each zone-less node as one).
    public let zoneCount: Int
    /// True when every node has the same weight.
    public let isUniformWeight: Bool

    public init(_ nodes: [Node]) throws(MembershipError) {
        guard !nodes.isEmpty else { throw .empty }
        var seen = Set<String>()
        var zones: [String: Int32] = [:]
        var zoneIndex: [Int32] = []
        zoneIndex.reserveCapacity(nodes.count)
        var next: Int32 = 0
        for node in nodes {
            guard seen.insert(node.id).inserted else { throw .duplicateID(node.id) }
            guard node.weight > 0, node.weight.isFinite else { throw .invalidWeight(node.id) }
            if let zone = node.zone {
                if let z = zones[zone] {
                    zoneIndex.append(z)
                } else {
                    zones[zone] = next
                    zoneIndex.append(next)
                    next += 1
                }
            } else {
                zoneIndex.append(next)
                next += 1
            }
        }
        self.nodes = nodes
        self.zoneIndex = zoneIndex
        self.zoneCount = Int(next)
        let w = nodes[0].weight
        self.isUniformWeight = nodes.allSatisfy { $0.weight == w }
    }

    /// `count` nodes named `prefix0`, `prefix1`, ... (the lab's clusters).
    public static func named(count: Int, prefix: String = "node-", zones: Int = 0) -> Membership {
        precondition(count > 0)
        let nodes = (0..<count).map { i in
            Node(id: prefix + String(i), zone: zones > 0 ? "zone-" + String(i % zones) : nil)
        }
        return try! Membership(nodes)
    }

    /// Number of nodes.
    @inlinable public var count: Int { nodes.count }

    /// Index of the node with this id, if present.
    public func index(of id: String) -> NodeIndex? {
        nodes.firstIndex { $0.id == id }
    }

    /// Node indices sorted by id: the canonical order used to break ties.
    public var indicesSortedByID: [NodeIndex] {
        nodes.indices.sorted { nodes[$0].id < nodes[$1].id }
    }

    /// A membership with `added` appended (join order) — throws on duplicate ids.
    public func adding(_ added: [Node]) throws(MembershipError) -> Membership {
        try Membership(nodes + added)
    }

    /// A membership without the nodes whose ids are listed.
    public func removing(ids: Set<String>) throws(MembershipError) -> Membership {
        try Membership(nodes.filter { !ids.contains($0.id) })
    }
}

/// A fast 64-bit finaliser (xor-shift-multiply) used to combine a key hash with a per-node seed
/// where one XXH3 call per (key, node) pair would dominate the cost (rendezvous scoring).
@inlinable
public func mix64(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z &>> 32)) &* 0xD6E8_FEB8_6659_FD93
    z = (z ^ (z &>> 32)) &* 0xD6E8_FEB8_6659_FD93
    return z ^ (z &>> 32)
}
