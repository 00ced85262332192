/// A scenario: the cluster a run needs and the timed events that happen to it during the run
/// (`kvbench run kvnode --scenario FILE`). Pure data, validated when built; `ScenarioFile` reads it
/// from YAML.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String
    public var cluster: ClusterSpec
    /// Measured run length and warm-up the scenario was written for (the command line may override).
    public var duration: Double?
    public var warmup: Double?
    /// Events in time order (ties keep the file's order).
    public var events: [ScenarioEvent]

    public init(name: String, description: String = "", cluster: ClusterSpec = ClusterSpec(), duration: Double? = nil,
                warmup: Double? = nil, events: [ScenarioEvent]) throws(ScenarioError) {
        self.name = name
        self.description = description
        self.cluster = cluster
        self.duration = duration
        self.warmup = warmup
        self.events = Self.inTimeOrder(events)
        try validate()
    }

    /// `events` sorted by time; events at the same time keep their order.
    public static func inTimeOrder(_ events: [ScenarioEvent]) -> [ScenarioEvent] {
        events.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
    }

    /// Node ids the scenario may use: `n1`…`n<nodes>` at start, then one per `add-node` event.
    public var nodeIDs: [String] {
        let added = events.filter { $0.action == .addNode }.count
        return (1...(cluster.nodes + added)).map { "n\($0)" }
    }

    /// Checks what a run would otherwise find out half-way: unknown nodes, pausing a paused node,
    /// events past the run, more nodes than ports.
    func validate() throws(ScenarioError) {
        guard !name.isEmpty else { throw .invalid("the scenario needs a name") }
        guard (1...64).contains(cluster.nodes) else { throw .invalid("cluster.nodes must be 1...64 (got \(cluster.nodes))") }
        guard (1...cluster.nodes).contains(cluster.n) else { throw .invalid("cluster.n must be 1...nodes (got \(cluster.n))") }
        guard (1...cluster.n).contains(cluster.r), (1...cluster.n).contains(cluster.w) else {
            throw .invalid("cluster.r and cluster.w must be 1...n")
        }
        guard cluster.basePort == 0 || (1024...60000).contains(cluster.basePort) else {
            throw .invalid("cluster.base-port must be 0 (pick free ports) or 1024...60000")
        }
        if let duration, duration <= 0 { throw .invalid("run.duration must be positive") }
        var known = Set((1...cluster.nodes).map { "n\($0)" })
        var paused = Set<String>(), killed = Set<String>(), gone = Set<String>()
        var added = cluster.nodes
        for (i, e) in events.enumerated() {
            let label = "event \(i + 1) (\(e.action.rawValue) at \(e.at) s)"
            guard e.at >= 0 else { throw .invalid("\(label): 'at' must not be negative") }
            if let duration, e.at > duration { throw .invalid("\(label) is after the end of the run (\(duration) s)") }
            if e.action == .addNode {
                added += 1
                known.insert("n\(added)")
                continue
            }
            guard e.action.needsNode == (e.node != nil) else {
                throw .invalid(e.action.needsNode ? "\(label) needs a node: (n1...)" : "\(label) takes no node")
            }
            if let node = e.node {
                guard known.contains(node) else { throw .invalid("\(label): unknown node \(node) (known: \(known.sorted().joined(separator: ", ")))") }
                guard !gone.contains(node) else { throw .invalid("\(label): \(node) already left or was removed") }
                switch e.action {
                case .kill:
                    guard !killed.contains(node) else { throw .invalid("\(label): \(node) is already killed") }
                    killed.insert(node); paused.remove(node)
                case .restart:
                    killed.remove(node); paused.remove(node)
                case .pause:
                    guard !paused.contains(node), !killed.contains(node) else { throw .invalid("\(label): \(node) is not running") }
                    if e.duration == nil { paused.insert(node) }
                case .resume:
                    guard paused.remove(node) != nil else { throw .invalid("\(label): \(node) is not paused") }
                case .leave, .removeNode:
                    gone.insert(node)
                case .addNode, .hotKey, .rate:
                    break
                }
            }
            if e.action == .hotKey {
                guard let d = e.duration, d > 0 else { throw .invalid("\(label) needs a positive duration") }
                guard let rate = e.rate, rate > 0 else { throw .invalid("\(label) needs a positive rate (ops/s)") }
                guard e.key?.isEmpty == false else { throw .invalid("\(label) needs a key") }
            }
            if e.action == .rate {
                guard let rate = e.rate, rate >= 0, rate.isFinite else { throw .invalid("\(label) needs a rate (ops/s, 0 = unthrottled)") }
            }
            if let d = e.duration, d <= 0 { throw .invalid("\(label): duration must be positive") }
        }
    }
}

/// The cluster a scenario starts: `nodes` kvnode processes on `host`, client ports from `basePort`
/// (0: free ports chosen at start), peer ports 10000 above, N/R/W, and extra kvnode flags.
public struct ClusterSpec: Sendable, Equatable {
    public var nodes = 3
    public var host = "127.0.0.1"
    public var basePort = 0
    public var n = 3
    public var r = 2
    public var w = 2
    public var args: [String] = []

    public init(nodes: Int = 3, host: String = "127.0.0.1", basePort: Int = 0, n: Int = 3, r: Int = 2, w: Int = 2, args: [String] = []) {
        self.nodes = nodes
        self.host = host
        self.basePort = basePort
        self.n = n
        self.r = r
        self.w = w
        self.args = args
    }
}

/// One timed event, `at` seconds after the measured run starts.
public struct ScenarioEvent: Sendable, Equatable {
    public var at: Double
    public var action: ScenarioAction
    /// The node it acts on (every action but `add-node` and `hot-key`).
    public var node: String?
    /// `pause`: resumed after this long (otherwise a later `resume`); `hot-key`: how long the storm lasts.
    public var duration: Double?
    /// `hot-key`: operations per second on the key (GETs, with one SET per 10); `rate`: the workload's new rate.
    public var rate: Double?
    /// `hot-key`: the key.
    public var key: String?
    /// `hot-key`: connections the storm uses.
    public var connections: Int

    public init(at: Double, action: ScenarioAction, node: String? = nil, duration: Double? = nil, rate: Double? = nil,
                key: String? = nil, connections: Int = 4) {
        self.at = at
        self.action = action
        self.node = node
        self.duration = duration
        self.rate = rate
        self.key = key
        self.connections = connections
    }
}

/// What an event does to the cluster.
public enum ScenarioAction: String, Sendable, CaseIterable {
    /// Start a new node that joins through the running members (`kvnode --join`).
    case addNode = "add-node"
    /// `CLUSTER.LEAVE` on the node: it hands its data over and leaves the ring.
    case leave
    /// `CLUSTER.REMOVE node` through another member: its replicas are re-created from the survivors.
    case removeNode = "remove-node"
    /// SIGKILL.
    case kill
    /// SIGSTOP (then SIGCONT after `duration`, or at a later `resume`).
    case pause
    /// SIGCONT.
    case resume
    /// Start a killed node again with its data (or SIGTERM and start a running one).
    case restart
    /// A storm of requests on one key, next to the workload.
    case hotKey = "hot-key"
    /// The workload's offered rate (ops/s, total) from now on; 0 = unthrottled.
    case rate

    var needsNode: Bool { self != .addNode && self != .hotKey && self != .rate }

    /// Whether the event changes the ring (and so moves data).
    public var changesMembership: Bool { self == .addNode || self == .leave || self == .removeNode }
}

/// A scenario that cannot run: the text says what and where.
public enum ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let text): return "scenario: \(text)"
        }
    }
}
