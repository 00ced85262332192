import KVHash
import KVPartitioning

/// Where one request goes: a node and, for a fallback, the primary it stands in for.
public struct ReplicaTarget: Equatable, Sendable {
    public var node: NodeID
    /// The down primary this fallback holds the write for (nil: `node` is a true replica).
    public var hintFor: NodeID?
    public var isPrimary: Bool { hintFor == nil }

    public init(node: NodeID, hintFor: NodeID? = nil) {
        self.node = node
        self.hintFor = hintFor
    }
}

/// Preference lists on the token ring, with sloppy-quorum substitution of down primaries.
public struct Placement: Sendable {
    public let ring: TokenRing
    public let n: Int
    /// `primariesAt[i]`: the N primaries of every key whose first token clockwise is `ring.tokens[i]`.
    /// A ring has few tokens (nodes × tokens per node), so the lists are computed once here and a
    /// request's lookup is a hash, a token search and no allocation.
    private let primariesAt: [[NodeID]]

    public init(membership: Membership, n: Int, tokensPerNode: Int) {
        ring = TokenRing(membership: membership, tokensPerNode: tokensPerNode)
        self.n = n
        let nodes = membership.nodes
        var list: [NodeIndex] = []
        var lists: [[NodeID]] = []
        lists.reserveCapacity(ring.tokens.count)
        for token in ring.tokens {
            // A key hashed onto a token belongs to that token's arc.
            ring.preferenceList(for: token, count: n, into: &list)
            lists.append(list.map { nodes[$0].id })
        }
        primariesAt = lists
    }

    /// The key's hash (XXH3-64 of its bytes).
    public static func hash(_ key: [UInt8]) -> UInt64 { XXH3.hash(key) }

    /// The key's N true replicas, owner first.
    public func primaries(for key: [UInt8]) -> [NodeID] {
        primaries(forKeyHash: Self.hash(key))
    }

    /// The N true replicas of a key hash, owner first.
    public func primaries(forKeyHash keyHash: UInt64) -> [NodeID] {
        primariesAt.isEmpty ? [] : primariesAt[ring.tokenIndex(for: keyHash)]
    }

    /// The nodes to contact: each primary believed up, and for each one believed down (unless
    /// `strict`) the next node along the ring beyond the primaries that is believed up.
    public func targets(for key: [UInt8], strict: Bool, isUp: (NodeID) -> Bool) -> [ReplicaTarget] {
        let keyHash = Self.hash(key)
        let primaries = primaries(forKeyHash: keyHash)
        if primaries.allSatisfy(isUp) {
            // The usual case: every primary is up, no walk beyond them.
            return primaries.map { ReplicaTarget(node: $0) }
        }
        let nodes = ring.membership.nodes
        let walk = ring.preferenceList(for: keyHash, count: nodes.count).map { nodes[$0].id }
        let primaryCount = min(n, walk.count)
        var targets: [ReplicaTarget] = []
        var nextFallback = primaryCount
        for p in walk[0..<primaryCount] {
            if isUp(p) {
                targets.append(ReplicaTarget(node: p))
            } else if !strict {
                while nextFallback < walk.count && !isUp(walk[nextFallback]) { nextFallback += 1 }
                if nextFallback < walk.count {
                    targets.append(ReplicaTarget(node: walk[nextFallback], hintFor: p))
                    nextFallback += 1
                }
            }
        }
        return targets
    }
}
