import Foundation
import KVLoad
import KVScenario
import NIOCore
import NIOPosix
import RESP

/// A `hot-key` event: `rate` operations per second on one key for `duration`, sent to the key's
/// owner (found the way a cluster-aware client routes) over a few pipelined connections, 9 GETs to
/// 1 SET. Runs next to the workload; its own counts are reported, the workload's latency shows
/// what the hot node costs everyone else.
public final class HotKeyStorm: @unchecked Sendable {
    public struct Result: Sendable {
        public var node: String
        public var operations = 0
        public var errors = 0
    }

    private let cluster: LocalCluster
    private let event: ScenarioEvent

    public init(cluster: LocalCluster, event: ScenarioEvent) {
        self.cluster = cluster
        self.event = event
    }

    /// The node that owns `key` on the cluster's ring.
    public static func owner(of key: String, cluster: LocalCluster) throws -> String {
        guard let via = cluster.nodes.first(where: { $0.state == "running" }) else { throw ClusterControlError("no running node") }
        let topology = try ClusterDiscovery.topology(try cluster.client(via.id))
        let router = try ClusterRouter(memberIDs: topology.members.map(\.id), n: topology.n, tokensPerNode: topology.tokensPerNode)
        let route = Array(key.utf8).withUnsafeBytes { router.route($0) }
        guard route.count > 0 else { throw ClusterControlError("no owner for \(key)") }
        return topology.members[route[0]].id
    }

    /// Runs the storm to its end (blocking the calling thread).
    public func run() throws -> Result {
        guard let key = event.key, let rate = event.rate, let duration = event.duration else { throw ClusterControlError("hot-key needs key, rate and duration") }
        let owner = try Self.owner(of: key, cluster: cluster)
        guard let (host, port) = cluster.endpoint(of: owner) else {
            throw ClusterControlError("\(owner) is not one of this cluster's nodes")
        }
        let connections = max(1, event.connections)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let tally = Tally()
        let value = String(repeating: "h", count: 100)
        // One blocking loop per connection, each on its own thread.
        let done = DispatchGroup()
        for _ in 0..<connections {
            done.enter()
            Thread {
                defer { done.leave() }
                var mine = (ops: 0, errors: 0)
                defer { tally.add(mine.ops, mine.errors) }
                guard let client = try? BlockingRESPClient.connect(host: host, port: port, group: group, timeout: .seconds(2)) else {
                    mine.errors += 1
                    return
                }
                defer { client.close() }
                // Batches every 10 ms: rate / connections / 100 commands each (at least one).
                let perTick = max(1.0, rate / Double(connections) / 100)
                let start = Date()
                var owed = 0.0, sent = 0
                while Date().timeIntervalSince(start) < duration {
                    owed += perTick
                    let batch = Int(owed)
                    owed -= Double(batch)
                    let commands: [[String]] = (0..<batch).map { i in (sent + i) % 10 == 9 ? ["SET", key, value] : ["GET", key] }
                    sent += batch
                    if let replies = try? client.callAll(commands) {
                        mine.ops += replies.count
                        mine.errors += replies.filter { if case .error = $0 { return true } else { return false } }.count
                    } else {
                        mine.errors += batch
                        if !client.isActive { return }
                    }
                    let next = start.addingTimeInterval(Double(sent) / perTick * 0.01)
                    let wait = next.timeIntervalSinceNow
                    if wait > 0 { usleep(UInt32(min(wait, 1) * 1e6)) }
                }
            }.start()
        }
        done.wait()
        let (ops, errors) = tally.totals
        return Result(node: owner, operations: ops, errors: errors)
    }
}

/// Operations and errors summed over a storm's threads.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var ops = 0, errors = 0

    func add(_ o: Int, _ e: Int) { lock.withLock { ops += o; errors += e } }
    var totals: (Int, Int) { lock.withLock { (ops, errors) } }
}
