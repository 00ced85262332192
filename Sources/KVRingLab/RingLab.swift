import KVPartitioning

/// The measurement engine behind `kvbench ring`: places the same keys with every scheme, before
/// and after a membership change, and reports movement, balance of keys and of exact expected
/// operations, and lookup cost. Everything but the lookup timings is deterministic.
public struct RingLab: Sendable {
    public let config: RingLabConfig
    public let keys: LabKeys
    /// Exact expected share of operations per key.
    public let shares: [Double]

    /// Prepares keys and shares; pass `keys` to reuse them across runs (sweeps).
    public init(config: RingLabConfig, keys: LabKeys? = nil) {
        precondition(config.validationError == nil, config.validationError ?? "")
        self.config = config
        let keys = keys ?? LabKeys(count: config.keys, threads: config.threads)
        precondition(keys.count == config.keys)
        self.keys = keys
        self.shares = config.distribution.operationShares(keyCount: config.keys)
    }

    /// Results for every configured scheme, in the configured order.
    public func run() -> [SchemeResult] {
        config.schemes.map(run)
    }

    /// Results for one scheme.
    public func run(_ scheme: PartitioningScheme) -> SchemeResult {
        let before = config.membershipBefore
        let after = config.membershipAfter
        switch scheme {
        case .modulo:
            return measure(scheme, ModuloPartitioner(membership: before), ModuloPartitioner(membership: after))
        case .ring:
            return measure(scheme, TokenRing(membership: before, tokensPerNode: 1), TokenRing(membership: after, tokensPerNode: 1))
        case .vnodes:
            return measure(scheme, TokenRing(membership: before, tokensPerNode: config.vnodes), TokenRing(membership: after, tokensPerNode: config.vnodes))
        case .fixed:
            let ring = FixedPartitionRing(membership: before, partitionCount: config.partitions)
            return measure(scheme, ring, ring.rebalanced(to: after))
        case .jump:
            return measure(scheme, JumpPartitioner(membership: before), JumpPartitioner(membership: after))
        case .rendezvous:
            return measure(scheme, RendezvousPartitioner(membership: before), RendezvousPartitioner(membership: after))
        case .bounded:
            let ring = TokenRing(membership: before, tokensPerNode: config.vnodes)
            let placement = measure(scheme, ring, TokenRing(membership: after, tokensPerNode: config.vnodes), timeLookups: false)
            return boundedLoads(ring, placement: placement)
        }
    }

    struct Partial {
        var keys: [Int]
        var ops: [Double]
        var replicaOps: [Double]
        var moved = 0
        var movedBytes = 0
        var excess = 0
    }

    func measure<P: Partitioner>(_ scheme: PartitioningScheme, _ before: P, _ after: P, timeLookups: Bool = true) -> SchemeResult {
        let n = before.membership.count
        // Where each node of `before` sits in `after` (-1: removed); which nodes of `after` are new.
        var afterIndex: [String: Int] = [:]
        for (i, node) in after.membership.nodes.enumerated() { afterIndex[node.id] = i }
        let mapping = before.membership.nodes.map { afterIndex[$0.id] ?? -1 }
        let beforeIDs = Set(before.membership.nodes.map(\.id))
        let added = after.membership.nodes.map { !beforeIDs.contains($0.id) }
        let hashes = keys.hashes
        let shares = self.shares
        let replicas = config.replicas
        let valueSize = config.valueSize
        let partials = parallelChunks(count: hashes.count, threads: config.threads) { range -> Partial in
            var p = Partial(keys: [Int](repeating: 0, count: n), ops: [Double](repeating: 0, count: n), replicaOps: [Double](repeating: 0, count: n))
            var list: [NodeIndex] = []
            list.reserveCapacity(replicas)
            for i in range {
                let h = hashes[i]
                before.preferenceList(for: h, count: replicas, into: &list)
                let owner = list[0]
                let share = shares[i]
                p.keys[owner] += 1
                p.ops[owner] += share
                let part = share / Double(list.count)
                for r in list { p.replicaOps[r] += part }
                let newOwner = after.owner(of: h)
                let from = mapping[owner]
                if from != newOwner {
                    p.moved += 1
                    p.movedBytes += LabKeys.keyLength(i) + valueSize
                    if from >= 0 && !added[newOwner] { p.excess += 1 }
                }
            }
            return p
        }
        var total = partials[0]
        for p in partials.dropFirst() {
            for j in 0..<n {
                total.keys[j] += p.keys[j]
                total.ops[j] += p.ops[j]
                total.replicaOps[j] += p.replicaOps[j]
            }
            total.moved += p.moved
            total.movedBytes += p.movedBytes
            total.excess += p.excess
        }
        var lookup: Double?
        var preference: Double?
        if config.measureLookups && timeLookups {
            (lookup, preference) = Self.timeLookups(before, hashes: hashes, replicas: replicas)
        }
        let keyCount = Double(hashes.count)
        return SchemeResult(
            scheme: scheme,
            nodesBefore: n,
            nodesAfter: after.membership.count,
            keys: hashes.count,
            movedFraction: Double(total.moved) / keyCount,
            idealMovedFraction: config.idealMovedFraction,
            movedBytes: total.movedBytes,
            keySpread: LoadSpread(of: total.keys),
            opsSpread: LoadSpread(of: total.ops),
            replicaOpsSpread: LoadSpread(of: total.replicaOps),
            excessMovedFraction: Double(total.excess) / keyCount,
            lookupNanoseconds: lookup,
            preferenceListNanoseconds: preference,
            vnodes: config.vnodes,
            partitions: config.partitions,
            replicas: replicas,
            distribution: config.distribution.name,
            perNode: (0..<n).map { NodeLoad(node: before.membership.nodes[$0].id, keys: total.keys[$0], share: total.ops[$0]) }
        )
    }

    /// Mean ns per `owner(of:)` and per `preferenceList` over (up to) the first million keys.
    static func timeLookups<P: Partitioner>(_ p: P, hashes: [UInt64], replicas: Int) -> (Double, Double) {
        let clock = ContinuousClock()
        let ownerSample = min(hashes.count, 1_000_000)
        var sink = 0
        let start = clock.now
        for i in 0..<ownerSample { sink &+= p.owner(of: hashes[i]) }
        let ownerTime = clock.now - start
        let listSample = min(hashes.count, 200_000)
        var list: [NodeIndex] = []
        list.reserveCapacity(replicas)
        let start2 = clock.now
        for i in 0..<listSample {
            p.preferenceList(for: hashes[i], count: replicas, into: &list)
            sink &+= list[0]
        }
        let listTime = clock.now - start2
        blackHole(sink)
        return (nanoseconds(ownerTime) / Double(ownerSample), nanoseconds(listTime) / Double(listSample))
    }
}

func nanoseconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) * 1e9 + Double(c.attoseconds) / 1e9
}

@inline(never)
func blackHole(_ value: Int) {
    if value == 0x5EED_5EED { print("", terminator: "") }
}
