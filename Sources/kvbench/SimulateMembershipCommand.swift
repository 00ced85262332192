import ArgumentParser
import KVMembership

/// `kvbench simulate-membership`: the SWIM + Lifeguard failure detector over many seeds, with
/// crashes, pauses, partitions, leaves and rejoins under message loss; counts false suspicions.
struct SimulateMembershipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-membership",
        abstract: "Run the deterministic membership (SWIM + Lifeguard) simulator over many seeds.",
        discussion: """
        Each seed starts --nodes members that join through two seeds on a virtual network (delays 1-20 ms, \
        --loss message loss), then runs --episodes fault episodes: a crash and restart, a pause shorter than \
        --max-pause-ms (a SIGSTOP; it must be suspected at most, never declared down), a partition, a graceful \
        leave and rejoin; after each, it waits until every live member holds the same view. Checks: a crashed \
        node is declared down by every live member within 10 s, a paused or reachable node never is, views \
        converge, a restarted node is up everywhere again. Prints detection, restart and convergence \
        percentiles and counts false suspicions (a running, reachable member suspected).
        """
    )

    @Option(help: "Number of seeds to run.") var seeds = 1000
    @Option(help: "First seed.") var from: UInt64 = 0
    @Option(help: "Members.") var nodes = 5
    @Option(help: "Message loss rate (0...0.5).") var loss = 0.01
    @Option(help: "Fault episodes per seed.") var episodes = 6
    @Option(help: "Longest pause (ms).") var maxPauseMs: UInt64 = 2_000
    @Option(help: "Protocol period (ms); the direct-ack timeout is half of it. kvnode's default is 700.") var probeIntervalMs: UInt64 = 1_000
    @Option(help: "Suspicion timeout once confirmed (ms; default: kvnode's 2000 with a 700 ms period, else 1500).") var suspicionMinMs: UInt64?
    @Option(help: "Stop after this many failing seeds (0: run them all).") var stopAfter = 0

    func run() throws {
        guard seeds > 0, (3...64).contains(nodes), (0...0.5).contains(loss), episodes > 0, maxPauseMs >= 200,
              probeIntervalMs >= 100 else {
            throw ValidationError("need --seeds > 0, 3 <= --nodes <= 64, 0 <= --loss <= 0.5, --episodes > 0, --max-pause-ms >= 200, --probe-interval-ms >= 100")
        }
        var options = MembershipSimulationOptions()
        options.nodes = nodes
        options.lossRate = loss
        options.episodes = episodes
        options.pauseDuration = 200...maxPauseMs
        options.config.probeInterval = probeIntervalMs
        options.config.probeTimeout = probeIntervalMs / 2
        if probeIntervalMs == 700 { options.config.suspicionMinTimeout = 2_000 }  // kvnode's setting
        if let m = suspicionMinMs {
            guard m > 0, m <= options.config.suspicionMaxTimeout else { throw ValidationError("--suspicion-min-ms must be 1...\(options.config.suspicionMaxTimeout)") }
            options.config.suspicionMinTimeout = m
        }
        let summary = MembershipSimulator.run(seeds: seeds, from: from, options: options, stopAfterFailures: stopAfter)
        print("membership simulation: \(nodes) nodes, loss \(loss), probe period \(probeIntervalMs) ms, suspicion \(options.config.suspicionMinTimeout)-\(options.config.suspicionMaxTimeout) ms, pauses up to \(maxPauseMs) ms")
        print(summary.report)
        for f in summary.failures.prefix(10) {
            print("FAIL seed \(f.seed): \(f.violations.first ?? "")")
        }
        if !summary.failures.isEmpty { throw ExitCode(1) }
    }
}
