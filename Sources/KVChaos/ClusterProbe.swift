import Foundation
import KVLoad
import NIOCore
import RESP

/// The checker's view of a cluster whose nodes are named `n1`…: who sees whom up, the hints left, and
/// what each replica of a key holds (`KV.GETLOCAL` on the key's preference list from `CLUSTER.RING`).
/// One connection per node, reopened after a failure; calls wait up to 10 s.
final class ClusterProbe: @unchecked Sendable {
    private var clients: ReconnectingClients
    private var endpoints: [(host: String, port: Int)] { clients.endpoints }

    init(endpoints: [(host: String, port: Int)], group: EventLoopGroup) {
        clients = ReconnectingClients(endpoints: endpoints, group: group, timeout: .seconds(10))
    }

    deinit { clients.closeAll() }

    private func client(_ i: Int) throws -> BlockingRESPClient { try clients.client(i) }

    func call(_ i: Int, _ command: [String]) throws -> RESPValue { try client(i).call(command) }

    /// Commands to node `i` pipelined in batches of 1000.
    func callAll(_ i: Int, _ commands: [[String]]) throws -> [RESPValue] {
        var out: [RESPValue] = []
        out.reserveCapacity(commands.count)
        var start = 0
        while start < commands.count {
            let end = min(start + 1000, commands.count)
            out += try client(i).callAll(Array(commands[start..<end]))
            start = end
        }
        return out
    }

    /// Whether every node answers and shows every other member `up`.
    func allUp() -> Bool {
        endpoints.indices.allSatisfy { i in
            guard let lines = try? ClusterDiscovery.lines(try call(i, ["CLUSTER.MEMBERS"]), "CLUSTER.MEMBERS") else { return false }
            return lines.count == endpoints.count && lines.allSatisfy { $0.split(separator: " ").dropFirst(2).first == "up" }
        }
    }

    /// Hints held across the cluster (`INFO cluster` cluster_hints).
    func hintsLeft() throws -> Int {
        try endpoints.indices.reduce(0) { sum, i in
            let text = try ClusterDiscovery.text(try call(i, ["INFO", "cluster"]), "INFO cluster")
            return sum + (InfoFields.parse(text)["cluster_hints"].flatMap { Int($0) } ?? 0)
        }
    }

    /// Each key's preference list (node indexes, owner first) as the first answering node sees the ring.
    func replicas(of keys: [String]) throws -> [[Int]] {
        var lastError: Error = ChaosError("no node answered CLUSTER.RING")
        for i in endpoints.indices {
            do {
                return try callAll(i, keys.map { ["CLUSTER.RING", $0] }).map { reply in
                    try ClusterDiscovery.lines(reply, "CLUSTER.RING").compactMap { line in
                        line.split(separator: " ").first.flatMap { Int($0.dropFirst()) }.map { $0 - 1 }
                    }
                }
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// The values node `node` holds for each of `keys` (its own copies, no coordination).
    func localValues(_ node: Int, _ keys: [String]) throws -> [[RESPValue]] {
        try callAll(node, keys.map { ["KV.GETLOCAL", $0] }).map { reply in
            guard case .array(let parts?) = reply, parts.count == 2, case .array(let values?) = parts[1] else { return [] }
            return values
        }
    }

    /// Acknowledged (key, replica) pairs whose replica does not hold the acknowledged value.
    func missingCopies(_ writes: [String: String]) throws -> Int {
        let keys = Array(writes.keys)
        var byNode: [Int: [String]] = [:]
        for (key, nodes) in zip(keys, try replicas(of: keys)) {
            for n in nodes { byNode[n, default: []].append(key) }
        }
        var missing = 0
        for (node, nodeKeys) in byNode {
            for (key, values) in zip(nodeKeys, try localValues(node, nodeKeys)) {
                let wanted = ByteBuffer(string: writes[key]!)
                if !values.contains(where: { if case .bulkString(let b?) = $0 { b == wanted } else { false } }) { missing += 1 }
            }
        }
        return missing
    }

    /// Acknowledged set elements missing from some replica's copy, and the most siblings a copy holds.
    func setState(_ elements: [String: Set<String>]) throws -> (lost: Int, mostSiblings: Int) {
        let keys = ChaosWorkload.setKeys
        var lost = 0, most = 0
        for (key, nodes) in zip(keys, try replicas(of: keys)) {
            for n in nodes {
                let values = try localValues(n, [key])[0]
                lost += (elements[key] ?? []).subtracting(ChaosWorkload.elements(of: values)).count
                most = max(most, values.count)
            }
        }
        return (lost, most)
    }

    /// Polls until every node sees every other up, no hints are left, every write in `writes` is on all its
    /// replicas and (with `checkSets`) every acknowledged set element is in every replica's copy. Returns the
    /// seconds since `since`, or nil after `limit` seconds with what was still missing at the last look.
    func waitConverged(since: Date, writes: [String: String], elements: [String: Set<String>], limit: Double = 90,
                       checkSets: Bool) -> (seconds: Double?, missing: Int?, lost: Int?) {
        var missing: Int?, lost: Int?
        while Date().timeIntervalSince(since) < limit {
            if allUp(), (try? hintsLeft()) == 0 {
                missing = try? missingCopies(writes)
                lost = checkSets ? (try? setState(elements))?.lost : 0
                if missing == 0, lost == 0 { return (Date().timeIntervalSince(since), 0, 0) }
            }
            usleep(300_000)
        }
        return (nil, missing, lost)
    }
}
