import ArgumentParser
import KVCluster
import KVSimulator

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `kvbench simulate`: runs the deterministic cluster simulator over a range of seeds and prints
/// every failing seed with the one-line command that replays it.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run the deterministic Dynamo-cluster simulator over many seeds.",
        discussion: """
        Each seed runs --nodes ClusterNodes (N=3, R=2, W=2) over a virtual network and clock: --clients \
        clients do --ops random reads, writes (with or without the context they read) and deletes on \
        --keys keys while faults are injected (loss, dup, reorder, partition, crash, slow, suspect; --faults \
        all, none or a comma-separated list). Then faults stop, hints drain, a final R=N read per key runs \
        read repair (standing in for anti-entropy), and a checker verifies: no acknowledged write lost \
        (present as a sibling or superseded by a write whose context had seen it), siblings only for \
        concurrent writes, all replicas identical, no hints left. --plant-bug ack-before-w (or \
        overwrite-on-replicate) plants a bug the checker must catch.
        """
    )

    @Option(help: "Number of seeds to run.")
    var seeds = 200

    @Option(help: "First seed.")
    var from: UInt64 = 0

    @Option(help: "Faults: all, none, or a comma-separated list of loss, dup, reorder, partition, crash, slow, suspect.")
    var faults = "all"

    @Option(help: "Plant a bug the checker must catch: ack-before-w or overwrite-on-replicate.")
    var plantBug: String?

    @Option(help: "Nodes in the simulated cluster.")
    var nodes = 5

    @Option(help: "Keys the workload touches (fewer keys, more conflicts).")
    var keys = 3

    @Option(help: "Concurrent clients.")
    var clients = 4

    @Option(help: "Operations per client.")
    var ops = 25

    @Option(help: "Stop after this many failing seeds (0: run them all).")
    var stopAfter = 0

    @Flag(help: "Run the nodes in last-write-wins mode (expect lost-write violations: LWW drops concurrent writes).")
    var lww = false

    @Flag(help: "Keep tombstones (do not reap them once all replicas confirmed a delete).")
    var keepTombstones = false

    @Flag(help: "Print the operation history of failing seeds.")
    var history = false

    @Flag(help: "Print one line per seed.")
    var verbose = false

    func run() throws {
        guard let faultSet = FaultSet(parsing: faults) else {
            throw ValidationError("unknown fault in '\(faults)'; use all, none or \(FaultSet.names.map(\.0).joined(separator: ","))")
        }
        var options = SimulationOptions()
        options.faults = faultSet
        options.nodes = nodes
        options.keys = keys
        options.clients = clients
        options.operationsPerClient = ops
        guard nodes >= options.cluster.n, keys > 0, clients > 0, ops > 0, seeds > 0 else {
            throw ValidationError("need --nodes ≥ 3 and positive --keys, --clients, --ops, --seeds")
        }
        options.cluster.lastWriteWins = lww
        options.cluster.reapTombstones = !keepTombstones
        if let plantBug {
            guard let bug = PlantedBug(rawValue: plantBug) else {
                throw ValidationError("unknown bug '\(plantBug)'; use \(PlantedBug.allCases.map(\.rawValue).joined(separator: " or "))")
            }
            options.cluster.plantedBug = bug
        }
        let start = monotonicSeconds()
        var runs = 0, acked = 0, unknown = 0, siblingReads = 0, messages = 0, bytes = 0
        var firstFailure: UInt64?
        let failures = Simulator.run(seeds: seeds, from: from, options: options, stopAfterFailures: stopAfter) { r in
            runs += 1
            acked += r.acknowledgedWrites
            unknown += r.unknownWrites
            siblingReads += r.readsWithSiblings
            messages += r.stats.messages
            bytes += r.stats.bytes
            if !r.passed {
                if firstFailure == nil { firstFailure = r.seed }
                print("FAIL seed \(r.seed): \(r.violations.count) violation(s); first: \(r.violations[0])")
                print("  replay: \(r.replayCommand)")
                for v in r.violations.dropFirst() { print("  also: \(v)") }
                if history {
                    for op in r.history {
                        print("  op \(op.id) client \(op.client) key \(op.key) \(op.kind.rawValue) t=\(op.invokedAt)...\(op.completedAt) \(op.outcome.rawValue) dot \(op.dot.map(\.description) ?? "-") seen \(op.seen.sorted()) returned \(op.returned)")
                    }
                }
            } else if verbose {
                let st = r.stats
                print("ok seed \(r.seed): acked \(r.acknowledgedWrites), unknown \(r.unknownWrites), failed \(r.failedOperations), sibling reads \(r.readsWithSiblings), messages \(st.messages) (dropped \(st.dropped), duplicated \(st.duplicated)), crashes \(st.crashes), partitions \(st.partitions), slowdowns \(st.slowdowns), false suspicions \(st.suspicions), hinted writes \(st.hintedWrites), end t=\(st.endTime)")
            }
        }
        let elapsed = monotonicSeconds() - start
        let violations = failures.reduce(0) { $0 + $1.violations.count }
        print("seeds \(runs) (from \(from)), faults \(faultSet.name)\(options.cluster.plantedBug.map { ", planted bug \($0.rawValue)" } ?? "")")
        print("failing seeds \(failures.count), violations \(violations)\(firstFailure.map { ", first failing seed \($0) (run \($0 - from + 1))" } ?? "")")
        print("acknowledged writes \(acked), unknown-outcome writes \(unknown), reads with siblings \(siblingReads), peer messages \(messages) (\(bytes) bytes encoded)")
        print("elapsed \((elapsed * 100).rounded() / 100) s")
        if !failures.isEmpty { throw ExitCode(1) }
    }

    private func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
