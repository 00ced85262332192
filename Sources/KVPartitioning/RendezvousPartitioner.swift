import KVHash

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Rendezvous / highest-random-weight hashing (Thaler & Ravishankar): every node scores the key and
/// the highest score wins; the top-N scores are the preference list. Optimal movement, O(n) lookup.
///
/// Score = `mix64(keyHash ^ seed(node))` with `seed = XXH3(node.id)`; ties break by node id. With
/// unequal weights the score is the weighted form `-w / ln(u)`, u the score mapped into (0, 1).
public struct RendezvousPartitioner: Partitioner {
    public let membership: Membership
    @usableFromInline let seeds: [UInt64]
    @usableFromInline let weights: [Double]
    @usableFromInline let rankByID: [Int32]

    public init(membership: Membership) {
        self.membership = membership
        seeds = membership.nodes.map { XXH3.hash($0.id) }
        weights = membership.isUniformWeight ? [] : membership.nodes.map(\.weight)
        var rank = [Int32](repeating: 0, count: membership.count)
        for (r, i) in membership.indicesSortedByID.enumerated() { rank[i] = Int32(r) }
        rankByID = rank
    }

    /// Node `node`'s score for the key (higher wins).
    @inlinable
    public func score(_ keyHash: UInt64, node: NodeIndex) -> Double {
        let raw = mix64(keyHash ^ seeds[node])
        if weights.isEmpty { return Double(raw) }
        let u = (Double(raw >> 11) + 0.5) * (1.0 / 9_007_199_254_740_992.0)
        return -weights[node] / log(u)
    }

    @inlinable
    func beats(_ a: NodeIndex, _ scoreA: UInt64, _ b: NodeIndex, _ scoreB: UInt64) -> Bool {
        scoreA != scoreB ? scoreA > scoreB : rankByID[a] < rankByID[b]
    }

    @inlinable
    public func owner(of keyHash: UInt64) -> NodeIndex {
        if !weights.isEmpty { return weightedTop(keyHash, excluding: []) }
        var best = 0
        var bestScore = mix64(keyHash ^ seeds[0])
        for i in 1..<seeds.count {
            let s = mix64(keyHash ^ seeds[i])
            if beats(i, s, best, bestScore) {
                best = i
                bestScore = s
            }
        }
        return best
    }

    @usableFromInline
    func weightedTop(_ keyHash: UInt64, excluding: [NodeIndex]) -> NodeIndex {
        var best = -1
        var bestScore = -Double.infinity
        for i in 0..<seeds.count where !excluding.contains(i) {
            let s = score(keyHash, node: i)
            if best < 0 || s > bestScore || (s == bestScore && rankByID[i] < rankByID[best]) {
                best = i
                bestScore = s
            }
        }
        return best
    }

    public func preferenceList(for keyHash: UInt64, count: Int, into list: inout [NodeIndex]) {
        list.removeAll(keepingCapacity: true)
        let count = min(count, membership.count)
        guard count > 0 else { return }
        if membership.zoneCount == membership.count {
            // No shared zones: the top-`count` scores.
            if !weights.isEmpty {
                for _ in 0..<count { list.append(weightedTop(keyHash, excluding: list)) }
                return
            }
            // One pass keeping the best `count` (best first) by insertion into stack buffers.
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { best in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: count) { chosen in
                    seeds.withUnsafeBufferPointer { seeds in
                        rankByID.withUnsafeBufferPointer { rank in
                            var filled = 0
                            for i in 0..<seeds.count {
                                let s = mix64(keyHash ^ seeds[i])
                                if filled == count {
                                    let last = count - 1
                                    if s < best[last] || (s == best[last] && rank[i] > rank[chosen[last]]) { continue }
                                }
                                var j = filled == count ? count - 1 : filled
                                if filled < count { filled += 1 }
                                while j > 0 && (s > best[j - 1] || (s == best[j - 1] && rank[i] < rank[chosen[j - 1]])) {
                                    best[j] = best[j - 1]
                                    chosen[j] = chosen[j - 1]
                                    j -= 1
                                }
                                best[j] = s
                                chosen[j] = i
                            }
                            for j in 0..<filled { list.append(chosen[j]) }
                        }
                    }
                }
            }
            return
        }
        // Zones: walk all nodes in descending score order.
        let order: [NodeIndex]
        if weights.isEmpty {
            order = membership.nodes.indices.sorted { a, b in
                beats(a, mix64(keyHash ^ seeds[a]), b, mix64(keyHash ^ seeds[b]))
            }
        } else {
            order = membership.nodes.indices.sorted { a, b in
                let sa = score(keyHash, node: a)
                let sb = score(keyHash, node: b)
                return sa != sb ? sa > sb : rankByID[a] < rankByID[b]
            }
        }
        collectPreferenceList(count: count, membership: membership, steps: order.count, into: &list) { order[$0] }
    }
}
