import KVCluster
import KVHash
import KVPartitioning

/// A key's preference list as member indices, owner first, held inline (no heap allocation):
/// at most `capacity` entries, which is all the routing ever needs (N is rarely above 5).
public struct PreferenceBuffer: Sendable, Equatable {
    /// Most replicas a buffer holds; a cluster with a larger N is routed over its first `capacity` replicas.
    public static let capacity = 8
    var storage = SIMD8<Int32>(repeating: -1)
    /// Entries in use.
    public private(set) var count = 0

    public init() {}

    /// The member index at position `i` (0 = the owner).
    @inline(__always) public subscript(i: Int) -> Int { Int(storage[i]) }

    /// Appends `member` unless it is already present or the buffer is full; true when appended.
    @inline(__always) @discardableResult
    public mutating func appendDistinct(_ member: Int) -> Bool {
        guard count < Self.capacity else { return false }
        for i in 0..<count where storage[i] == Int32(truncatingIfNeeded: member) { return false }
        storage[count] = Int32(truncatingIfNeeded: member)
        count += 1
        return true
    }

    /// The entries as an array (tests and start-up checks; not for the hot path).
    public var members: [Int] { (0..<count).map { self[$0] } }
}

/// Where a cluster-aware client sends each key: the key's preference list on the cluster's token
/// ring (the same `Placement` every `kvnode` member builds from the member ids), as indices into
/// `memberIDs`. Pure and deterministic: ids, N and tokens per node in, routes out.
public struct ClusterRouter: Sendable {
    /// Member ids; routes are indices into this array.
    public let memberIDs: [String]
    /// The cluster's placement (what the nodes compute).
    public let placement: Placement
    /// Replicas a route lists: min(N, members, `PreferenceBuffer.capacity`).
    public let replicas: Int

    public init(memberIDs: [String], n: Int, tokensPerNode: Int) throws(LoadError) {
        guard n >= 1 else { throw .binding("cluster reports N = \(n); expected at least 1") }
        guard tokensPerNode >= 1 else { throw .binding("cluster reports \(tokensPerNode) tokens per node; expected at least 1") }
        let membership: Membership
        do {
            membership = try Membership(memberIDs.map { Node(id: $0) })
        } catch {
            throw .binding("bad cluster membership \(memberIDs): \(error)")
        }
        self.memberIDs = memberIDs
        placement = Placement(membership: membership, n: n, tokensPerNode: tokensPerNode)
        replicas = min(n, memberIDs.count, PreferenceBuffer.capacity)
    }

    /// The key's replicas, owner first: XXH3 of the key, one ring lookup, then a walk clockwise
    /// collecting distinct members (the ring's own preference-list rule for members without zones).
    @inline(__always)
    public func route(_ key: UnsafeRawBufferPointer) -> PreferenceBuffer {
        route(hash: XXH3.hash(key))
    }

    /// `route(_:)` for a key hash.
    @inline(__always)
    public func route(hash: UInt64) -> PreferenceBuffer {
        var buffer = PreferenceBuffer()
        let wanted = replicas
        placement.ring.walk(from: hash) { member in
            buffer.appendDistinct(member)
            return buffer.count < wanted
        }
        return buffer
    }

    /// The key's replicas as ids, from `Placement` itself (start-up verification and tests).
    public func primaryIDs(for key: [UInt8]) -> [String] { placement.primaries(for: key) }

    /// The routing decision: the first member of `route` (owner first) that `hasFreeSlot`; nil when
    /// none of the key's replicas has one — the caller waits rather than send to a non-replica.
    @inline(__always)
    public static func choose(_ route: PreferenceBuffer, hasFreeSlot: (Int) -> Bool) -> Int? {
        for i in 0..<route.count where hasFreeSlot(route[i]) { return route[i] }
        return nil
    }
}
