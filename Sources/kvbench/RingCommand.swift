import ArgumentParser
import KVPartitioning
import KVRingLab

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kvbench ring`: compare partitioning schemes on the same keys — movement on a membership change,
/// balance of keys and of operations, lookup cost — as a table, CSV rows and sweeps.
struct RingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ring",
        abstract: "Measure skew and rebalancing cost of partitioning schemes.",
        discussion: """
        Places --keys keys (user0, user1, ... hashed once with XXH3-64) on a cluster of --nodes nodes \
        (node-0 ... node-(n-1)) with each scheme, then changes the membership: the last --remove nodes \
        leave, then --add new nodes join. It reports the fraction of keys that moved (and the ideal), \
        bytes moved, and the balance of keys and of operations per node on the cluster before the change.

        Operations are exact expected shares, not samples: uniform; zipfian (P(rank r) ~ 1/r^θ, rank r \
        placed on key XXH3(r) mod keys, like YCSB's scrambled zipfian); hotspot (the first --hot-fraction \
        of keys get --hot-ops-fraction of operations); latest (zipfian over recency, newest key hottest). \
        The ops columns assume the owner serves every operation; the N-read columns split each key's \
        operations over its --replicas replicas. bounded keeps the vnode ring's data placement and routes \
        operations with bounded loads (no node above c times the mean; spilling along the ring, or only \
        within the replicas for the N-read columns).

        Scheme CSV columns (--csv; --sweep writes one row per point and scheme): scheme, nodes_before, \
        nodes_after, keys, moved_fraction, ideal_moved_fraction, moved_bytes, keys_max_mean, keys_cv, \
        ops_max_mean, ops_cv, lookup_ns, busiest_share, ops_max_mean_replicas, ops_cv_replicas, \
        busiest_share_replicas, excess_moved_fraction, preflist_ns, vnodes, partitions, replicas, distribution.

        Per-node CSV columns (--nodes-csv): scheme, node, keys, ops, share.

        Plots: python3 plots/ring_balance_vs_vnodes.py, plots/ring_movement_vs_nodes.py, plots/ring_nodes.py.
        """
    )

    @Option(help: "Schemes: all, or a comma-separated list of modulo, ring, vnodes, fixed, jump, rendezvous, bounded.")
    var partitioner = "all"

    @Option(help: "Nodes in the cluster before the change.")
    var nodes = 10

    @Option(help: "Tokens per node for the vnodes ring (and the ring under bounded).")
    var vnodes = 256

    @Option(help: "Fixed partitions Q for the fixed scheme (a power of two).")
    var partitions = 1024

    @Option(help: "Keys to place.")
    var keys = 1_000_000

    @Option(help: "Nodes added by the change (after removals).")
    var add = 1

    @Option(help: "Last-joined nodes removed by the change.")
    var remove = 0

    @Option(help: "Replicas N: preference-list length, and how many nodes serve a key's reads in the *_replicas columns.")
    var replicas = 3

    @Option(help: "Zones (nodes assigned round-robin); 0 for none. Preference lists span distinct zones.")
    var zones = 0

    @Option(help: "Request distribution: uniform, zipfian (scrambled, like YCSB), hotspot or latest.")
    var distribution = "uniform"

    @Option(help: "Zipf constant θ for zipfian and latest.")
    var zipfConstant = 0.99

    @Option(help: "Hotspot: fraction of keys in the hot set.")
    var hotFraction = 0.2

    @Option(help: "Hotspot: fraction of operations that hit the hot set.")
    var hotOpsFraction = 0.8

    @Option(help: "Value size in bytes (moved bytes = moved keys × (key length + value size)).")
    var valueSize = 100

    @Option(help: "Bounded loads: capacity factor c > 1 (a node takes at most c × the mean load).")
    var capacityFactor = 1.25

    @Option(help: "Operations the per-node ops column is scaled to.")
    var operations = 1_000_000

    @Option(help: "Worker threads for the simulation.")
    var threads = 2

    @Flag(help: "Do not time lookups (leaves lookup_ns and preflist_ns empty).")
    var noTiming = false

    @Option(help: "Write one CSV row per scheme (or per sweep point and scheme) to this file.")
    var csv: String?

    @Option(help: "Write per-node rows (scheme,node,keys,ops,share) to this file.")
    var nodesCsv: String?

    @Option(help: "Sweep an axis instead of a single run: vnodes (doubling) or nodes (linear).")
    var sweep: String?

    @Option(help: "First sweep point (default: 1 for vnodes, 3 for nodes).")
    var sweepFrom: Int?

    @Option(help: "Last sweep point (default: 1024 for vnodes, 100 for nodes).")
    var sweepTo: Int?

    @Option(help: "Step between node-sweep points.")
    var sweepStep = 1

    func validate() throws {
        _ = try schemes()
        _ = try requestDistribution()
        if let error = makeConfig().validationError { throw ValidationError(error) }
        if let axis = sweep {
            guard let axis = SweepAxis(rawValue: axis) else { throw ValidationError("--sweep must be vnodes or nodes") }
            let points = sweepPoints(axis)
            if points.isEmpty { throw ValidationError("--sweep-from/--sweep-to give no points (need 1 ≤ from ≤ to)") }
            for point in [points.first!, points.last!] {
                var config = makeConfig()
                if axis == .vnodes { config.vnodes = point } else { config.nodes = point }
                if let error = config.validationError { throw ValidationError("at sweep point \(point): \(error)") }
            }
        }
        if sweep != nil && nodesCsv != nil { throw ValidationError("--nodes-csv is for single runs, not sweeps") }
    }

    func schemes() throws -> [PartitioningScheme] {
        if partitioner == "all" { return PartitioningScheme.allCases }
        var result: [PartitioningScheme] = []
        for name in partitioner.split(separator: ",") {
            guard let scheme = PartitioningScheme(rawValue: String(name)) else {
                throw ValidationError("unknown partitioner '\(name)'; use all or \(PartitioningScheme.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            result.append(scheme)
        }
        return result
    }

    func requestDistribution() throws -> RequestDistribution {
        switch distribution {
        case "uniform": .uniform
        case "zipfian": .zipfian(theta: zipfConstant)
        case "hotspot": .hotspot(hotFraction: hotFraction, hotOperationFraction: hotOpsFraction)
        case "latest": .latest(theta: zipfConstant)
        default: throw ValidationError("unknown distribution '\(distribution)'; use uniform, zipfian, hotspot or latest")
        }
    }

    func makeConfig() -> RingLabConfig {
        var c = RingLabConfig()
        c.schemes = (try? schemes()) ?? PartitioningScheme.allCases
        c.nodes = nodes
        c.vnodes = vnodes
        c.partitions = partitions
        c.keys = keys
        c.add = add
        c.remove = remove
        c.replicas = replicas
        c.zones = zones
        c.distribution = (try? requestDistribution()) ?? .uniform
        c.valueSize = valueSize
        c.capacityFactor = capacityFactor
        c.operations = operations
        c.threads = threads
        c.measureLookups = !noTiming
        return c
    }

    func sweepPoints(_ axis: SweepAxis) -> [Int] {
        switch axis {
        case .vnodes: axis.points(from: sweepFrom ?? 1, to: sweepTo ?? 1024, step: sweepStep)
        case .nodes: axis.points(from: sweepFrom ?? 3, to: sweepTo ?? 100, step: sweepStep)
        }
    }

    func run() throws {
        let config = makeConfig()
        if let axisName = sweep, let axis = SweepAxis(rawValue: axisName) {
            print("sweep \(axis.rawValue): \(config.keys) keys, \(config.distribution.name), +\(config.add)/-\(config.remove) nodes")
            let results = RingLab.sweep(axis, points: sweepPoints(axis), base: config) { point, rows in
                print("\(axis.rawValue)=\(point)")
                printTable(rows)
            }
            if let csv { try write(csv, [SchemeResult.csvHeader] + results.map(\.csvRow)) }
            return
        }
        let lab = RingLab(config: config)
        let results = lab.run()
        print("\(config.keys) keys, \(config.distribution.name), nodes \(config.nodes) -> \(config.nodes - config.remove + config.add), N=\(config.replicas), vnodes \(config.vnodes), Q \(config.partitions), c \(config.capacityFactor)")
        printTable(results)
        if let csv { try write(csv, [SchemeResult.csvHeader] + results.map(\.csvRow)) }
        if let nodesCsv {
            try write(nodesCsv, [SchemeResult.nodesCSVHeader] + results.flatMap { $0.nodeRows(operations: config.operations) })
        }
    }

    func printTable(_ results: [SchemeResult]) {
        let header = ["scheme", "moved", "ideal", "excess", "moved MB", "keys max/mean", "keys cv", "ops max/mean", "ops cv", "busiest", "N-read max/mean", "N-read busiest", "lookup ns", "preflist ns"]
        var rows = [header]
        for r in results {
            rows.append([
                r.scheme.rawValue,
                percent(r.movedFraction), percent(r.idealMovedFraction), percent(r.excessMovedFraction),
                decimal(Double(r.movedBytes) / 1_000_000, 1),
                decimal(r.keySpread.maxOverMean, 3), decimal(r.keySpread.coefficientOfVariation, 3),
                decimal(r.opsSpread.maxOverMean, 3), decimal(r.opsSpread.coefficientOfVariation, 3),
                percent(r.opsSpread.maxShare),
                decimal(r.replicaOpsSpread.maxOverMean, 3), percent(r.replicaOpsSpread.maxShare),
                r.lookupNanoseconds.map { decimal($0, 1) } ?? "-",
                r.preferenceListNanoseconds.map { decimal($0, 1) } ?? "-",
            ])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += i == 0 ? cell + pad : "  " + pad + cell
            }
            print(line)
        }
    }

    func write(_ path: String, _ lines: [String]) throws {
        guard let file = fopen(path, "w") else { throw ValidationError("cannot open \(path) for writing") }
        defer { fclose(file) }
        for line in lines { fputs(line + "\n", file) }
    }
}

/// `x` with `digits` decimals.
func decimal(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return String(x) }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let v = (x * scale).rounded() / scale
    var s = String(v)
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    }
    return s
}

/// `x` as a percentage with two decimals.
func percent(_ x: Double) -> String {
    decimal(x * 100, 2) + "%"
}
