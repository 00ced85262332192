import KVCluster

/// The outcome of one seeded run.
public struct SimulationResult: Sendable {
    public var seed: UInt64
    public var violations: [Violation]
    public var stats: SimulationStats
    /// Operations by kind and outcome.
    public var acknowledgedWrites = 0
    public var unknownWrites = 0
    public var failedOperations = 0
    public var reads = 0
    /// Reads that returned more than one sibling.
    public var readsWithSiblings = 0
    /// Every client operation, in invocation order.
    public var history: [Operation] = []
    /// The one-line command that replays this run.
    public var replayCommand: String

    public var passed: Bool { violations.isEmpty }
}

/// Runs the deterministic cluster simulation: workload with faults, then heal, drain hints, a
/// final read-repair sweep over every key (R = N, the simulator's stand-in for anti-entropy), and
/// the checker.
public enum Simulator {
    /// Runs one seed.
    public static func run(seed: UInt64, options: SimulationOptions = SimulationOptions()) -> SimulationResult {
        let sim = Simulation(seed: seed, options: options)
        sim.startWorkload()
        sim.startFaults()
        let horizon: UInt64 = 50_000_000
        while !sim.workloadDone && sim.now < horizon { sim.run(until: sim.now + 1_000) }
        sim.stopFaults()
        drainHints(sim)
        // Final sweep: one R = N read per key; its read repair brings every replica up to the merge.
        for k in 0..<options.keys {
            let coordinator = k % options.nodes
            sim.drive(coordinator, .client(SweepRequests.base + ClientRequestID(k),
                                           .get(key: Simulation.key(k), quorum: Quorum(options.cluster.n))))
        }
        sim.run(until: sim.now + 2 * options.cluster.requestTimeout)
        drainHints(sim)
        sim.stats.endTime = sim.now

        var result = SimulationResult(seed: seed, violations: Checker(sim: sim).check(), stats: sim.stats,
                                      replayCommand: options.replayCommand(seed: seed))
        result.history = sim.history
        for op in sim.history {
            switch (op.kind, op.outcome) {
            case (.read, .ok):
                result.reads += 1
                if op.returned.count > 1 { result.readsWithSiblings += 1 }
            case (_, .ok): result.acknowledgedWrites += 1
            case (_, .failed): result.failedOperations += 1
            case (.read, _): break
            case (_, _): result.unknownWrites += 1
            }
        }
        return result
    }

    /// Runs until no node holds a hint (bounded).
    static func drainHints(_ sim: Simulation) {
        for _ in 0..<400 {
            sim.run(until: sim.now + sim.options.cluster.handoffInterval)
            if sim.stores.allSatisfy({ $0.hintCount == 0 }) && !sim.isRebalancing { break }
        }
        sim.run(until: sim.now + 2 * sim.options.maxDelay + 2)
    }

    /// Runs `count` seeds from `first`; stops early after `stopAfterFailures` failing seeds (0: never).
    public static func run(
        seeds count: Int, from first: UInt64, options: SimulationOptions = SimulationOptions(),
        stopAfterFailures: Int = 0, progress: (SimulationResult) -> Void = { _ in }
    ) -> [SimulationResult] {
        var failures: [SimulationResult] = []
        for s in 0..<UInt64(count) {
            let r = run(seed: first &+ s, options: options)
            progress(r)
            if !r.passed {
                failures.append(r)
                if stopAfterFailures > 0 && failures.count >= stopAfterFailures { break }
            }
        }
        return failures
    }
}
