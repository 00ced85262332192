import KVAntiEntropy
import KVCluster
import KVClusterShell
import Testing

@Suite("Anti-entropy through the shell")
struct AntiEntropyShellTests {
    @Test("a replica that missed writes (no hints) catches up through KV.REPAIR alone, exchanging little")
    func repairConverges() async throws {
        var config = ClusterConfig()
        config.hintCapacity = 0
        config.coordinatorHints = false
        // No automatic rounds (a restarted node's first tick would otherwise run one at once, and on a
        // loaded machine it can come before the checks below): only KV.REPAIR repairs here.
        var antiEntropy = AntiEntropyConfig()
        antiEntropy.roundAtStart = false
        let c = try ShellCluster(nodes: 3, config: config, antiEntropy: antiEntropy)
        defer { try? c.shutdown() }
        for i in 0..<200 {
            _ = await c.ask("n1", .plainSet(key: Array("base\(i)".utf8), value: Array(repeating: 7, count: 100), quorum: Quorum(3)))
        }
        try c.crash("n3")
        var missed: [[UInt8]] = []
        for i in 0..<20 {
            let key = Array("missed\(i)".utf8)
            let w = await c.ask("n1", .plainSet(key: key, value: Array(repeating: 9, count: 100), quorum: Quorum(2)))
            guard case .reply(.written) = w else { Issue.record("write \(i): \(w)"); return }
            missed.append(key)
        }
        try c.restart("n3")
        for key in missed { #expect(await c.ask("n3", .getLocal(key: key)) == .reply(.value(.init()))) }

        let shell = try #require(c.shells["n3"])
        let totals: AntiEntropyTotals = try await withCheckedThrowingContinuation { cont in
            shell.repairAll(on: shell.loop) { result in cont.resume(with: result.mapError { $0 as Error }) }
        }
        #expect(totals.keysReceived == missed.count)
        for key in missed {
            guard case .reply(.value(let set)) = await c.ask("n3", .getLocal(key: key)) else { Issue.record("read"); continue }
            #expect(set.liveSiblings.count == 1)
        }
        // Only the differing part travels: far less than the 220 stored values (22 KB of values alone).
        #expect(totals.bytesExchanged > 0 && totals.bytesExchanged < 20_000)
        #expect(totals.differingObjectBytes >= missed.count * 100)
    }
}
