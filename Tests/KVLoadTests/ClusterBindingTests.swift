import Foundation
@testable import KVLoad
import KVNodeServer
import KVWorkload
import Logging
import NIOCore
import NIOPosix
import RESP
import Testing

/// The kvnode binding against three in-process `NodeServer`s in cluster mode (N = R = W = 1, so each key
/// has exactly one replica): routed, every operation reaches its key's only replica, so no node ever
/// forwards one to a peer; unrouted, most do. Also: a standalone kvnode keeps plain round-robin.
@Suite("kvnode binding against a cluster", .serialized)
struct ClusterBindingTests {
    static let workload = ["recordcount": "400", "operationcount": "3000", "readproportion": "0.5", "updateproportion": "0.3",
                           "insertproportion": "0.1", "deleteproportion": "0.1", "fieldcount": "2", "fieldlength": "16",
                           "requestdistribution": "uniform", "seed": "11"]

    /// A base port p with p, p+1, p+2 and p+offset… free now. Below Linux's ephemeral range (32768 on), so the
    /// outgoing connections of tests running meanwhile cannot take them between this check and the bind.
    static func freePorts(count: Int, offset: Int) -> Int? {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000...(32_000 - offset - count))
            let ports = (0..<count).flatMap { [base + $0, base + offset + $0] }
            if ports.allSatisfy(isFree) { return base }
        }
        return nil
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    struct Cluster {
        var servers: [NodeServer]
        var ports: [Int]
        var directory: String
        var hosts: [String] { ports.map { "127.0.0.1:\($0)" } }

        func stop() async throws {
            for s in servers { try await s.stop() }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Three cluster-mode nodes on free ports; another set of ports if one was taken between the check and the
    /// bind (by another test, in this process or another), up to five times.
    static func startCluster(n: Int) async throws -> Cluster {
        var attempt = 0
        while true {
            do {
                return try await startClusterOnce(n: n)
            } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < 4 {
                attempt += 1
            }
        }
    }

    static func startClusterOnce(n: Int) async throws -> Cluster {
        let offset = 1_000
        let base = try #require(freePorts(count: 3, offset: offset))
        let ports = (0..<3).map { base + $0 }
        let directory = NSTemporaryDirectory() + "kvbench-cluster-\(base)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var servers: [NodeServer] = []
        for (i, port) in ports.enumerated() {
            var config = NodeConfiguration()
            config.port = port
            config.threads = 1
            config.dataDirectory = "\(directory)/n\(i + 1)"
            config.fsync = .no
            var settings = ClusterSettings(nodeID: "n\(i + 1)", seeds: ports.map { "127.0.0.1:\($0)" })
            settings.peerPortOffset = offset
            settings.config.n = n
            settings.config.r = n
            settings.config.w = n
            config.cluster = settings
            var logger = Logger(label: "kvbench-cluster-test")
            logger.logLevel = .warning
            let server = NodeServer(configuration: config, logger: logger)
            do {
                try await server.start()
            } catch {
                for s in servers { try? await s.stop() }
                try? FileManager.default.removeItem(atPath: directory)
                throw error
            }
            servers.append(server)
        }
        let cluster = Cluster(servers: servers, ports: ports, directory: directory)
        // Wait until every node knows the whole membership and sees every peer up (on a loaded machine
        // discovery can take a while; operations sent before then would be refused, not routed).
        for _ in 0..<200 {
            let fields = try info(cluster, settle: false).values
            if fields.count == 3, fields.allSatisfy({ $0["cluster_members_up"] == 3 }) {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return cluster
    }

    /// `INFO cluster` fields of each node, by node id.
    static func info(_ cluster: Cluster, settle: Bool = true) throws -> [String: [String: Int]] {
        if settle { Thread.sleep(forTimeInterval: 0.3) }  // the INFO snapshot refreshes every 100 ms
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var out: [String: [String: Int]] = [:]
        for port in cluster.ports {
            let client = try BlockingRESPClient.connect(host: "127.0.0.1", port: port, group: group)
            defer { client.close() }
            let text = try ClusterDiscovery.text(try client.call(["INFO", "cluster"]), "INFO")
            var fields: [String: Int] = [:]
            var id = ""
            for line in text.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if parts[0] == "cluster_node_id" { id = parts[1] }
                fields[parts[0]] = Int(parts[1])
            }
            out[id] = fields
        }
        return out
    }

    /// Per-node deltas of an INFO field between two snapshots.
    static func delta(_ field: String, _ before: [String: [String: Int]], _ after: [String: [String: Int]]) -> [String: Int] {
        after.mapValues { $0[field] ?? 0 }.merging(before.mapValues { -($0[field] ?? 0) }, uniquingKeysWith: +)
    }

    func drive(_ phase: WorkloadPhase, _ cluster: Cluster, routing: Bool) throws -> RunResult {
        let config = RESPBindingConfiguration(hosts: [cluster.hosts[1]], connectionsPerThread: 2, pipelineDepth: 4,
                                              discoverCluster: true, clusterRouting: routing)
        let spec = try WorkloadSpec(properties: WorkloadProperties(Self.workload))
        return try RESPDriver.run(plan: RunPlan(spec: spec, phase: phase, threads: 2), configuration: config, bindingName: "kvnode")
    }

    /// The start-up check accepts the cluster's placement and refuses one that differs (other tokens per node).
    func checkVerification(_ cluster: Cluster) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let seeds = cluster.ports.map { ("127.0.0.1", $0) }
        try ClusterDiscovery.verify(try ClusterRouter(memberIDs: ["n1", "n2", "n3"], n: 1, tokensPerNode: 64), hosts: seeds, group: group)
        let wrong = try ClusterRouter(memberIDs: ["n1", "n2", "n3"], n: 1, tokensPerNode: 5)
        #expect(throws: LoadError.self) { try ClusterDiscovery.verify(wrong, hosts: seeds, group: group) }
    }

    @Test func routedOperationsReachTheirReplicaAndUnroutedOnesDoNot() async throws {
        let cluster = try await Self.startCluster(n: 1)
        do {
            let before = try Self.info(cluster)
            let load = try drive(.load, cluster, routing: true)
            let run = try drive(.run, cluster, routing: true)
            let after = try Self.info(cluster)
            #expect(load.totals.count(.insert, .ok) == 400, "notes: \(load.notes); before: \(before)")
            #expect(load.errors() == 0 && run.errors() == 0)
            #expect(run.operations == 3000)
            #expect(run.nodeNames.sorted() == ["n1", "n2", "n3"])
            // Each node coordinated exactly what kvbench counted for it, and forwarded nothing:
            // every operation arrived at its key's only replica.
            let coordinated = Self.delta("cluster_client_requests", before, after)
            for (i, name) in run.nodeNames.enumerated() {
                let loadIndex = try #require(load.nodeNames.firstIndex(of: name))
                #expect(coordinated[name] == Int(run.nodeOperations[i] + load.nodeOperations[loadIndex]))
                #expect(run.nodeOperations[i] > 0)
            }
            #expect(Self.delta("cluster_peer_messages_out", before, after).values.reduce(0, +) == 0)
            #expect(run.notes.contains { $0.contains("each operation sent to a replica of its key") })

            // Routing off: any member coordinates, so about two thirds of the operations are forwarded.
            let unrouted = try drive(.run, cluster, routing: false)
            let afterUnrouted = try Self.info(cluster)
            #expect(unrouted.errors() == 0 && unrouted.operations == 3000)
            #expect(Self.delta("cluster_peer_messages_out", after, afterUnrouted).values.reduce(0, +) > 1_000)

            try checkVerification(cluster)
        } catch {
            try await cluster.stop()
            throw error
        }
        try await cluster.stop()
    }

    /// `startCluster` retries only on this error: a node whose port is taken must fail with it.
    @Test func aTakenPortFailsTheStartWithAddressInUse() async throws {
        let directory = NSTemporaryDirectory() + "kvbench-port-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func node(port: Int, name: String) -> NodeServer {
            var config = NodeConfiguration()
            config.port = port
            config.threads = 1
            config.fsync = .no
            config.dataDirectory = "\(directory)/\(name)"
            return NodeServer(configuration: config, logger: Logger(label: "kvbench-port-test"))
        }
        let first = node(port: 0, name: "first")
        let port = try await first.start()
        let second = node(port: port, name: "second")
        var code: CInt?
        do { _ = try await second.start() } catch let error as IOError { code = error.errnoCode }
        try? await second.stop()
        try await first.stop()
        #expect(code == EADDRINUSE)
    }

    @Test func standaloneKvnodeKeepsRoundRobin() async throws {
        let directory = NSTemporaryDirectory() + "kvbench-standalone-\(UInt32.random(in: 0...UInt32.max))"
        var config = NodeConfiguration()
        config.port = 0
        config.threads = 1
        config.dataDirectory = directory
        config.fsync = .no
        var logger = Logger(label: "kvbench-standalone-test")
        logger.logLevel = .warning
        let server = NodeServer(configuration: config, logger: logger)
        let port = try await server.start()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let host = "127.0.0.1:\(port)"
        let binding = RESPBindingConfiguration(hosts: [host, host], connectionsPerThread: 2, discoverCluster: true)
        let spec = try WorkloadSpec(properties: WorkloadProperties(["recordcount": "50", "operationcount": "200", "seed": "3"]))
        let result = try RESPDriver.run(plan: RunPlan(spec: spec, phase: .load, threads: 1), configuration: binding, bindingName: "kvnode")
        try await server.stop()
        #expect(result.errors() == 0 && result.operations == 50)
        #expect(result.nodeNames == [host, host])
        #expect(result.nodeOperations.allSatisfy { $0 > 0 })
        #expect(result.notes.isEmpty)
    }
}
