/// Jump consistent hash (Lamping & Veach 2014): no state, perfect balance, optimal movement when
/// buckets are appended. Bucket b is `membership.nodes[b]`, so only the last-joined node can leave
/// without extra movement, and weights are ignored. Replicas are the following buckets modulo n.
public struct JumpPartitioner: Partitioner {
    public let membership: Membership

    public init(membership: Membership) {
        self.membership = membership
    }

    /// The jump hash bucket in `0..<buckets` for a 64-bit key.
    @inlinable
    public static func bucket(for keyHash: UInt64, buckets: Int) -> Int {
        var key = keyHash
        var b: Int64 = -1
        var j: Int64 = 0
        let n = Int64(buckets)
        while j < n {
            b = j
            key = key &* 2_862_933_555_777_941_757 &+ 1
            j = Int64(Double(b &+ 1) * (Double(UInt64(1) << 31) / Double((key >> 33) &+ 1)))
        }
        return Int(b)
    }

    @inlinable
    public func owner(of keyHash: UInt64) -> NodeIndex {
        Self.bucket(for: keyHash, buckets: membership.count)
    }

    public func preferenceList(for keyHash: UInt64, count: Int, into list: inout [NodeIndex]) {
        let n = membership.count
        let first = owner(of: keyHash)
        collectPreferenceList(count: count, membership: membership, steps: n, into: &list) { step in
            let i = first + step
            return i >= n ? i - n : i
        }
    }
}
