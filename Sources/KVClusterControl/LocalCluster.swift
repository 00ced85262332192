import Foundation
import KVLoad
import KVScenario
import NIOCore
import NIOPosix
import RESP
#if canImport(Glibc)
import Glibc
#endif

/// `kvnode` processes on this machine that a scenario run (or `kvbench cluster`) starts, signals,
/// probes and stops. Its state (`cluster.json` in its directory: ids, ports, pids, the peer secret)
/// lets a later command find the same processes. Thread-safe: events and the sampler run on their
/// own threads.
public final class LocalCluster: @unchecked Sendable {
    /// One node as started.
    public struct NodeRecord: Codable, Sendable, Equatable {
        public var id: String
        public var port: Int
        public var pid: Int32
        /// `seeds`: started with the initial member list; `join`: added later through `--join`.
        public var start: String
        /// `running`, `paused`, `killed`, `stopped`, `left` or `removed`.
        public var state: String
        /// The address it listens on when nodes have addresses of their own (nil: the cluster's host).
        public var host: String? = nil
    }

    struct State: Codable {
        var kvnode: String
        var host: String
        var basePort: Int
        var secret: String
        var n: Int, r: Int, w: Int
        var args: [String]
        var seeds: [String]
        var nodes: [NodeRecord]
        /// Per-node addresses (nil: every node on `host`, at consecutive ports).
        var hosts: [String]? = nil
    }

    public let directory: String
    private var state: State
    private let lock = NSLock()
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var clients: [String: BlockingRESPClient] = [:]

    /// A cluster to be started under `directory` (node data, logs and `cluster.json`). Nodes listen on
    /// `spec.host` at consecutive ports, or, given `hosts` (one per node, such as 127.0.0.2-6 in a private
    /// network namespace, so firewall rules can tell them apart), node i on `hosts[i]` at `spec.basePort`
    /// (7000 when 0).
    public init(kvnode: String, directory: String, spec: ClusterSpec, hosts: [String]? = nil) throws {
        guard FileManager.default.isExecutableFile(atPath: kvnode) else {
            throw ClusterControlError("no kvnode executable at \(kvnode) (build it with `swift build`, or pass --kvnode PATH)")
        }
        self.directory = directory
        if let hosts, hosts.count != spec.nodes {
            throw ClusterControlError("\(spec.nodes) nodes need \(spec.nodes) addresses, not \(hosts.count)")
        }
        let base = spec.basePort != 0 ? spec.basePort
            : hosts != nil ? 7000 : try Self.freePortBlock(host: spec.host, count: spec.nodes + 8)
        let seeds = (0..<spec.nodes).map { i in hosts.map { "\($0[i]):\(base)" } ?? "\(spec.host):\(base + i)" }
        var secretBytes = [UInt8](repeating: 0, count: 16)
        for i in secretBytes.indices { secretBytes[i] = UInt8.random(in: 0...255) }
        state = State(kvnode: kvnode, host: spec.host, basePort: base, secret: secretBytes.map { String(format: "%02x", $0) }.joined(),
                      n: spec.n, r: spec.r, w: spec.w, args: spec.args, seeds: seeds, nodes: [], hosts: hosts)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The cluster whose `cluster.json` is in `directory` (for `kvbench cluster stop|status`).
    public init(existing directory: String) throws {
        let path = directory + "/cluster.json"
        guard let data = FileManager.default.contents(atPath: path) else { throw ClusterControlError("no cluster at \(directory) (\(path) missing)") }
        do {
            state = try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw ClusterControlError("\(path) is unreadable: \(error)")
        }
        self.directory = directory
    }

    deinit { try? group.syncShutdownGracefully() }

    public var nodes: [NodeRecord] { lock.withLock { state.nodes } }
    public var host: String { state.host }
    public func address(of id: String) -> String? { endpoint(of: id).map { "\($0.host):\($0.port)" } }
    /// Where node `id` listens for clients.
    public func endpoint(of id: String) -> (host: String, port: Int)? {
        nodes.first { $0.id == id }.map { ($0.host ?? state.host, $0.port) }
    }
    /// Client endpoints of nodes that should answer (running, not left or removed).
    public var liveEndpoints: [(host: String, port: Int)] {
        nodes.filter { $0.state == "running" }.map { ($0.host ?? state.host, $0.port) }
    }
    /// The same as `host:port` strings.
    public var liveAddresses: [String] { liveEndpoints.map { "\($0.host):\($0.port)" } }

    // MARK: Starting and stopping

    /// Starts the initial members and waits until each reports the whole cluster up.
    public func start(timeout: Double = 30) throws {
        for (i, _) in state.seeds.enumerated() {
            if let hosts = state.hosts {
                try launch(id: "n\(i + 1)", host: hosts[i], port: state.basePort, start: "seeds")
            } else {
                try launch(id: "n\(i + 1)", host: nil, port: state.basePort + i, start: "seeds")
            }
        }
        for node in nodes { try waitReady(node.id, membersUp: state.seeds.count, timeout: timeout) }
    }

    /// Starts a new node that joins through the running members; returns its id.
    @discardableResult
    public func addNode(timeout: Double = 30) throws -> String {
        let index = nodes.count
        let id = "n\(index + 1)"
        guard state.hosts == nil else { throw ClusterControlError("add-node needs consecutive ports on one host") }
        try launch(id: id, host: nil, port: state.basePort + index, start: "join")
        try waitReady(id, membersUp: nil, timeout: timeout)
        return id
    }

    /// Starts node `id`; with `clockAhead` seconds, inside a time namespace (`unshare --time`) whose
    /// monotonic and boot clocks run that far ahead of the rest of the machine.
    private func launch(id: String, host: String?, port: Int, start: String, clockAhead: Int = 0) throws {
        let dataDir = directory + "/" + id
        let logPath = directory + "/" + id + ".log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ClusterControlError("cannot write \(logPath)") }
        log.seekToEndOfFile()
        var args = ["--node-id", id, "--host", host ?? state.host, "--port", String(port), "--data-dir", dataDir,
                    "--cluster-secret", state.secret, "--replicas", String(state.n), "--read-quorum", String(state.r),
                    "--write-quorum", String(state.w), "--log-level", "notice"]
        if start == "seeds" {
            args += ["--seeds", state.seeds.joined(separator: ",")]
        } else {
            let through = liveAddresses
            guard !through.isEmpty else { throw ClusterControlError("\(id) cannot join: no running member") }
            args += ["--join", through.joined(separator: ",")]
        }
        let process = Process()
        if clockAhead != 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
            process.arguments = ["--time", "--monotonic", String(clockAhead), "--boottime", String(clockAhead), state.kvnode]
                + args + state.args
        } else {
            process.executableURL = URL(fileURLWithPath: state.kvnode)
            process.arguments = args + state.args
        }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let record = NodeRecord(id: id, port: port, pid: process.processIdentifier, start: start, state: "running", host: host)
        lock.withLock {
            if let i = state.nodes.firstIndex(where: { $0.id == id }) { state.nodes[i] = record } else { state.nodes.append(record) }
        }
        try save()
    }

    /// Waits until `id` answers with `cluster_state:ok` (and `membersUp` members up, when given).
    public func waitReady(_ id: String, membersUp: Int?, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "no answer"
        while Date() < deadline {
            if let info = try? info(id) {
                if info["cluster_state"] == "ok", membersUp == nil || info["cluster_members_up"] == String(membersUp!) { return }
                last = "state \(info["cluster_state"] ?? "?"), \(info["cluster_members_up"] ?? "?") members up"
            }
            if let node = nodes.first(where: { $0.id == id }), kill(node.pid, 0) != 0 {
                throw ClusterControlError("\(id) exited during start; see \(directory)/\(id).log")
            }
            usleep(100_000)
        }
        throw ClusterControlError("\(id) not ready within \(Int(timeout)) s (\(last)); see \(directory)/\(id).log")
    }

    /// SIGTERM to every node still running (SIGCONT first to paused ones), SIGKILL to any not gone
    /// within `timeout`.
    public func stopAll(timeout: Double = 10) {
        let all = nodes.filter { isOurs($0.pid) }
        for node in all {
            kill(node.pid, SIGCONT)
            kill(node.pid, SIGTERM)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline, all.contains(where: { isOurs($0.pid) }) { usleep(50_000); reap() }
        for node in all where isOurs(node.pid) { kill(node.pid, SIGKILL) }
        reap()
        lock.withLock { for i in state.nodes.indices where state.nodes[i].state != "left" && state.nodes[i].state != "removed" { state.nodes[i].state = "stopped" } }
        try? save()
        closeClients()
    }

    // MARK: Events

    /// Carries out one scenario event (add-node returns the new node's id).
    public func perform(_ event: ScenarioEvent) throws -> String? {
        switch event.action {
        case .addNode:
            return try addNode()
        case .kill:
            try kill9(event.node ?? "")
        case .pause:
            try pause(event.node ?? "")
        case .resume:
            try resume(event.node ?? "")
        case .restart:
            try restart(event.node ?? "")
        case .leave:
            let node = try record(event.node)
            try expectOK(try call(node.id, ["CLUSTER.LEAVE"]), "CLUSTER.LEAVE on \(node.id)")
            setState(node.id, "left")
        case .removeNode:
            let node = try record(event.node)
            guard let via = nodes.first(where: { $0.state == "running" && $0.id != node.id }) else {
                throw ClusterControlError("no running member to send CLUSTER.REMOVE \(node.id) to")
            }
            try expectOK(try call(via.id, ["CLUSTER.REMOVE", node.id]), "CLUSTER.REMOVE \(node.id) via \(via.id)")
            if isOurs(node.pid) { kill(node.pid, SIGCONT); kill(node.pid, SIGTERM) }
            setState(node.id, "removed")
        case .hotKey, .rate:
            break  // run by HotKeyStorm; the load's pacer follows rate changes
        }
        return event.node
    }

    /// SIGKILL to node `id` (no chance to flush anything).
    public func kill9(_ id: String) throws {
        let node = try record(id)
        if isOurs(node.pid) { kill(node.pid, SIGKILL) }
        var status: Int32 = 0
        _ = waitpid(node.pid, &status, 0)
        setState(node.id, "killed")
    }

    /// SIGSTOP to node `id`: it stops answering anyone, with its connections left open.
    public func pause(_ id: String) throws {
        let node = try record(id)
        kill(node.pid, SIGSTOP)
        setState(node.id, "paused")
    }

    /// SIGCONT to a paused node.
    public func resume(_ id: String) throws {
        let node = try record(id)
        kill(node.pid, SIGCONT)
        setState(node.id, "running")
    }

    /// Stops node `id` if it runs (SIGTERM, SIGKILL after 10 s) and starts it again on its data, in a time
    /// namespace `clockAhead` seconds ahead when that is not 0; with `waitReady`, waits up to `timeout` for it
    /// to be ready.
    public func restart(_ id: String, clockAhead: Int = 0, waitReady: Bool = true, timeout: Double = 30) throws {
        let node = try record(id)
        if isOurs(node.pid) {
            kill(node.pid, SIGCONT)
            kill(node.pid, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, isOurs(node.pid) { usleep(50_000); reap() }
            if isOurs(node.pid) { kill(node.pid, SIGKILL); reap() }
        }
        try launch(id: node.id, host: node.host, port: node.port, start: node.start, clockAhead: clockAhead)
        if waitReady { try self.waitReady(node.id, membersUp: nil, timeout: timeout) }
    }

    private func expectOK(_ reply: RESPValue, _ what: String) throws {
        if case .error(let b) = reply { throw ClusterControlError("\(what): \(String(buffer: b))") }
    }

    private func record(_ id: String?) throws -> NodeRecord {
        guard let id, let node = nodes.first(where: { $0.id == id }) else { throw ClusterControlError("unknown node \(id ?? "(none)")") }
        return node
    }

    private func setState(_ id: String, _ value: String) {
        lock.withLock { if let i = state.nodes.firstIndex(where: { $0.id == id }) { state.nodes[i].state = value } }
        try? save()
    }

    // MARK: Probing

    /// One command to node `id` with a short timeout (a paused node does not answer).
    public func call(_ id: String, _ command: [String]) throws -> RESPValue {
        try client(id).call(command)
    }

    /// This cluster's connection to node `id` (kept between calls; a call waits at most 500 ms, so a
    /// paused node does not hold the caller up).
    public func client(_ id: String) throws -> BlockingRESPClient {
        guard let node = nodes.first(where: { $0.id == id }) else { throw ClusterControlError("unknown node \(id)") }
        if let existing = lock.withLock({ clients[id] }), existing.isActive { return existing }
        let client = try BlockingRESPClient.connect(host: node.host ?? state.host, port: node.port, group: group,
                                                    timeout: .milliseconds(500))
        lock.withLock { clients[id] = client }
        return client
    }

    /// `INFO cluster` and `INFO keyspace` of node `id` as fields.
    public func info(_ id: String) throws -> [String: String] {
        InfoFields.parse(try ClusterDiscovery.text(try call(id, ["INFO"]), "INFO"))
    }

    /// Every node's view and counters now; `time` is stamped by the caller.
    public func sample(time: Double) -> ClusterSample {
        var out: [NodeSample] = []
        for node in nodes where node.state != "removed" {
            var s = NodeSample(node: node.id, reachable: false)
            if node.state == "running" || node.state == "left", let info = try? info(node.id),
               let members = try? ClusterDiscovery.lines(try call(node.id, ["CLUSTER.MEMBERS"]), "CLUSTER.MEMBERS") {
                s.reachable = true
                for line in members {
                    let parts = line.split(separator: " ")
                    if parts.count >= 3 { s.view[String(parts[0])] = String(parts[2]) }
                }
                func int(_ key: String) -> Int { Int(info[key] ?? "") ?? 0 }
                s.ringMembers = int("cluster_ring_members")
                s.rebalancing = info["cluster_rebalancing"] == "1"
                s.keys = Self.keyCount(info["db0"])
                s.rebalanceKeysReceived = int("cluster_rebalance_keys_received")
                s.rebalanceBytesReceived = int("cluster_rebalance_bytes_received")
                s.rebalanceKeysSent = int("cluster_rebalance_keys_sent")
                s.rebalanceBytesSent = int("cluster_rebalance_bytes_sent")
                s.clientRequests = int("cluster_client_requests")
                s.peerMessagesIn = int("cluster_peer_messages_in")
            }
            out.append(s)
        }
        return ClusterSample(time: time, nodes: out)
    }

    /// `keys=N` out of an `INFO keyspace` value such as `keys=10,expires=0,avg_ttl=0`.
    public static func keyCount(_ db: String?) -> Int {
        guard let db else { return 0 }
        for part in db.split(separator: ",") where part.hasPrefix("keys=") { return Int(part.dropFirst(5)) ?? 0 }
        return 0
    }

    private func closeClients() {
        let all = lock.withLock { () -> [BlockingRESPClient] in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for c in all { c.close() }
    }

    // MARK: Helpers

    /// Whether `pid` is alive and still a kvnode (a recycled pid is not ours to signal).
    public func isOurs(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0,
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")"), stat[stat.index(close, offsetBy: 2)] == "Z" {
            return false  // exited, not yet reaped
        }
        return String(decoding: cmdline, as: UTF8.self).contains("kvnode")
    }

    /// Collects exited children so they do not linger as zombies.
    private func reap() {
        var status: Int32 = 0
        for node in nodes where node.pid > 0 { _ = waitpid(node.pid, &status, WNOHANG) }
    }

    private func save() throws {
        let snapshot = lock.withLock { state }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = directory + "/cluster.json"
        try encoder.encode(snapshot).write(to: URL(fileURLWithPath: path), options: .atomic)
        chmod(path, 0o600)  // holds the peer secret
    }

    /// A port p with p..p+count-1 and the peer ports 10000 above free now, below the ephemeral range.
    static func freePortBlock(host: String, count: Int) throws -> Int {
        for _ in 0..<200 {
            let p = Int.random(in: 20000...(22700 - count))
            if (0..<count).allSatisfy({ canBind(host, p + $0) && canBind(host, p + 10000 + $0) }) { return p }
        }
        throw ClusterControlError("no free block of \(count) ports in 20000-22700")
    }

    static func canBind(_ host: String, _ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

/// Starting, signalling or reaching a local cluster failed: the text says what and where to look.
public struct ClusterControlError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
