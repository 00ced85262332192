import KVHash

/// Fixed Q partitions placed on nodes by a balanced, movement-minimising claim (Dynamo's strategy 3,
/// Riak's ring, Redis Cluster slots). A key's partition is the top log2(Q) bits of its hash; a
/// precomputed table maps partitions to nodes, so lookup is one shift and one load.
///
/// Claim: node i's quota is its weighted share of Q (largest remainder; spare partitions go to the
/// nodes already holding most, then by id). Nodes above quota give up their surplus (a hash-spread
/// choice), orphaned partitions of departed nodes join them, and the pool is dealt round-robin, in
/// id order, to nodes below quota. From scratch this stripes partition p onto the (p mod n)-th node
/// by id; on a change (`rebalanced(to:)`) only the partitions that must move do.
public struct FixedPartitionRing: Partitioner {
    public let membership: Membership
    /// Q, a power of two.
    public let partitionCount: Int
    /// Owner of each partition (index into `membership.nodes`).
    public let partitionOwners: [Int32]
    @usableFromInline let shift: UInt64

    /// The initial claim for a membership.
    public init(membership: Membership, partitionCount: Int = 1024) {
        precondition(partitionCount > 0 && partitionCount & (partitionCount - 1) == 0, "partition count must be a power of two")
        let current = [Int32](repeating: -1, count: partitionCount)
        self.init(membership: membership, owners: Self.claim(current: current, membership: membership))
    }

    /// A ring with an explicit partition table (e.g. restored from a cluster's metadata).
    public init(membership: Membership, owners: [Int32]) {
        let q = owners.count
        precondition(q > 0 && q & (q - 1) == 0, "partition count must be a power of two")
        precondition(owners.allSatisfy { $0 >= 0 && Int($0) < membership.count }, "owner out of range")
        self.membership = membership
        self.partitionCount = q
        self.partitionOwners = owners
        self.shift = q == 1 ? 0 : UInt64(64 - (q.trailingZeroBitCount))
    }

    /// The same partitions re-claimed for a new membership, moving as few as the new quotas require.
    public func rebalanced(to newMembership: Membership) -> FixedPartitionRing {
        var newIndex: [String: Int32] = [:]
        for (i, node) in newMembership.nodes.enumerated() { newIndex[node.id] = Int32(i) }
        let current = partitionOwners.map { newIndex[membership.nodes[Int($0)].id] ?? -1 }
        return FixedPartitionRing(membership: newMembership, owners: Self.claim(current: current, membership: newMembership))
    }

    /// The partition a key falls in.
    @inlinable
    public func partition(of keyHash: UInt64) -> Int {
        shift == 0 ? 0 : Int(keyHash >> shift)
    }

    @inlinable
    public func owner(of keyHash: UInt64) -> NodeIndex {
        Int(partitionOwners[partition(of: keyHash)])
    }

    /// Distinct nodes owning the key's partition and the following partitions, owner first.
    public func preferenceList(for keyHash: UInt64, count: Int, into list: inout [NodeIndex]) {
        let first = partition(of: keyHash)
        let q = partitionCount
        partitionOwners.withUnsafeBufferPointer { owners in
            collectPreferenceList(count: count, membership: membership, steps: q, into: &list) { step in
                let p = first + step
                return Int(owners[p >= q ? p - q : p])
            }
        }
    }

    /// Number of partitions each node owns.
    public var partitionCounts: [Int] {
        var counts = [Int](repeating: 0, count: membership.count)
        for o in partitionOwners { counts[Int(o)] += 1 }
        return counts
    }

    /// Quotas (largest remainder over weights; ties to the nodes holding most, then by id).
    static func quotas(q: Int, membership: Membership, counts: [Int]) -> [Int] {
        let n = membership.count
        let totalWeight = membership.nodes.reduce(0) { $0 + $1.weight }
        var quota = [Int](repeating: 0, count: n)
        var fraction = [Double](repeating: 0, count: n)
        var assigned = 0
        for i in 0..<n {
            let exact = Double(q) * membership.nodes[i].weight / totalWeight
            quota[i] = Int(exact.rounded(.down))
            fraction[i] = exact - Double(quota[i])
            assigned += quota[i]
        }
        let order = (0..<n).sorted { a, b in
            if fraction[a] != fraction[b] { return fraction[a] > fraction[b] }
            if counts[a] != counts[b] { return counts[a] > counts[b] }
            return membership.nodes[a].id < membership.nodes[b].id
        }
        for k in 0..<(q - assigned) { quota[order[k % n]] += 1 }
        return quota
    }

    /// The claim: `current[p]` is p's owner in the new membership, or -1 if orphaned.
    static func claim(current: [Int32], membership: Membership) -> [Int32] {
        var owners = current
        let n = membership.count
        var counts = [Int](repeating: 0, count: n)
        for o in owners where o >= 0 { counts[Int(o)] += 1 }
        let quota = quotas(q: owners.count, membership: membership, counts: counts)
        // Surplus nodes release a hash-spread selection of their partitions.
        for i in 0..<n where counts[i] > quota[i] {
            let seed = XXH3.hash(membership.nodes[i].id)
            let mine = owners.indices.filter { owners[$0] == Int32(i) }
                .sorted { mix64(UInt64($0) ^ seed) > mix64(UInt64($1) ^ seed) }
            for p in mine.prefix(counts[i] - quota[i]) { owners[p] = -1 }
            counts[i] = quota[i]
        }
        // Deal the pool round-robin (in id order) to nodes below quota.
        let needy = membership.indicesSortedByID.filter { counts[$0] < quota[$0] }
        var cursor = 0
        for p in owners.indices where owners[p] < 0 {
            while counts[needy[cursor % needy.count]] >= quota[needy[cursor % needy.count]] { cursor += 1 }
            let node = needy[cursor % needy.count]
            owners[p] = Int32(node)
            counts[node] += 1
            cursor += 1
        }
        return owners
    }
}
