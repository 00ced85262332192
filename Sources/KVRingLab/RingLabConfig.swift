import KVPartitioning

/// The placement schemes the lab compares; raw values are the `--partitioner` names and CSV `scheme`.
public enum PartitioningScheme: String, CaseIterable, Sendable {
    /// `hash % n`.
    case modulo
    /// Consistent-hash ring, one token per node.
    case ring
    /// Ring with `vnodes` tokens per node.
    case vnodes
    /// Q fixed partitions with a movement-minimising claim.
    case fixed
    /// Jump consistent hash over the nodes in join order.
    case jump
    /// Rendezvous (highest random weight).
    case rendezvous
    /// The vnode ring for data, bounded-load routing (factor c) for operations.
    case bounded
}

/// One experiment: a cluster of `nodes`, a change (`remove` last-joined nodes, then `add` new ones),
/// `keys` keys and a request distribution.
public struct RingLabConfig: Sendable {
    public var schemes: [PartitioningScheme] = PartitioningScheme.allCases
    public var nodes = 10
    public var vnodes = 256
    public var partitions = 1024
    public var keys = 1_000_000
    public var add = 1
    public var remove = 0
    public var replicas = 3
    public var zones = 0
    public var distribution: RequestDistribution = .uniform
    public var valueSize = 100
    public var capacityFactor = 1.25
    /// Operations the per-node `ops` column is scaled to (shares are exact fractions).
    public var operations = 1_000_000
    public var threads = 2
    /// Whether to time lookups (off in tests: timing is not deterministic).
    public var measureLookups = true

    public init() {}

    /// The cluster before the change: `node-0` ... `node-(n-1)`, zones round-robin if `zones > 0`.
    public var membershipBefore: Membership {
        Membership.named(count: nodes, zones: zones)
    }

    /// The cluster after removing the last `remove` nodes and appending `add` new ones.
    public var membershipAfter: Membership {
        var list = Array(membershipBefore.nodes.prefix(nodes - remove))
        for i in 0..<add {
            let index = nodes + i
            list.append(Node(id: "node-" + String(index), zone: zones > 0 ? "zone-" + String(index % zones) : nil))
        }
        return try! Membership(list)
    }

    /// A problem with the configuration, or nil when it can run.
    public var validationError: String? {
        if nodes < 1 { return "--nodes must be at least 1" }
        if keys < 1 { return "--keys must be at least 1" }
        if vnodes < 1 { return "--vnodes must be at least 1" }
        if partitions < 1 || partitions & (partitions - 1) != 0 { return "--partitions must be a power of two (e.g. 1024)" }
        if partitions < nodes + add { return "--partitions must be at least the number of nodes" }
        if add < 0 || remove < 0 { return "--add and --remove must not be negative" }
        if remove >= nodes { return "--remove must leave at least one node" }
        if replicas < 1 { return "--replicas must be at least 1" }
        if zones < 0 { return "--zones must not be negative" }
        if valueSize < 0 { return "--value-size must not be negative" }
        if !(capacityFactor > 1) { return "--capacity-factor must be greater than 1" }
        if threads < 1 { return "--threads must be at least 1" }
        switch distribution {
        case .zipfian(let theta), .latest(let theta):
            if !(theta > 0) || !theta.isFinite { return "--zipf-constant must be positive" }
        case .hotspot(let hot, let ops):
            if !(hot > 0 && hot < 1) { return "--hot-fraction must be in (0, 1)" }
            if !(ops >= 0 && ops <= 1) { return "--hot-ops-fraction must be in [0, 1]" }
        case .uniform: break
        }
        return nil
    }

    /// The ideal fraction of keys that must move: max(removed share, added nodes' share afterwards).
    public var idealMovedFraction: Double {
        let after = nodes - remove + add
        return max(Double(remove) / Double(nodes), Double(add) / Double(after))
    }
}
