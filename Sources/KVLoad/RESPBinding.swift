import KVWorkload
import NIOCore
import NIOPosix
import RESP

/// Settings of the RESP bindings (`redis`, `kvnode`).
public struct RESPBindingConfiguration: Sendable {
    /// `host:port` of each server; connection i of a worker goes to host i mod count. In kvnode cluster
    /// mode these are only where discovery starts (the first reachable one is asked).
    public var hosts: [String]
    /// Connections each worker thread opens (in kvnode cluster mode: to each member).
    public var connectionsPerThread: Int
    /// Requests in flight per connection (1 = request/response).
    public var pipelineDepth: Int
    /// An operation older than this fails its connection with `timeout` outcomes.
    public var timeoutSeconds: Double
    /// Ask the first reachable host whether it is a kvnode cluster member and, if so, connect to every
    /// member (the `kvnode` binding). False: the hosts are plain RESP servers (`redis`).
    public var discoverCluster: Bool
    /// In cluster mode, send each operation to one of its key's replicas (owner first). False: any
    /// member coordinates any operation (any free connection, as for plain servers).
    public var clusterRouting: Bool
    /// TLS and AUTH for every connection (discovery and measured ones alike).
    public var connector: RESPConnector

    public init(hosts: [String], connectionsPerThread: Int = 1, pipelineDepth: Int = 1, timeoutSeconds: Double = 10,
                discoverCluster: Bool = false, clusterRouting: Bool = true, connector: RESPConnector = .plain) {
        self.hosts = hosts
        self.connectionsPerThread = max(connectionsPerThread, 1)
        self.pipelineDepth = max(pipelineDepth, 1)
        self.timeoutSeconds = timeoutSeconds
        self.discoverCluster = discoverCluster
        self.clusterRouting = clusterRouting
        self.connector = connector
    }

    /// Splits `host:port` (default port 6379).
    static func endpoint(_ text: String) throws(LoadError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else { return (text, 6379) }
        guard let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw .binding("bad host \(text) (expected host:port)")
        }
        return (String(text[..<colon]), port)
    }
}

/// Drives RESP servers over SwiftNIO: one event loop per worker thread, each with
/// `connectionsPerThread` connections and `pipelineDepth` requests in flight per connection.
/// Mapping: read → GET, update/insert → SET of the whole record, delete → DEL, read-modify-write
/// → GET and SET pipelined (one operation, done when both replied), scan → MGET of
/// `scanLength` consecutive keynums (plain strings have no ordered scan; this reads the same
/// number of records). Null bulk / `DEL` 0 → not found, `-ERR` → error.
///
/// kvnode cluster mode (`discoverCluster` and the first reachable host answers `CLUSTER.MEMBERS`):
/// `connectionsPerThread` connections to every member that is up; with `clusterRouting` each
/// operation goes to a replica of its key (see `NIOWorker`), and per-node counts are per coordinating
/// member, named by node id. A scan (MGET) is routed by its first key only.
public enum RESPDriver {
    public static func run(plan: RunPlan, configuration: RESPBindingConfiguration, bindingName: String,
                           status: StatusLine? = nil) throws -> RunResult {
        try plan.validate()
        guard !configuration.hosts.isEmpty else { throw LoadError.binding("no hosts") }
        let seeds = try configuration.hosts.map { host throws(LoadError) in try RESPBindingConfiguration.endpoint(host) }
        // Connections reach their worker through unretained references, and a worker's own timers let go of it
        // when it finishes; so the workers are kept until the event loops have shut down (nothing is released
        // early, before or during the last events of their connections).
        var workers: [NIOWorker] = []
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        defer {
            try? group.syncShutdownGracefully()
            withExtendedLifetime(workers) {}
        }
        let targets = try connectionTargets(configuration: configuration, seeds: seeds, group: group)
        let collector = IntervalCollector()
        let pool = RecordValues.makePool(for: plan.spec)
        var loops = group.makeIterator()
        let start = MonotonicClock.nanoseconds() + 50_000_000
        let startWall = wallClockSeconds() + 0.05
        for index in 0..<plan.threads {
            let loop = loops.next()!
            let core = WorkerCore(index: index, plan: plan, start: start, collector: collector, nodeCount: targets.names.count)
            let worker = NIOWorker(loop: loop, core: core, values: RecordValues(spec: plan.spec, pool: pool),
                                   depth: configuration.pipelineDepth, timeout: UInt64(configuration.timeoutSeconds * 1e9),
                                   interval: plan.intervalNanos, router: targets.router)
            workers.append(worker)
            for node in targets.connectionNodes {
                guard let (host, port) = targets.endpoints[node] else { continue }
                let channel: Channel
                do {
                    channel = try BlockingRESPClient.connect(host: host, port: port, group: loop,
                                                             connector: configuration.connector).detach()
                } catch {
                    throw LoadError.binding("cannot connect to \(targets.names[node]) at \(host):\(port): \(error)")
                }
                try loop.submit {
                    let handler = RESPConnection(worker: worker, index: worker.connections.count, node: node,
                                                 group: worker.group(ofNode: node), depth: configuration.pipelineDepth)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    worker.connections.append(handler)
                }.wait()
            }
        }
        for worker in workers { worker.loop.execute { worker.begin() } }
        var result = LoadDriver.collect(plan: plan, collector: collector, clock: MonotonicClock(), start: start, startWall: startWall,
                                        bindingName: bindingName, nodeNames: targets.names, status: status)
        result.notes += targets.notes
        return result
    }

    /// Where a worker's connections go: `names[i]` and `endpoints[i]` (nil: member down, not connected)
    /// per node; `connectionNodes[c]` the node of connection c; the router under cluster routing.
    struct ConnectionTargets {
        var names: [String]
        var endpoints: [(String, Int)?]
        var connectionNodes: [Int]
        var router: ClusterRouter?
        var notes: [String] = []
    }

    static func connectionTargets(configuration: RESPBindingConfiguration, seeds: [(String, Int)],
                                  group: EventLoopGroup) throws -> ConnectionTargets {
        let perThread = configuration.connectionsPerThread
        guard configuration.discoverCluster, let topology = try ClusterDiscovery.discover(hosts: seeds, group: group,
                                                                                                  connector: configuration.connector) else {
            return ConnectionTargets(names: configuration.hosts, endpoints: seeds,
                                     connectionNodes: (0..<perThread).map { $0 % seeds.count }, router: nil)
        }
        let ids = topology.members.map(\.id)
        let router = try ClusterRouter(memberIDs: ids, n: topology.n, tokensPerNode: topology.tokensPerNode)
        try ClusterDiscovery.verify(router, hosts: seeds, group: group, connector: configuration.connector)
        var endpoints: [(String, Int)?] = []
        for member in topology.members {
            endpoints.append(member.isUp ? try RESPBindingConfiguration.endpoint(member.address) : nil)
        }
        // Interleaved (n1, n2, n3, n1, …) so that without routing the free-slot order spreads over members.
        var connectionNodes: [Int] = []
        for _ in 0..<perThread { connectionNodes += endpoints.indices.filter { endpoints[$0] != nil } }
        guard !connectionNodes.isEmpty else { throw LoadError.binding("no cluster member is up") }
        let down = topology.members.filter { !$0.isUp }.map(\.id)
        var notes = ["kvnode cluster: \(ids.count) members (\(ids.joined(separator: ", "))), N=\(topology.n), "
                     + "\(perThread) connection(s) per member per thread; "
                     + (configuration.clusterRouting
                        ? "each operation sent to a replica of its key (owner first, else the next replica with a free slot, else it waits)"
                        : "routing off: any member coordinates any operation")]
        if !down.isEmpty { notes.append("members down at start (not connected): \(down.joined(separator: ", "))") }
        return ConnectionTargets(names: ids, endpoints: endpoints, connectionNodes: connectionNodes,
                                 router: configuration.clusterRouting ? router : nil, notes: notes)
    }
}
