/// The naive scheme, `hash % n`: perfectly balanced and nearly every key moves when n changes.
/// Kept to show why consistent schemes exist. Replicas are the following indices modulo n.
public struct ModuloPartitioner: Partitioner {
    public let membership: Membership

    public init(membership: Membership) {
        self.membership = membership
    }

    @inlinable
    public func owner(of keyHash: UInt64) -> NodeIndex {
        Int(keyHash % UInt64(membership.count))
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
