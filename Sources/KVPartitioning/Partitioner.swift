/// A placement scheme: maps a key's 64-bit hash (XXH3 of the key bytes) to the nodes that own it.
///
/// Implementations are pure values built from a `Membership`: the same membership gives the same
/// placement in every process. `preferenceList` writes into a caller-owned array so the hot path
/// does not allocate once the array has capacity.
public protocol Partitioner: Sendable {
    /// The nodes this partitioner places keys on; results index into `membership.nodes`.
    var membership: Membership { get }

    /// The node that owns (coordinates) the key.
    func owner(of keyHash: UInt64) -> NodeIndex

    /// The first `count` distinct nodes responsible for the key, owner first. When nodes carry zones,
    /// the list first takes nodes from distinct zones (as many as there are zones), then fills up with
    /// further distinct nodes. `count` is clamped to the number of nodes. `list` is cleared first.
    func preferenceList(for keyHash: UInt64, count: Int, into list: inout [NodeIndex])
}

extension Partitioner {
    /// Allocating convenience form of `preferenceList(for:count:into:)`.
    public func preferenceList(for keyHash: UInt64, count: Int) -> [NodeIndex] {
        var list: [NodeIndex] = []
        list.reserveCapacity(count)
        preferenceList(for: keyHash, count: count, into: &list)
        return list
    }

    /// The owner's id (convenience for shells; allocation-free).
    public func ownerID(of keyHash: UInt64) -> String {
        membership.nodes[owner(of: keyHash)].id
    }
}

/// Builds a preference list from a scheme's walk: `candidate(step)` yields the node seen at each step
/// of the walk (repeats allowed), for `steps` steps. First pass: distinct zones; second: distinct nodes.
@inlinable
func collectPreferenceList(
    count requested: Int,
    membership: Membership,
    steps: Int,
    into list: inout [NodeIndex],
    candidate: (Int) -> NodeIndex
) {
    list.removeAll(keepingCapacity: true)
    let count = min(requested, membership.count)
    if count <= 0 { return }
    let zoneIndex = membership.zoneIndex
    let zoneTarget = min(count, membership.zoneCount)
    // Pass 1: one node per zone (with no zones, every node is its own zone: this is the whole job).
    var step = 0
    while list.count < zoneTarget && step < steps {
        let node = candidate(step)
        step += 1
        let zone = zoneIndex[node]
        var fresh = true
        for chosen in list where zoneIndex[chosen] == zone {
            fresh = false
            break
        }
        if fresh { list.append(node) }
    }
    if list.count >= count { return }
    // Pass 2: fill with further distinct nodes in walk order.
    step = 0
    while list.count < count && step < steps {
        let node = candidate(step)
        step += 1
        if !list.contains(node) { list.append(node) }
    }
}
