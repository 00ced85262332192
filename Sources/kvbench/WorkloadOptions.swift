import ArgumentParser
import Foundation
import KVCluster
import KVEmbeddedCluster
import KVLoad
import KVScenario
import KVStorage
import KVTLS
import KVWorkload

/// Options shared by `load` and `run`: the workload, the binding's connection settings, pacing and output.
struct WorkloadOptions: ParsableArguments {
    @Argument(help: "Binding: embedded (an in-process Dynamo cluster, default), kvnode, redis (any RESP server) or null (measures kvbench itself).")
    var binding: String = "embedded"

    @Option(name: .customShort("P"), help: ArgumentHelp("A YCSB workload properties file (repeatable; later files win).", valueName: "file"))
    var propertyFiles: [String] = []

    @Option(name: .customShort("p"), help: ArgumentHelp("A property override (repeatable; wins over every file).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(name: .long, help: "Server host:port for redis/kvnode (repeatable or comma-separated; default 127.0.0.1:6379). For a kvnode cluster: where discovery starts; every member is used.")
    var hosts: [String] = []

    @Option(name: .long, help: "Password sent with AUTH on every connection (redis/kvnode; as redis-benchmark -a).")
    var password: String?

    @Option(name: .long, help: "ACL user for AUTH user password (redis/kvnode; needs --password).")
    var user: String?

    @Flag(name: .long, help: "Connect with TLS (redis/kvnode). The server's certificate is checked against --tls-ca (default: the system's CAs) and the host name or IP address dialed.")
    var tls = false

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA certificates (PEM) the server's certificate must chain to (implies --tls).", valueName: "file"))
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Client certificate (PEM) for servers that require one (implies --tls; needs --tls-key).", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Private key (PEM) of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Flag(name: .customLong("tls-insecure"), help: "TLS without checking the server's certificate at all (testing only, like redis-cli --insecure).")
    var tlsInsecure = false

    @Option(name: .long, help: "Connections per worker thread (redis/kvnode; against a kvnode cluster: per member).")
    var connections: Int = 1

    @Option(name: .long, help: "Requests in flight per connection (redis/kvnode); 1 = no pipelining.")
    var pipeline: Int = 1

    @Option(name: .long, help: "Worker threads (default: the threadcount property, else 1).")
    var threads: Int?

    @Option(name: .long, help: "Open loop at this total rate in ops/s (default: the target property; 0 = closed loop).")
    var target: Double?

    @Option(name: .long, help: "Measured seconds (default: the maxexecutiontime property; 0 = until operationcount is done).")
    var duration: Double?

    @Option(name: .long, help: "Warm-up excluded from statistics: seconds like 5s / 500ms, or an operation count (default: the warmup property).")
    var warmup: String?

    @Option(name: .long, help: "Seed for a reproducible run (overrides the seed property).")
    var seed: UInt64?

    @Option(name: .long, help: "Write summary.csv, timeseries.csv, nodes.csv, summary.json, summary.txt and <OP>.hlog interval logs here.")
    var out: String?

    @Option(name: .long, help: "Operation timeout in seconds (redis/kvnode).")
    var timeout: Double = 10

    @Option(name: .long, help: "fsync policy of the embedded store: no, everysec or always.")
    var embeddedFsync: String = "no"

    @Option(name: .long, help: "Data directory of the embedded store (default: a temporary directory removed at exit).")
    var embeddedDir: String?

    @Option(name: .long, help: "Nodes of the embedded cluster (N = min(3, nodes), R = W = min(2, N)); 1 = the storage engine alone, called directly (no cluster: measures the storage path).")
    var embeddedNodes: Int = 3

    @Flag(name: .long, help: "kvnode cluster: let any member coordinate any operation (round robin over free connections) instead of sending each to a replica of its key.")
    var noClusterRouting = false

    @Flag(name: .long, help: "No live status line.")
    var quiet = false

    @Option(name: .long, help: "Scenario file (YAML, see scenarios/): start its kvnode cluster, load, run with its timed events (add-node, kill, pause, leave, remove-node, restart, hot-key) and report what each cost. Binding kvnode; --hosts is not used.")
    var scenario: String?

    @Option(name: .long, help: "kvnode executable for --scenario (default: the one next to kvbench).")
    var kvnode: String?

    @Flag(name: .long, help: "Keep the scenario cluster's data directories (logs are always kept with --out).")
    var keepCluster = false

    /// TLS and AUTH settings for the RESP bindings, from the flags.
    func connector() throws -> RESPConnector {
        if user != nil, password == nil { throw ValidationError("--user needs --password") }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        var connector = RESPConnector(username: user, password: password)
        if tls || tlsCA != nil || tlsCert != nil || tlsInsecure {
            let files = TLSFiles(certificateChain: tlsCert, privateKey: tlsKey, trustRoots: tlsCA)
            do {
                connector.tls = try TLSClient(files: files, verification: tlsInsecure ? .none : .full, role: "--tls")
            } catch {
                throw ValidationError("\(error)")
            }
        }
        return connector
    }

    func execute(phase: WorkloadPhase) throws {
        guard let kind = BindingKind(rawValue: binding) else {
            throw ValidationError("unknown binding \(binding); use one of " + BindingKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var extra = overrides
        if let seed { extra.append("seed=\(seed)") }
        let properties = try WorkloadProperties.load(files: propertyFiles, overrides: extra)
        for warning in properties.typoWarnings() { writeToStandardError("warning: \(warning)\n") }
        let spec = try WorkloadSpec(properties: properties)
        var warm: Warmup?
        if let warmup {
            guard let parsed = Warmup.parse(warmup) else { throw ValidationError("bad --warmup \(warmup)") }
            warm = parsed
        }
        if scenario != nil, kind != .kvnode {
            throw ValidationError("--scenario drives kvnode processes: use `kvbench run kvnode --scenario FILE`")
        }
        var plan = RunPlan(spec: spec, phase: phase, threads: threads, targetRate: target, duration: duration, warmup: warm)
        plan.keepsIntervalLog = out != nil  // only an output directory gets the .hlog files
        let status = quiet ? nil : StatusLine()
        var result: RunResult
        switch kind {
        case .null:
            result = try LoadDriver.run(plan: plan, binding: NullBinding(), bindingName: "null", status: status)
        case .embedded:
            guard let policy = FsyncPolicy(rawValue: embeddedFsync) else { throw ValidationError("bad --embedded-fsync \(embeddedFsync)") }
            guard embeddedNodes >= 1 else { throw ValidationError("--embedded-nodes must be at least 1") }
            let preload = phase == .run && embeddedDir == nil
            if embeddedNodes == 1 {
                let store = try EmbeddedBinding(directory: embeddedDir, fsync: policy)
                defer { try? store.close() }
                if preload { try store.preload(spec: spec) }
                result = try LoadDriver.run(plan: plan, binding: store, bindingName: "embedded", status: status)
            } else {
                let cluster = try InProcessCluster(nodes: embeddedNodes, directory: embeddedDir, fsync: policy)
                let config = cluster.config
                defer { try? cluster.shutdown() }
                let binding = EmbeddedClusterBinding(cluster: cluster)
                if preload { try binding.preload(spec: spec) }
                result = try LoadDriver.run(plan: plan, binding: binding, bindingName: "embedded", status: status)
                result.notes.append("embedded: an in-process cluster of \(embeddedNodes) nodes, N=\(config.n) R=\(config.r) W=\(config.w); "
                                    + "each operation coordinated by its key's first replica")
            }
            if preload { result.notes.append("embedded: the in-process store was preloaded with the load phase's records (unmeasured)") }
        case .kvnode where scenario != nil:
            let file = try ScenarioFile.load(path: scenario!)
            let kvnodePath = kvnode ?? siblingKVNode()
            let (connections, pipeline, timeout, routing) = (connections, pipeline, timeout, !noClusterRouting)
            let run = ScenarioRun(scenario: file, kvnode: kvnodePath, out: out, keepCluster: keepCluster, configuration: { hosts in
                RESPBindingConfiguration(hosts: hosts, connectionsPerThread: connections, pipelineDepth: pipeline, timeoutSeconds: timeout,
                                         discoverCluster: true, clusterRouting: routing)
            }, quiet: quiet)
            guard phase == .run else { throw ValidationError("--scenario goes with `kvbench run` (it loads the records itself)") }
            result = try run.execute(spec: spec, threads: threads, target: target, duration: duration, warmup: warm)
        case .redis, .kvnode:
            if scenario != nil { throw ValidationError("--scenario drives kvnode processes: use `kvbench run kvnode --scenario FILE`") }
            let hostList = hosts.flatMap { $0.split(separator: ",").map(String.init) }
            let configuration = RESPBindingConfiguration(hosts: hostList.isEmpty ? ["127.0.0.1:6379"] : hostList,
                                                         connectionsPerThread: connections, pipelineDepth: pipeline, timeoutSeconds: timeout,
                                                         discoverCluster: kind == .kvnode, clusterRouting: !noClusterRouting,
                                                         connector: try connector())
            result = try RESPDriver.run(plan: plan, configuration: configuration, bindingName: kind.rawValue, status: status)
            if spec.scanProportion > 0 { result.notes.append("scans are MGET of scanLength consecutive keynums (RESP strings have no ordered scan)") }
        }
        print(Reports.ycsbText(result), terminator: "")
        if let out { try Reports.write(result, to: out) }
    }
}
