import KVHash
import KVPartitioning
import KVVersioning

/// The geometry of a `MerkleTree`: `depth` levels below the root, each node with `2^fanoutBits`
/// children, so `2^(fanoutBits × depth)` leaves. Two replicas can compare trees only of one shape.
public struct MerkleShape: Hashable, Sendable, CustomStringConvertible {
    /// Children per interior node, as a power of two (1...8).
    public let fanoutBits: Int
    /// Levels below the root (the leaves are level `depth`).
    public let depth: Int

    /// Most leaves a tree may have (2^20: 8 MiB of leaf digests).
    public static let maxLeafBits = 20

    /// 2^12 leaves, fanout 16: about 36 KiB per tree, a good fit up to ~100k keys per range.
    public static let standard = MerkleShape(validFanoutBits: 4, depth: 3)

    /// A shape, or nil when the fanout is outside 1...8 bits or the leaf count outside 2^1...2^20.
    public init?(fanoutBits: Int, depth: Int) {
        guard (1...8).contains(fanoutBits), depth >= 1, fanoutBits * depth <= Self.maxLeafBits else { return nil }
        self.fanoutBits = fanoutBits
        self.depth = depth
    }

    init(validFanoutBits: Int, depth: Int) {
        fanoutBits = validFanoutBits
        self.depth = depth
    }

    /// Fanout 16 with about one leaf per key expected in a range (Riak's AAE aims at the same),
    /// between 2^8 and 2^16 leaves: fewer keys per differing bucket to list, at 8 bytes a leaf.
    /// Every replica of a cluster must pick the same shape (derive it from cluster-wide settings).
    public static func suggested(keysPerRange: Int) -> MerkleShape {
        var depth = 2
        while depth < 4 && 1 << (4 * depth) < keysPerRange { depth += 1 }
        return MerkleShape(validFanoutBits: 4, depth: depth)
    }

    public var fanout: Int { 1 << fanoutBits }
    public var leafBits: Int { fanoutBits * depth }
    public var leafCount: Int { 1 << leafBits }

    /// Nodes at `level` (1 at the root, `leafCount` at `depth`).
    public func nodeCount(atLevel level: Int) -> Int { 1 << (fanoutBits * level) }

    /// The leaf (bucket) a key falls in. The key hash's top bits place it on the ring, which makes
    /// them nearly constant within one range; a mixed hash spreads the keys over the buckets.
    public func bucket(forKeyHash keyHash: UInt64) -> Int {
        Int(truncatingIfNeeded: mix64(keyHash ^ 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - leafBits))
    }

    public var description: String { "\(fanout)^\(depth)" }
}

/// A fixed-depth hash tree over one range's (key, version) pairs.
///
/// Each key contributes one 64-bit digest (XXH3 of its encoded sibling set, seeded with the key's
/// hash). A node's digest is the XOR of the digests of every key below it, so the combination is
/// order-independent and an insert, change or delete updates the path from its leaf to the root
/// in O(depth) — no rescan. Distinct key sets collide only by 64-bit chance.
public struct MerkleTree: Equatable, Sendable {
    public let shape: MerkleShape
    /// `levels[l]` holds the `shape.nodeCount(atLevel: l)` digests of level `l`; `levels[0]` is the root.
    public private(set) var levels: [[UInt64]]

    /// An empty tree (every digest 0).
    public init(shape: MerkleShape) {
        self.shape = shape
        levels = (0...shape.depth).map { [UInt64](repeating: 0, count: shape.nodeCount(atLevel: $0)) }
    }

    /// A tree built from scratch from (bucket, digest) pairs (what incremental updates must equal).
    public init(shape: MerkleShape, entries: some Sequence<(bucket: Int, digest: UInt64)>) {
        self.init(shape: shape)
        for e in entries { toggle(bucket: e.bucket, digest: e.digest) }
    }

    /// The root digest (0 for an empty range).
    public var root: UInt64 { levels[0][0] }

    /// The leaf digests (level `depth`).
    public var leaves: [UInt64] { levels[shape.depth] }

    /// Digest of node `index` at `level`.
    public func digest(level: Int, index: Int) -> UInt64 { levels[level][index] }

    /// The `fanout` digests of the children of node `parent` at `level - 1`, i.e. nodes of `level`.
    public func children(ofParent parent: Int, atLevel level: Int) -> ArraySlice<UInt64> {
        let f = shape.fanout
        return levels[level][(parent * f)..<((parent + 1) * f)]
    }

    /// XORs a key digest in or out of `bucket` and every ancestor: adding and removing are the same
    /// operation.
    public mutating func toggle(bucket: Int, digest: UInt64) {
        if digest == 0 { return }
        var index = bucket
        var level = shape.depth
        while level >= 0 {
            levels[level][index] ^= digest
            index >>= shape.fanoutBits
            level -= 1
        }
    }

    /// Replaces a key's digest: `old` nil for an insert, `new` nil for a delete.
    public mutating func update(bucket: Int, old: UInt64?, new: UInt64?) {
        toggle(bucket: bucket, digest: (old ?? 0) ^ (new ?? 0))
    }

    /// Nodes of `level` whose digests differ from `remote`, which holds the `fanout` children of
    /// each of `parents` (nodes of `level - 1`), in order. Nil when the sizes or indices do not fit.
    public func differingChildren(level: Int, parents: [Int], remote: [UInt64]) -> [Int]? {
        guard level >= 1, level <= shape.depth, remote.count == parents.count * shape.fanout else { return nil }
        let parentCount = shape.nodeCount(atLevel: level - 1)
        var out: [Int] = []
        var r = 0
        let row = levels[level]
        for p in parents {
            guard p >= 0, p < parentCount else { return nil }
            let first = p << shape.fanoutBits
            for child in first..<(first + shape.fanout) {
                if row[child] != remote[r] { out.append(child) }
                r += 1
            }
        }
        return out
    }

    /// Leaves (buckets) whose digests differ from a remote tree's leaf level.
    public func differingBuckets(against remoteLeaves: [UInt64]) -> [Int] {
        let mine = leaves
        guard remoteLeaves.count == mine.count else { return Array(mine.indices) }
        return mine.indices.filter { mine[$0] != remoteLeaves[$0] }
    }

    /// The digest one key contributes: XXH3 of the set's stored encoding, seeded with the key hash
    /// (so equal sets under different keys differ). Never 0 (0 means "absent").
    public static func keyDigest(keyHash: UInt64, siblings: SiblingSet) -> UInt64 {
        let d = SiblingSetCoding.withEncoding(siblings) { XXH3.hash($0, seed: keyHash) }
        return d == 0 ? 1 : d
    }
}
