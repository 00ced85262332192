/// One node's load under one scheme (the cluster before the change).
public struct NodeLoad: Sendable, Equatable {
    public let node: String
    public let keys: Int
    /// Exact expected fraction of operations (owner serves every operation).
    public let share: Double
}

/// One scheme's measurements — one row of the scheme CSV.
///
/// CSV columns (`SchemeResult.csvHeader`), in order:
/// - `scheme`: partitioner name (`modulo`, `ring`, `vnodes`, `fixed`, `jump`, `rendezvous`, `bounded`)
/// - `nodes_before`, `nodes_after`: cluster size before / after the change
/// - `keys`: keys simulated
/// - `moved_fraction`: fraction of keys whose owner changed
/// - `ideal_moved_fraction`: the minimum possible (1/(n+1) for one added node)
/// - `moved_bytes`: moved keys × (key length + value size)
/// - `keys_max_mean`, `keys_cv`: busiest node's keys over the mean; coefficient of variation (before)
/// - `ops_max_mean`, `ops_cv`: the same for exact expected operations, owner serving all of a key's
///   operations (for `bounded`: operations routed with bounded loads along the ring)
/// - `lookup_ns`: ns per `owner(of:)` on a pre-hashed key (for `bounded`: per routed key)
/// - appended: `busiest_share` (busiest node's fraction of operations),
///   `ops_max_mean_replicas`, `ops_cv_replicas`, `busiest_share_replicas` (reads served by all N
///   replicas: each key's operations split evenly over its preference list; for `bounded`: routed
///   with bounded loads within the preference list), `excess_moved_fraction` (moves neither off a
///   removed node nor onto an added one: 0 for a minimal scheme), `preflist_ns` (ns per preference
///   list of N on a pre-hashed key; for `bounded`: per live `BoundedLoadRouter.assign` within N replicas), `vnodes`, `partitions`, `replicas`, `distribution`.
public struct SchemeResult: Sendable {
    public let scheme: PartitioningScheme
    public let nodesBefore: Int
    public let nodesAfter: Int
    public let keys: Int
    public let movedFraction: Double
    public let idealMovedFraction: Double
    public let movedBytes: Int
    public let keySpread: LoadSpread
    public let opsSpread: LoadSpread
    public let replicaOpsSpread: LoadSpread
    public let excessMovedFraction: Double
    /// ns per owner lookup; nil when lookups were not timed.
    public let lookupNanoseconds: Double?
    /// ns per preference-list lookup; nil when not timed.
    public let preferenceListNanoseconds: Double?
    public let vnodes: Int
    public let partitions: Int
    public let replicas: Int
    public let distribution: String
    public let perNode: [NodeLoad]

    public static let csvHeader =
        "scheme,nodes_before,nodes_after,keys,moved_fraction,ideal_moved_fraction,moved_bytes,keys_max_mean,keys_cv,ops_max_mean,ops_cv,lookup_ns,busiest_share,ops_max_mean_replicas,ops_cv_replicas,busiest_share_replicas,excess_moved_fraction,preflist_ns,vnodes,partitions,replicas,distribution"

    /// This result as one CSV line (no newline).
    public var csvRow: String {
        [
            scheme.rawValue, String(nodesBefore), String(nodesAfter), String(keys),
            fmt(movedFraction), fmt(idealMovedFraction), String(movedBytes),
            fmt(keySpread.maxOverMean), fmt(keySpread.coefficientOfVariation),
            fmt(opsSpread.maxOverMean), fmt(opsSpread.coefficientOfVariation),
            lookupNanoseconds.map { fmt($0, 1) } ?? "",
            fmt(opsSpread.maxShare),
            fmt(replicaOpsSpread.maxOverMean), fmt(replicaOpsSpread.coefficientOfVariation), fmt(replicaOpsSpread.maxShare),
            fmt(excessMovedFraction),
            preferenceListNanoseconds.map { fmt($0, 1) } ?? "",
            String(vnodes), String(partitions), String(replicas), distribution,
        ].joined(separator: ",")
    }

    public static let nodesCSVHeader = "scheme,node,keys,ops,share"

    /// Per-node CSV lines (`scheme,node,keys,ops,share`), ops scaled to `operations`.
    public func nodeRows(operations: Int) -> [String] {
        perNode.map { n in
            [scheme.rawValue, n.node, String(n.keys), fmt(n.share * Double(operations), 1), fmt(n.share)].joined(separator: ",")
        }
    }
}

/// Fixed-point decimal formatting without Foundation.
func fmt(_ value: Double, _ digits: Int = 6) -> String {
    guard value.isFinite else { return String(value) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = value < 0
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e18 else { return String(value) }
    let whole = UInt64(scaled)
    let intPart = whole / UInt64(scale)
    var frac = String(whole % UInt64(scale))
    if digits == 0 { return (negative ? "-" : "") + String(intPart) }
    while frac.count < digits { frac = "0" + frac }
    return (negative && whole != 0 ? "-" : "") + String(intPart) + "." + frac
}
