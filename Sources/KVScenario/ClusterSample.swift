/// What one node said about itself and the cluster at one moment of a scenario run (from `INFO` and
/// `CLUSTER.MEMBERS`), `time` in seconds from the run's start.
public struct NodeSample: Sendable, Equatable {
    public var node: String
    /// False when the node did not answer (killed, paused, gone).
    public var reachable: Bool
    /// Its view of every member's state (`up`, `suspect`, `down`, …) by id.
    public var view: [String: String] = [:]
    public var ringMembers = 0
    public var rebalancing = false
    /// Keys it stores (replica copies).
    public var keys = 0
    public var rebalanceKeysReceived = 0
    public var rebalanceBytesReceived = 0
    public var rebalanceKeysSent = 0
    public var rebalanceBytesSent = 0
    /// Client requests it coordinated and peer messages it took in, since it started.
    public var clientRequests = 0
    public var peerMessagesIn = 0

    public init(node: String, reachable: Bool) {
        self.node = node
        self.reachable = reachable
    }
}

/// Every node's sample taken in one polling round.
public struct ClusterSample: Sendable, Equatable {
    public var time: Double
    public var nodes: [NodeSample]

    public init(time: Double, nodes: [NodeSample]) {
        self.time = time
        self.nodes = nodes
    }

    /// The reachable nodes other than `node`.
    func observers(excluding node: String?) -> [NodeSample] { nodes.filter { $0.reachable && $0.node != node } }
}

/// The load as the generator saw it, per interval from the run's start: operations completed,
/// errors and timeouts, and the latency percentiles over any window (merged histograms, not
/// averaged percentiles).
public struct LoadSeries: Sendable {
    public var intervalSeconds: Double
    public var operations: [Int]
    public var errors: [Int]
    /// p99 and p99.9 in microseconds over intervals [from, to), nil when none completed.
    public var windowPercentiles: @Sendable (_ from: Int, _ to: Int) -> (p99: Double, p999: Double, count: Int)?

    public init(intervalSeconds: Double = 1, operations: [Int], errors: [Int],
                windowPercentiles: @escaping @Sendable (Int, Int) -> (p99: Double, p999: Double, count: Int)?) {
        self.intervalSeconds = intervalSeconds
        self.operations = operations
        self.errors = errors
        self.windowPercentiles = windowPercentiles
    }
}

/// An event as it was carried out: when (seconds from the run's start) and what happened.
public struct ExecutedEvent: Sendable, Equatable {
    public var event: ScenarioEvent
    public var time: Double
    /// The node it made (add-node) or acted on.
    public var node: String?
    /// Empty when it went as planned, else what failed.
    public var problem: String

    public init(event: ScenarioEvent, time: Double, node: String?, problem: String = "") {
        self.event = event
        self.time = time
        self.node = node
        self.problem = problem
    }
}
