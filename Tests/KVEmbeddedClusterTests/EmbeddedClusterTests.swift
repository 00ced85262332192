import Foundation
import KVCluster
import KVClusterShell
import KVEmbeddedCluster
import KVLoad
import KVWorkload
import Testing

/// The default `embedded` binding: a real cluster of shells in this process. Writes are replicated to
/// N nodes, each operation is coordinated by its key's first replica, and the per-node counts say so.
@Suite("Embedded in-process cluster")
struct EmbeddedClusterTests {
    private func spec(_ properties: [String: String]) throws -> WorkloadSpec {
        try WorkloadSpec(properties: WorkloadProperties(properties))
    }

    /// Preloads the load phase's records into `cluster`, then runs `s` on `threads` worker threads.
    private func preloadAndRun(_ cluster: InProcessCluster, _ s: WorkloadSpec, threads: Int) throws -> RunResult {
        let binding = EmbeddedClusterBinding(cluster: cluster)
        try binding.preload(spec: s)
        return try LoadDriver.run(plan: RunPlan(spec: s, phase: .run, threads: threads), binding: binding, bindingName: "embedded")
    }

    /// The keys of the first `count` operations of one thread's stream (the same seed gives the same ones).
    private func keys(of s: WorkloadSpec, _ phase: WorkloadPhase, count: Int) -> [[UInt8]] {
        var stream = OperationStream(spec: s, phase: phase)
        return (0..<count).map { _ in
            _ = stream.next()
            return stream.withKey { Array($0) }
        }
    }

    /// Every replica's own stored set for `key` (`KV.GETLOCAL` on each node).
    private func localValues(_ cluster: InProcessCluster, _ key: [UInt8]) -> [[UInt8]?] {
        let waiter = InProcessCluster.Waiter()
        return cluster.ids.indices.map { i in
            guard case .reply(.value(let set)) = cluster.call([.getLocal(key: key)], on: i, waiter: waiter)[0] else { return nil }
            return set.liveSiblings.first?.value
        }
    }

    @Test func loadReplicatesEveryRecordToAllThreeNodes() throws {
        let cluster = try InProcessCluster(nodes: 3)
        defer { try? cluster.shutdown() }
        let binding = EmbeddedClusterBinding(cluster: cluster)
        let s = try spec(["recordcount": "300", "operationcount": "0", "fieldcount": "1", "fieldlength": "20", "seed": "7"])
        let load = try LoadDriver.run(plan: RunPlan(spec: s, phase: .load, threads: 2), binding: binding, bindingName: "embedded")
        #expect(load.totals.count(.insert, .ok) == 300)
        #expect(load.nodeNames == ["n1", "n2", "n3"])
        #expect(load.nodeOperations.reduce(0, +) == 300)
        #expect(load.nodeOperations.allSatisfy { $0 > 0 })  // 3 nodes share the keys' ownership

        // W=2 acknowledged each write on two replicas; the third gets it right after. Every node stores
        // every key (N=3 on 3 nodes), and all hold the same bytes.
        let deadline = Date().addingTimeInterval(10)
        var incomplete = keys(of: s, .load, count: 300)
        while !incomplete.isEmpty && Date() < deadline {
            incomplete = incomplete.filter { key in
                let values = localValues(cluster, key)
                return values.contains { $0 == nil } || Set(values.compactMap { $0 }).count != 1
            }
            if !incomplete.isEmpty { usleep(20_000) }
        }
        #expect(incomplete.isEmpty, "\(incomplete.count) keys not on all three replicas")
    }

    @Test func eachOperationIsCountedAtItsKeysOwner() throws {
        let cluster = try InProcessCluster(nodes: 3)
        defer { try? cluster.shutdown() }
        let s = try spec(["recordcount": "40", "operationcount": "600", "readproportion": "0.5", "updateproportion": "0.5",
                          "requestdistribution": "zipfian", "fieldcount": "1", "fieldlength": "8", "seed": "3"])
        let run = try preloadAndRun(cluster, s, threads: 1)
        // The same seed replays the same operations: tally each one at its key's first replica.
        var expected = [Int64](repeating: 0, count: 3)
        for key in keys(of: s, .run, count: 600) { expected[cluster.owner(of: key)] += 1 }
        #expect(run.nodeOperations == expected)
        #expect(expected.filter { $0 > 0 }.count >= 2)  // the keys' owners differ: the tally means something
        #expect(run.totals.count(.read, .ok) + run.totals.count(.update, .ok) == 600)
    }

    @Test func deletesAreTombstonesThatReadsDoNotFind() throws {
        let cluster = try InProcessCluster(nodes: 3)
        defer { try? cluster.shutdown() }
        let s = try spec(["recordcount": "100", "operationcount": "3000", "readproportion": "0.5", "updateproportion": "0",
                          "deleteproportion": "0.5", "fieldcount": "2", "fieldlength": "10", "seed": "5"])
        let run = try preloadAndRun(cluster, s, threads: 2)
        #expect(run.operations == 3000)
        #expect(run.totals.count(.read, .ok) > 0)
        #expect(run.totals.count(.read, .notFound) > 0)  // keys deleted earlier in the run
        #expect(run.totals.count(.read, .error) + run.totals.count(.read, .timeout) == 0)
        #expect(run.totals.count(.delete, .ok) > 1000)  // a plain delete is acknowledged like a write
    }

    @Test func aTwoNodeClusterClampsTheQuorums() throws {
        #expect(InProcessCluster.defaultConfig(nodes: 5).n == 3)
        let cluster = try InProcessCluster(nodes: 2)
        #expect(cluster.config.n == 2)
        #expect(cluster.config.r == 2)
        #expect(cluster.config.w == 2)
        defer { try? cluster.shutdown() }
        let s = try spec(["recordcount": "50", "operationcount": "500", "fieldcount": "1", "fieldlength": "10", "seed": "9"])
        let run = try preloadAndRun(cluster, s, threads: 1)
        #expect(run.totals.count(.read, .ok) + run.totals.count(.update, .ok) == 500)
        #expect(run.nodeNames == ["n1", "n2"])
    }
}
