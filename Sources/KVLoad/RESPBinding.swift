import KVWorkload
import NIOCore
import NIOPosix
import RESP

/// Settings of the RESP bindings (`redis`, `kvnode`).
public struct RESPBindingConfiguration: Sendable {
    /// `host:port` of each server; connection i of a worker goes to host i mod count.
    public var hosts: [String]
    /// Connections each worker thread opens.
    public var connectionsPerThread: Int
    /// Requests in flight per connection (1 = request/response).
    public var pipelineDepth: Int
    /// An operation older than this fails its connection with `timeout` outcomes.
    public var timeoutSeconds: Double

    public init(hosts: [String], connectionsPerThread: Int = 1, pipelineDepth: Int = 1, timeoutSeconds: Double = 10) {
        self.hosts = hosts
        self.connectionsPerThread = max(connectionsPerThread, 1)
        self.pipelineDepth = max(pipelineDepth, 1)
        self.timeoutSeconds = timeoutSeconds
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
public enum RESPDriver {
    public static func run(plan: RunPlan, configuration: RESPBindingConfiguration, bindingName: String,
                           status: StatusLine? = nil) throws -> RunResult {
        try plan.validate()
        guard !configuration.hosts.isEmpty else { throw LoadError.binding("no hosts") }
        let endpoints = try configuration.hosts.map { host throws(LoadError) in try RESPBindingConfiguration.endpoint(host) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        defer { try? group.syncShutdownGracefully() }
        let collector = IntervalCollector()
        let pool = RecordValues.makePool(for: plan.spec)
        var workers: [NIOWorker] = []
        var loops = group.makeIterator()
        let start = MonotonicClock.nanoseconds() + 50_000_000
        let startWall = wallClockSeconds() + 0.05
        for index in 0..<plan.threads {
            let loop = loops.next()!
            let core = WorkerCore(index: index, plan: plan, start: start, collector: collector, nodeCount: endpoints.count)
            let worker = NIOWorker(loop: loop, core: core, values: RecordValues(spec: plan.spec, pool: pool),
                                   depth: configuration.pipelineDepth, timeout: UInt64(configuration.timeoutSeconds * 1e9),
                                   interval: plan.intervalNanos)
            workers.append(worker)
            for c in 0..<configuration.connectionsPerThread {
                let node = c % endpoints.count
                let (host, port) = endpoints[node]
                let channel: Channel
                do {
                    channel = try ClientBootstrap(group: loop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connect(host: host, port: port).wait()
                } catch {
                    throw LoadError.binding("cannot connect to \(host):\(port): \(error)")
                }
                try loop.submit {
                    let handler = RESPConnection(worker: worker, index: c, node: node, depth: configuration.pipelineDepth)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    worker.connections.append(handler)
                }.wait()
            }
        }
        for worker in workers { worker.loop.execute { worker.begin() } }
        let nodeNames = configuration.hosts
        return LoadDriver.collect(plan: plan, collector: collector, clock: MonotonicClock(), start: start, startWall: startWall,
                                  bindingName: bindingName, nodeNames: nodeNames, status: status)
    }
}
