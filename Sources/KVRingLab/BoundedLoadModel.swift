import KVPartitioning

/// The fluid (many-requests) limit of bounded-load routing, used to compute exact expected
/// per-node operations: every node may carry at most c/n of all operations; keys are taken in key
/// order and each key's share is poured into the nodes met walking clockwise from its hash,
/// filling each up to the cap. In the replica variant only the key's N replicas may take it, and
/// what does not fit is spread over the replicas, least loaded first (water-filling).
public struct BoundedLoadModel: Sendable {
    public let ring: TokenRing
    public let capacityFactor: Double

    public init(ring: TokenRing, capacityFactor: Double) {
        self.ring = ring
        self.capacityFactor = capacityFactor
    }

    /// Per-node operation shares for these keys (`shares` sums to 1).
    public func loads(hashes: [UInt64], shares: [Double], replicas: Int?) -> [Double] {
        let n = ring.membership.count
        let cap = capacityFactor / Double(n)
        var loads = [Double](repeating: 0, count: n)
        var list: [NodeIndex] = []
        for i in hashes.indices {
            var amount = shares[i]
            if amount == 0 { continue }
            let h = hashes[i]
            if let replicas {
                ring.preferenceList(for: h, count: replicas, into: &list)
                for node in list where amount > 0 {
                    let take = min(amount, cap - loads[node])
                    if take > 0 {
                        loads[node] += take
                        amount -= take
                    }
                }
                if amount > 0 { Self.waterFill(amount, over: list, loads: &loads) }
            } else {
                ring.walk(from: h) { node in
                    let take = min(amount, cap - loads[node])
                    if take > 0 {
                        loads[node] += take
                        amount -= take
                    }
                    return amount > 0
                }
                if amount > 0 { loads[ring.owner(of: h)] += amount }
            }
        }
        return loads
    }
}

extension BoundedLoadModel {
    /// Adds `amount` to the least-loaded of `nodes`, levelling them up (minimises the new maximum).
    static func waterFill(_ amount: Double, over nodes: [NodeIndex], loads: inout [Double]) {
        let sorted = nodes.sorted { loads[$0] < loads[$1] }
        var remaining = amount
        var k = 1
        while remaining > 0 {
            let level = loads[sorted[k - 1]]
            let next = k < sorted.count ? loads[sorted[k]] : Double.infinity
            let room = (next - level) * Double(k)
            if room >= remaining {
                let raise = remaining / Double(k)
                for j in 0..<k { loads[sorted[j]] = level + raise }
                return
            }
            for j in 0..<k { loads[sorted[j]] = next }
            remaining -= room
            k += 1
        }
    }
}

extension RingLab {
    /// The `bounded` row: data placement (keys, movement) of the vnode ring, operations routed with
    /// bounded loads (fluid model), with and without the restriction to replicas.
    func boundedLoads(_ ring: TokenRing, placement: SchemeResult) -> SchemeResult {
        let model = BoundedLoadModel(ring: ring, capacityFactor: config.capacityFactor)
        let clock = ContinuousClock()
        let start = clock.now
        let ops = model.loads(hashes: keys.hashes, shares: shares, replicas: nil)
        let elapsed = clock.now - start
        let replicaOps = model.loads(hashes: keys.hashes, shares: shares, replicas: config.replicas)
        var router = BoundedLoadRouter(ring: ring, capacityFactor: config.capacityFactor)
        var preference: Double?
        if config.measureLookups {
            let sample = min(keys.count, 200_000)
            let start2 = clock.now
            var sink = 0
            for i in 0..<sample { sink &+= router.assign(keys.hashes[i], replicas: config.replicas) }
            preference = nanoseconds(clock.now - start2) / Double(sample)
            blackHole(sink)
        }
        return SchemeResult(
            scheme: .bounded,
            nodesBefore: placement.nodesBefore,
            nodesAfter: placement.nodesAfter,
            keys: placement.keys,
            movedFraction: placement.movedFraction,
            idealMovedFraction: placement.idealMovedFraction,
            movedBytes: placement.movedBytes,
            keySpread: placement.keySpread,
            opsSpread: LoadSpread(of: ops),
            replicaOpsSpread: LoadSpread(of: replicaOps),
            excessMovedFraction: placement.excessMovedFraction,
            lookupNanoseconds: config.measureLookups ? nanoseconds(elapsed) / Double(keys.count) : nil,
            preferenceListNanoseconds: preference,
            vnodes: placement.vnodes,
            partitions: placement.partitions,
            replicas: placement.replicas,
            distribution: placement.distribution,
            perNode: placement.perNode.enumerated().map { i, n in NodeLoad(node: n.node, keys: n.keys, share: ops[i]) }
        )
    }
}
