import KVSimulator

/// A fault the chaos run injects into a cluster of real `kvnode` processes.
public enum FaultKind: String, CaseIterable, Sendable, Codable {
    /// kill -9 one node, restart it on its data after the fault's duration.
    case kill
    /// SIGSTOP one node (it stops answering; its connections stay open), SIGCONT after the duration.
    case pause
    /// Drop every packet between one node and the rest.
    case isolate
    /// A 2 | 3 split: packets dropped between the two sides.
    case split
    /// Packets from two nodes to the other three dropped; the other direction flows.
    case asymmetric
    /// 20 % of the packets between every pair of nodes dropped at random (iptables `statistic`).
    case loss
    /// Restart one node in a time namespace whose monotonic and boot clocks run an hour or a day ahead
    /// (its next restart, without one, jumps back).
    case clock
    /// A 2 | 3 split, and one node of the majority killed while it lasts.
    case killDuringSplit = "kill+split"
}

/// One round's fault, fixed by the run's seed: the nodes it involves (a shuffled order: the first is the
/// target of kill, pause, isolate and clock; the first two are the minority of a split and the senders of
/// an asymmetric cut; the third is killed in kill+split), how long it lasts and how far a clock jumps.
public struct PlannedFault: Sendable, Equatable, Codable {
    public var round: Int
    public var kind: FaultKind
    public var order: [Int]
    public var seconds: Double
    /// Seconds the clock of the target runs ahead (`clock` only; 0 otherwise).
    public var clockAhead: Int

    public init(round: Int, kind: FaultKind, order: [Int], seconds: Double, clockAhead: Int) {
        self.round = round
        self.kind = kind
        self.order = order
        self.seconds = seconds
        self.clockAhead = clockAhead
    }

    public var target: Int { order[0] }
    public var minority: [Int] { Array(order.prefix(2)) }
    public var majority: [Int] { Array(order.dropFirst(2)) }

    /// What the fault does, naming nodes `n1`… as the cluster does.
    public var summary: String {
        func name(_ i: Int) -> String { "n\(i + 1)" }
        let minority = self.minority.map(name).joined(separator: ",")
        let lasting = "for \(String(format: "%.1f", seconds)) s"
        switch kind {
        case .kill: return "kill -9 \(name(target)), restart after \(String(format: "%.1f", seconds)) s"
        case .pause: return "SIGSTOP \(name(target)) \(lasting)"
        case .isolate: return "isolate \(name(target)) \(lasting)"
        case .split: return "split \(minority) | rest \(lasting)"
        case .asymmetric: return "drop \(minority) -> rest (one direction) \(lasting)"
        case .loss: return "20 % packet loss between all nodes \(lasting)"
        case .clock: return "\(name(target)) restarted with its monotonic clock \(clockAhead) s ahead, then \(String(format: "%.1f", seconds)) s"
        case .killDuringSplit: return "split \(minority) | rest and kill -9 \(name(order[2])) \(lasting)"
        }
    }

    /// Nodes that cannot take client operations while the fault lasts (killed, paused or restarting).
    public var unavailable: Set<Int> {
        switch kind {
        case .kill, .pause, .clock: return [target]
        case .killDuringSplit: return [order[2]]
        case .isolate, .split, .asymmetric, .loss: return []
        }
    }
}

/// The faults of a whole run from one seed: kinds in a fixed cycle (every kind once per 8 rounds), nodes
/// and durations drawn from the seed, so the same seed gives the same schedule (timing still varies).
public enum ChaosSchedule {
    public static func make(seed: UInt64, rounds: Int, nodes: Int, seconds: ClosedRange<Double> = 2...5) -> [PlannedFault] {
        precondition(nodes >= 3, "a 2 | rest split needs at least 3 nodes")
        var rng = SplitMix64(seed: seed)
        let kinds = FaultKind.allCases
        return (0..<rounds).map { round in
            var order = Array(0..<nodes)
            order.shuffle(using: &rng)
            let kind = kinds[round % kinds.count]
            let duration = Double.random(in: seconds, using: &rng)
            let ahead = kind == .clock ? [3600, 86_400].randomElement(using: &rng)! : 0
            return PlannedFault(round: round + 1, kind: kind, order: order, seconds: (duration * 10).rounded() / 10, clockAhead: ahead)
        }
    }
}
