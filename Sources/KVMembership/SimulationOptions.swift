/// Settings of one membership simulation run (times in ms of virtual time).
public struct MembershipSimulationOptions: Sendable, Equatable {
    public var nodes = 5
    /// The first `seedNodes` nodes' addresses are every node's seed list.
    public var seedNodes = 2
    public var config = MembershipConfig()
    public var minDelay: UInt64 = 1
    public var maxDelay: UInt64 = 20
    /// Probability that any one message is lost.
    public var lossRate = 0.01
    /// Fault episodes per run (each followed by a wait for convergence).
    public var episodes = 6
    /// Which fault kinds episodes draw from.
    public var crashes = true
    public var pauses = true
    public var partitions = true
    public var churn = true
    /// SIGSTOP-like pause lengths (must stay below what the suspicion timeout tolerates).
    public var pauseDuration: ClosedRange<UInt64> = 200...2_000
    public var partitionDuration: ClosedRange<UInt64> = 2_000...10_000
    /// Every live member must mark a crashed node down within this.
    public var detectionBound: UInt64 = 10_000
    /// Every live member must see a restarted node up (new incarnation) within this.
    public var restartBound: UInt64 = 10_000
    /// After an episode, all live members must hold the same view within this.
    public var convergenceBound: UInt64 = 60_000
    /// Encode and decode every message (exercises `MembershipCoding`).
    public var encodeMessages = true
    /// Record every view change in `MembershipSimulationResult.trace` (for replaying one seed).
    public var trace = false
    /// Also record every message sent and timer fired.
    public var traceMessages = false

    public init() {}
}

/// What one seeded run saw.
public struct MembershipSimulationResult: Sendable {
    public var seed: UInt64
    public var violations: [String] = []
    /// Per (crash, live observer): ms from the crash until the observer marked the node down.
    public var detectionTimes: [UInt64] = []
    /// Per (restart, live observer): ms from the restart until the observer saw the node up again.
    public var restartTimes: [UInt64] = []
    /// Per episode: ms from the end of the fault until every live member held the same view.
    public var convergenceTimes: [UInt64] = []
    /// Suspicions (one per suspected incarnation, however many observers) of a member that was
    /// running, not paused and reachable, outside partition episodes: loss, delay, slow observers.
    public var falseSuspicions = 0
    /// Suspicions of a member during its pause episode (expected; must be refuted).
    public var pauseSuspicions = 0
    /// `down` of a member that was running and reachable (paused included): a violation each.
    public var falseDowns = 0
    public var refutations = 0
    public var crashes = 0, pauses = 0, partitions = 0, leaves = 0
    public var messages = 0, bytes = 0, dropped = 0
    public var endTime: UInt64 = 0
    /// With `options.trace`: "t=… observer: change" lines, plus the faults.
    public var trace: [String] = []

    public var passed: Bool { violations.isEmpty }
}

/// Figures over many seeds.
public struct MembershipSimulationSummary: Sendable {
    public var seeds = 0
    public var failures: [MembershipSimulationResult] = []
    public var detectionTimes: [UInt64] = []
    public var convergenceTimes: [UInt64] = []
    public var restartTimes: [UInt64] = []
    public var falseSuspicions = 0, pauseSuspicions = 0, falseDowns = 0, refutations = 0
    public var crashes = 0, pauses = 0, partitions = 0, leaves = 0, messages = 0

    /// The `p`-quantile (0...1) of sorted values (0 when empty).
    public static func quantile(_ sorted: [UInt64], _ p: Double) -> UInt64 {
        guard !sorted.isEmpty else { return 0 }
        let i = min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded(.up)))
        return sorted[i]
    }

    /// One line per figure.
    public var report: String {
        let d = detectionTimes.sorted(), c = convergenceTimes.sorted(), r = restartTimes.sorted()
        func q(_ v: [UInt64]) -> String {
            "p50 \(Self.quantile(v, 0.5)) p99 \(Self.quantile(v, 0.99)) max \(v.last ?? 0) (n=\(v.count))"
        }
        return """
        seeds \(seeds), failed \(failures.count); crashes \(crashes), pauses \(pauses), partitions \(partitions), leaves \(leaves)
        detection ms: \(q(d))
        restart seen up everywhere ms: \(q(r))
        convergence after each episode ms: \(q(c))
        false suspicions \(falseSuspicions), suspicions of paused nodes \(pauseSuspicions) (refutations \(refutations)), false downs \(falseDowns)
        messages \(messages)
        """
    }

    mutating func add(_ r: MembershipSimulationResult) {
        seeds += 1
        if !r.passed { failures.append(r) }
        detectionTimes += r.detectionTimes
        convergenceTimes += r.convergenceTimes
        restartTimes += r.restartTimes
        falseSuspicions += r.falseSuspicions
        pauseSuspicions += r.pauseSuspicions
        falseDowns += r.falseDowns
        refutations += r.refutations
        crashes += r.crashes
        pauses += r.pauses
        partitions += r.partitions
        leaves += r.leaves
        messages += r.messages
    }
}
