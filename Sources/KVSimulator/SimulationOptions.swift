import KVCluster

/// Which faults the simulated world injects.
public struct FaultSet: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Messages dropped at random.
    public static let loss = FaultSet(rawValue: 1)
    /// Messages delivered twice.
    public static let duplication = FaultSet(rawValue: 2)
    /// Random per-message delays (so messages overtake each other); off: a fixed delay.
    public static let reordering = FaultSet(rawValue: 4)
    /// The nodes split in two groups that cannot talk.
    public static let partitions = FaultSet(rawValue: 8)
    /// A node crashes (memory lost, durable store kept) and restarts later.
    public static let crashes = FaultSet(rawValue: 16)
    /// A node's messages take much longer for a while.
    public static let slowNodes = FaultSet(rawValue: 32)

    /// The failure detector wrongly tells a node that a healthy peer is down (sloppy quorum then
    /// writes to a fallback while the owner is up).
    public static let falseSuspicion = FaultSet(rawValue: 64)
    /// Membership churn: the last node starts outside the cluster and joins during the run; the others
    /// learn of it one by one (views differ for a while) and rebalance keys to it.
    public static let churn = FaultSet(rawValue: 128)

    public static let all: FaultSet = [.loss, .duplication, .reordering, .partitions, .crashes, .slowNodes, .falseSuspicion, .churn]
    public static let none: FaultSet = []

    /// Names as the command line spells them.
    public static let names: [(String, FaultSet)] = [
        ("loss", .loss), ("dup", .duplication), ("reorder", .reordering),
        ("partition", .partitions), ("crash", .crashes), ("slow", .slowNodes), ("suspect", .falseSuspicion),
        ("churn", .churn),
    ]

    /// Parses `all`, `none` or a comma-separated list of names; nil on an unknown name.
    public init?(parsing text: String) {
        if text == "all" { self = .all; return }
        if text == "none" || text.isEmpty { self = .none; return }
        var set = FaultSet.none
        for part in text.split(separator: ",") {
            guard let f = FaultSet.names.first(where: { $0.0 == part })?.1 else { return nil }
            set.insert(f)
        }
        self = set
    }

    /// The command-line spelling.
    public var name: String {
        if self == .all { return "all" }
        if self == .none { return "none" }
        return FaultSet.names.filter { contains($0.1) }.map(\.0).joined(separator: ",")
    }
}

/// Everything that shapes one simulated run besides the seed.
public struct SimulationOptions: Sendable, Equatable {
    public var nodes = 5
    public var keys = 3
    public var clients = 4
    public var operationsPerClient = 25
    public var faults: FaultSet = .all
    public var lossRate = 0.05
    public var duplicateRate = 0.05
    /// Message delay range in ticks (the upper bound applies with reordering on).
    public var minDelay: UInt64 = 1
    public var maxDelay: UInt64 = 20
    /// Extra delay of a slow node's messages.
    public var slowDelay: ClosedRange<UInt64> = 100...600
    /// How long a crash, partition or slowdown lasts.
    public var faultDuration: ClosedRange<UInt64> = 200...3_000
    /// Mean ticks between fault starts during the workload.
    public var faultInterval: UInt64 = 500
    /// Failure-detector delay before peers learn a node is down or up.
    public var detectionDelay: ClosedRange<UInt64> = 10...150
    /// Ticks a client waits for a reply before recording the operation as unknown.
    public var clientTimeout: UInt64 = 3_000
    /// Ticks between a client's operations.
    public var thinkTime: ClosedRange<UInt64> = 1...60
    /// Send every peer message through `ClusterCoding` (encode, decode, compare) as a shell would.
    public var encodeMessages = true
    /// Settings shared by the simulated nodes (the planted bug goes in `cluster.plantedBug`).
    public var cluster: ClusterConfig

    public init() {
        var c = ClusterConfig()
        c.tokensPerNode = 16
        c.requestTimeout = 1_000
        c.handoffInterval = 200
        cluster = c
    }

    /// The one-line command that replays `seed` with these options.
    public func replayCommand(seed: UInt64) -> String {
        var cmd = "swift run kvbench simulate --seeds 1 --from \(seed) --faults \(faults.name)"
        if let bug = cluster.plantedBug { cmd += " --plant-bug \(bug.rawValue)" }
        if cluster.lastWriteWins { cmd += " --lww" }
        if !cluster.reapTombstones { cmd += " --keep-tombstones" }
        let d = SimulationOptions()
        if nodes != d.nodes { cmd += " --nodes \(nodes)" }
        if keys != d.keys { cmd += " --keys \(keys)" }
        if clients != d.clients { cmd += " --clients \(clients)" }
        if operationsPerClient != d.operationsPerClient { cmd += " --ops \(operationsPerClient)" }
        return cmd
    }
}
