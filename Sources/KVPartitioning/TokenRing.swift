import KVHash

/// A consistent-hash ring (Karger et al. 1997): each node places tokens on a 64-bit circle and owns
/// the arc ending at each of its tokens; a key belongs to the first token clockwise from its hash.
///
/// `tokensPerNode == 1` is the classic one-token ring; larger values are virtual nodes (Dynamo,
/// Cassandra). Token `i` of a node is `XXH3(node.id, seed: i)`; a node of weight w places
/// `max(1, round(w × tokensPerNode))` tokens. Equal tokens are ordered by node id, so the ring
/// depends only on the membership. Lookup: a top-bits bucket index narrows the sorted token array to
/// about one token, so `owner(of:)` is O(1) expected and allocation-free.
public struct TokenRing: Partitioner {
    public let membership: Membership
    /// Tokens per node of weight 1.
    public let tokensPerNode: Int
    /// Sorted token positions.
    public let tokens: [UInt64]
    /// `owners[i]` owns the arc ending at `tokens[i]`.
    public let owners: [Int32]
    @usableFromInline let bucketStart: [Int32]
    @usableFromInline let bucketShift: UInt64

    public init(membership: Membership, tokensPerNode: Int = 256) {
        precondition(tokensPerNode > 0, "tokensPerNode must be positive")
        self.membership = membership
        self.tokensPerNode = tokensPerNode
        var entries: [(token: UInt64, node: Int32)] = []
        for (index, node) in membership.nodes.enumerated() {
            let k = max(1, Int((node.weight * Double(tokensPerNode)).rounded()))
            entries.reserveCapacity(entries.count + k)
            for t in 0..<k {
                entries.append((XXH3.hash(node.id, seed: UInt64(t)), Int32(index)))
            }
        }
        let nodes = membership.nodes
        entries.sort { a, b in
            a.token != b.token ? a.token < b.token : nodes[Int(a.node)].id < nodes[Int(b.node)].id
        }
        tokens = entries.map(\.token)
        owners = entries.map(\.node)
        // Bucket index over the top `bits` bits: about one token per bucket.
        var bits = 1
        while (1 << bits) < entries.count && bits < 20 { bits += 1 }
        let bucketCount = 1 << bits
        let shift = UInt64(64 - bits)
        var start = [Int32](repeating: 0, count: bucketCount + 1)
        var i = 0
        for b in 0...bucketCount {
            while i < entries.count && Int(entries[i].token >> shift) < b { i += 1 }
            start[b] = Int32(i)
        }
        bucketStart = start
        bucketShift = shift
    }

    /// Index in `tokens` of the first token at or after `keyHash`, wrapping to 0.
    @inlinable
    public func tokenIndex(for keyHash: UInt64) -> Int {
        let b = Int(keyHash >> bucketShift)
        var i = Int(bucketStart[b])
        let end = Int(bucketStart[b + 1])
        while i < end && tokens[i] < keyHash { i += 1 }
        return i == tokens.count ? 0 : i
    }

    @inlinable
    public func owner(of keyHash: UInt64) -> NodeIndex {
        Int(owners[tokenIndex(for: keyHash)])
    }

    public func preferenceList(for keyHash: UInt64, count: Int, into list: inout [NodeIndex]) {
        let start = tokenIndex(for: keyHash)
        let n = tokens.count
        owners.withUnsafeBufferPointer { owners in
            collectPreferenceList(count: count, membership: membership, steps: n, into: &list) { step in
                let i = start + step
                return Int(owners[i >= n ? i - n : i])
            }
        }
    }

    /// Visits token owners clockwise from the key's position (repeats included) until `body`
    /// returns false or the whole ring was visited. Used by bounded-load routing.
    @inlinable
    public func walk(from keyHash: UInt64, _ body: (NodeIndex) -> Bool) {
        let start = tokenIndex(for: keyHash)
        let n = tokens.count
        for step in 0..<n {
            let i = start + step
            if !body(Int(owners[i >= n ? i - n : i])) { return }
        }
    }

    /// Fraction of the 64-bit circle each node owns (sums to 1).
    public var ownershipShares: [Double] {
        var shares = [Double](repeating: 0, count: membership.count)
        let scale = 1.0 / 18_446_744_073_709_551_616.0
        for i in tokens.indices {
            let previous = i == 0 ? tokens[tokens.count - 1] : tokens[i - 1]
            let arc = tokens[i] &- previous  // wraps correctly; a single token owns the whole circle
            shares[Int(owners[i])] += arc == 0 && tokens.count == 1 ? 1 : Double(arc) * scale
        }
        return shares
    }
}
