import Foundation
import KVClusterControl
import KVScenario
import NIOPosix

/// Settings of a chaos run (`kvbench chaos`).
public struct ChaosOptions: Sendable {
    public var kvnode: String
    /// Node data and logs go under it (one folder per campaign).
    public var directory: String
    public var seed: UInt64
    /// One address per node (the run's private network namespace has all of 127.0.0.0/8 on its loopback).
    public var hosts = (2...6).map { "127.0.0.\($0)" }
    public var port = 7000
    /// Extra kvnode flags for every node.
    public var nodeArguments: [String] = []
    /// How long each fault lasts (drawn per round from the seed).
    public var faultSeconds: ClosedRange<Double> = 2...5
    /// A round fails when the cluster has not converged this long after the heal.
    public var convergenceLimit = 90.0

    public init(kvnode: String, directory: String, seed: UInt64) {
        self.kvnode = kvnode
        self.directory = directory
        self.seed = seed
    }
}

/// One fault round: what it did and how long after the heal everything acknowledged was on every replica.
public struct ChaosRoundResult: Sendable, Codable, Equatable {
    public var round: Int
    public var fault: FaultKind
    public var summary: String
    /// Seconds from the heal until converged; nil: not within the limit.
    public var convergedSeconds: Double?
    /// Acknowledged so far (unique writes, set elements).
    public var writes: Int
    public var elements: Int
    /// At the last look when it did not converge: copies missing and elements lost.
    public var missingCopies: Int?
    public var lostElements: Int?
}

/// A campaign's outcome: every round, then the final check of every acknowledged write and element.
public struct ChaosCampaignResult: Sendable, Codable, Equatable {
    /// `siblings` (the default versioning) or `last-write-wins`.
    public var mode: String
    public var rounds: [ChaosRoundResult]
    public var writes: Int
    public var elements: Int
    public var notAcknowledged: Int
    /// Acknowledged (key, replica) pairs without the acknowledged value at the end.
    public var missingCopies: Int
    /// Acknowledged set elements missing from some replica's copy at the end.
    public var lostElements: Int
    /// Most siblings a replica's copy of a set key held at the end, and the most a KV.GET returned during the run.
    public var mostSiblingsAtEnd: Int
    public var mostSiblingsRead: Int
    public var siblingReads: Int
    public var seconds: Double

    /// Median and maximum convergence time over the rounds that converged (nil when none did).
    public var convergence: (p50: Double, max: Double)? {
        let times = rounds.compactMap(\.convergedSeconds).sorted()
        guard !times.isEmpty else { return nil }
        return (times[times.count / 2], times.last!)
    }

    /// Rounds that did not converge within the limit.
    public var unconverged: [Int] { rounds.filter { $0.convergedSeconds == nil }.map(\.round) }
}

/// Runs chaos campaigns: a cluster of real `kvnode` processes (`--fsync always`) on addresses of their own,
/// the `ChaosWorkload` running throughout, and one fault per round from the `ChaosSchedule`; after each heal
/// it waits until the cluster converged (`ClusterProbe.waitConverged`) and records how long that took.
/// Must run inside a private network namespace (iptables rules drop traffic between those addresses).
public final class ChaosRun: @unchecked Sendable {
    public let options: ChaosOptions
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public init(options: ChaosOptions) { self.options = options }

    deinit { try? group.syncShutdownGracefully() }

    /// One campaign of `rounds` faults; `lastWriteWins` starts the nodes with `--last-write-wins`, whose set
    /// elements are not waited for (it loses concurrent additions by design). `port` must differ per campaign.
    public func campaign(rounds: Int, lastWriteWins: Bool, port: Int, log: (String) -> Void) throws -> ChaosCampaignResult {
        let mode = lastWriteWins ? "last-write-wins" : "siblings"
        let spec = ClusterSpec(nodes: options.hosts.count, host: "127.0.0.1", basePort: port, n: 3, r: 2, w: 2,
                               args: ["--fsync", "always"] + (lastWriteWins ? ["--last-write-wins"] : []) + options.nodeArguments)
        let cluster = try LocalCluster(kvnode: options.kvnode, directory: options.directory + "/" + mode, spec: spec, hosts: options.hosts)
        let network = NetworkFaults(hosts: options.hosts)
        defer {
            try? network.heal()
            cluster.stopAll()
        }
        try cluster.start(timeout: 60)
        let endpoints = options.hosts.map { (host: $0, port: port) }
        let probe = ClusterProbe(endpoints: endpoints, group: group)
        let workload = ChaosWorkload(endpoints: endpoints, group: group)
        let schedule = ChaosSchedule.make(seed: options.seed &+ (lastWriteWins ? 1 : 0), rounds: rounds,
                                          nodes: options.hosts.count, seconds: options.faultSeconds)
        let started = Date()
        workload.start(seed: options.seed)
        var results: [ChaosRoundResult] = []
        var verified = Set<String>()
        do {
            usleep(1_000_000)
            for fault in schedule {
                workload.setUnavailable(fault.unavailable)
                try inject(fault, cluster: cluster, network: network)
                let healed = Date()
                workload.setUnavailable([])
                let (writes, elements) = workload.snapshot()
                let fresh = writes.filter { !verified.contains($0.key) }
                let outcome = probe.waitConverged(since: healed, writes: fresh, elements: elements, limit: options.convergenceLimit,
                                                  checkSets: !lastWriteWins)
                if outcome.seconds != nil { verified.formUnion(fresh.keys) }
                let elementCount = elements.values.reduce(0) { $0 + $1.count }
                results.append(ChaosRoundResult(round: fault.round, fault: fault.kind, summary: fault.summary,
                                                convergedSeconds: outcome.seconds, writes: writes.count, elements: elementCount,
                                                missingCopies: outcome.seconds == nil ? outcome.missing : nil,
                                                lostElements: outcome.seconds == nil ? outcome.lost : nil))
                let converged = outcome.seconds.map { String(format: "converged after %.1f s", $0) }
                    ?? "NOT converged within \(Int(options.convergenceLimit)) s (missing copies \(outcome.missing.map(String.init) ?? "?"), lost elements \(outcome.lost.map(String.init) ?? "?"))"
                log("[\(mode)] round \(fault.round): \(fault.summary); \(converged) (\(writes.count) writes, \(elementCount) set elements acknowledged)")
            }
        } catch {
            workload.stop()
            throw error
        }
        workload.stop()
        let (writes, elements) = workload.snapshot()
        let final = probe.waitConverged(since: Date(), writes: writes, elements: elements, limit: options.convergenceLimit,
                                        checkSets: !lastWriteWins)
        let missing = try final.missing ?? probe.missingCopies(writes)
        let sets = try probe.setState(elements)
        return ChaosCampaignResult(mode: mode, rounds: results, writes: writes.count,
                                   elements: elements.values.reduce(0) { $0 + $1.count }, notAcknowledged: workload.notAcknowledged,
                                   missingCopies: missing, lostElements: sets.lost, mostSiblingsAtEnd: sets.mostSiblings,
                                   mostSiblingsRead: workload.mostSiblingsRead, siblingReads: workload.siblingReads,
                                   seconds: Date().timeIntervalSince(started))
    }

    /// Applies `fault` for its duration and lifts it (restarted nodes are started, not waited for).
    private func inject(_ fault: PlannedFault, cluster: LocalCluster, network: NetworkFaults) throws {
        func id(_ i: Int) -> String { "n\(i + 1)" }
        let pause = useconds_t(fault.seconds * 1_000_000)
        switch fault.kind {
        case .kill:
            try cluster.kill9(id(fault.target))
            usleep(pause)
            try cluster.restart(id(fault.target), waitReady: false)
        case .pause:
            try cluster.pause(id(fault.target))
            usleep(pause)
            try cluster.resume(id(fault.target))
        case .isolate:
            try network.cut([[fault.target], fault.order.filter { $0 != fault.target }])
            usleep(pause)
            try network.heal()
        case .split:
            try network.cut([fault.minority, fault.majority])
            usleep(pause)
            try network.heal()
        case .killDuringSplit:
            try network.cut([fault.minority, fault.majority])
            try cluster.kill9(id(fault.order[2]))
            usleep(pause)
            try network.heal()
            try cluster.restart(id(fault.order[2]), waitReady: false)
        case .asymmetric:
            try network.drop(from: fault.minority, to: fault.majority)
            usleep(pause)
            try network.heal()
        case .loss:
            try network.loss(probability: 0.2)
            usleep(pause)
            try network.heal()
        case .clock:
            try cluster.kill9(id(fault.target))
            try cluster.restart(id(fault.target), clockAhead: fault.clockAhead, waitReady: false)
            usleep(pause)
        }
    }
}
