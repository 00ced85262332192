import KVCluster
import KVClusterShell
import KVStorage
import KVVersioning
import Testing

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func values(_ answer: ClusterAnswer) -> [String]? {
    guard case let .reply(.value(set)) = answer else { return nil }
    return set.liveSiblings.map { String(decoding: $0.value, as: UTF8.self) }.sorted()
}

private func context(_ answer: ClusterAnswer) -> VersionVector? {
    switch answer {
    case let .reply(.value(set)): set.context
    case let .reply(.written(context, _)): context
    default: nil
    }
}

@Suite("Cluster shell over real storage")
struct ClusterShellTests {
    @Test("a write through one node is read through every other, and each true replica holds it")
    func writeThenReadEverywhere() async throws {
        let c = try ShellCluster(nodes: 3)
        defer { try? c.shutdown() }
        let w = await c.ask("n1", .plainSet(key: bytes("k"), value: bytes("v1"), quorum: Quorum()))
        guard case .reply(.written) = w else { Issue.record("not written: \(w)"); return }
        for id in c.ids {
            #expect(values(await c.ask(id, .get(key: bytes("k"), quorum: Quorum()))) == ["v1"])
        }
        // N = 3 on 3 nodes: every node is a true replica; give replication a moment to land everywhere.
        var local: [[String]?] = []
        for _ in 0..<50 {
            local = []
            for id in c.ids { local.append(values(await c.ask(id, .getLocal(key: bytes("k"))))) }
            if local.allSatisfy({ $0 == ["v1"] }) { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(local.allSatisfy { $0 == ["v1"] })
    }

    @Test("concurrent blind writes become siblings; a write with the merged context collapses them")
    func siblingsAndContext() async throws {
        let c = try ShellCluster(nodes: 3)
        defer { try? c.shutdown() }
        let k = bytes("doc")
        _ = await c.ask("n1", .put(key: k, value: bytes("a"), context: VersionVector(), quorum: Quorum(3)))
        _ = await c.ask("n2", .put(key: k, value: bytes("b"), context: VersionVector(), quorum: Quorum(3)))
        let read = await c.ask("n3", .get(key: k, quorum: Quorum(3)))
        #expect(values(read) == ["a", "b"])
        let ctx = try #require(context(read))
        _ = await c.ask("n3", .put(key: k, value: bytes("merged"), context: ctx, quorum: Quorum(3)))
        #expect(values(await c.ask("n1", .get(key: k, quorum: Quorum(3)))) == ["merged"])
    }

    @Test("with a node down, writes succeed on a fallback with a hint, and the hint is handed off when it returns")
    func hintedHandoffAcrossRestart() async throws {
        let c = try ShellCluster(nodes: 4)
        defer { try? c.shutdown() }
        // Find a key whose preference list includes n4.
        let placement = try #require(try c.onLoop { c.shells["n1"]!.placement })
        let key = try #require((0..<1000).map { bytes("key\($0)") }.first { placement.primaries(for: $0).contains("n4") })
        try c.crash("n4")
        let w = await c.ask("n1", .plainSet(key: key, value: bytes("while-down"), quorum: Quorum(3)))
        guard case .reply(.written) = w else { Issue.record("sloppy quorum write failed: \(w)"); return }
        let hints = try c.onLoop { c.ids.filter { $0 != "n4" }.map { c.shells[$0]!.hintCount }.reduce(0, +) }
        #expect(hints == 1)
        // Strict mode counts only true replicas: 2 are up, so PW=3 is unavailable.
        let strict = await c.ask("n1", .plainSet(key: key, value: bytes("strict"), quorum: Quorum(3, strict: true)))
        #expect(strict == .reply(.unavailable(reachable: 2, required: 3)))

        try c.restart("n4")
        var handed = false
        for _ in 0..<100 {
            if values(await c.ask("n4", .getLocal(key: key))) == ["while-down"] { handed = true; break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(handed)
        var left = -1
        for _ in 0..<100 {
            left = try c.onLoop { c.ids.map { c.shells[$0]!.hintCount }.reduce(0, +) }
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left == 0)
    }

    @Test("a restarted node keeps its versions, hints and counters (incarnation grows)")
    func restartKeepsState() async throws {
        let c = try ShellCluster(nodes: 3)
        defer { try? c.shutdown() }
        _ = await c.ask("n2", .plainSet(key: bytes("x"), value: bytes("1"), quorum: Quorum(3)))
        try c.crash("n2")
        try c.restart("n2")
        #expect(values(await c.ask("n2", .getLocal(key: bytes("x")))) == ["1"])
        // New writes after the restart supersede the old one (no sibling from a reused actor).
        _ = await c.ask("n2", .plainSet(key: bytes("x"), value: bytes("2"), quorum: Quorum(3)))
        #expect(values(await c.ask("n1", .get(key: bytes("x"), quorum: Quorum(3)))) == ["2"])
        let incarnation = try c.onLoop { c.shells["n2"]!.store.meta("incarnation") }
        #expect(incarnation == [0, 0, 0, 2])
    }

    @Test("an isolated coordinator reports how many replicas answered instead of acknowledging")
    func quorumNotReached() async throws {
        var config = ClusterConfig()
        config.requestTimeout = 100
        let c = try ShellCluster(nodes: 3, config: config)
        defer { try? c.shutdown() }
        c.isolated = ["n1"]  // n1 still believes its peers are up: messages vanish, the timeout answers
        let w = await c.ask("n1", .plainSet(key: bytes("y"), value: bytes("1"), quorum: Quorum(2)))
        switch w {
        case let .reply(.notAcknowledged(acks, required)):
            #expect(acks <= 1 && required == 2)
        case let .reply(.unavailable(reachable, required)):
            // On a starved machine SWIM may already have declared the unreachable peers down.
            #expect(reachable <= 1 && required == 2)
        default:
            Issue.record("expected notAcknowledged, got \(w)")
        }
        let r = await c.ask("n1", .get(key: bytes("y"), quorum: Quorum(2)))
        switch r {
        case let .reply(.readTimedOut(answered, required)):
            #expect(answered <= 1 && required == 2)
        case let .reply(.unavailable(reachable, required)):
            #expect(reachable <= 1 && required == 2)
        default:
            Issue.record("expected readTimedOut, got \(r)")
        }
    }

    @Test("under fsync always, replies wait for the log and still arrive")
    func fsyncAlwaysHoldsReplies() async throws {
        let c = try ShellCluster(nodes: 3, fsync: .always)
        defer { try? c.shutdown() }
        for i in 0..<20 {
            let w = await c.ask("n\(i % 3 + 1)", .plainSet(key: bytes("d\(i)"), value: bytes("\(i)"), quorum: Quorum(3)))
            guard case .reply(.written) = w else { Issue.record("write \(i): \(w)"); return }
        }
        let held = try c.onLoop { c.ids.map { c.shells[$0]!.stats.heldBatches }.reduce(0, +) }
        #expect(held > 0)
        #expect(values(await c.ask("n2", .get(key: bytes("d7"), quorum: Quorum(3)))) == ["7"])
    }
}

@Suite("Seed discovery")
struct SeedDiscoveryTests {
    let me = ClusterMember(id: "a", clientAddress: "h:1")

    @Test("membership is known once every other seed reported its id; self is skipped")
    func learnsIDs() throws {
        var d = SeedDiscovery(selfMember: me, seeds: ["h:1", "h:2", "h:3"])
        #expect(d.missing == ["h:2", "h:3"])
        #expect(d.members == nil)
        try d.learn(address: "h:2", id: "b")
        try d.learn(address: "h:3", id: "c")
        #expect(d.members?.map(\.id) == ["a", "b", "c"])
    }

    @Test("duplicate and self-claimed ids are refused")
    func refusesConflicts() throws {
        var d = SeedDiscovery(selfMember: me, seeds: ["h:1", "h:2", "h:3"])
        try d.learn(address: "h:2", id: "b")
        #expect(throws: SeedDiscovery.Problem.duplicateID("b", "h:2", "h:3")) { try d.learn(address: "h:3", id: "b") }
        #expect(throws: SeedDiscovery.Problem.claimsOwnID("h:3")) { try d.learn(address: "h:3", id: "a") }
    }

    @Test("the persisted form round-trips and seeds it covers need no handshake")
    func persisted() {
        let members = [me, ClusterMember(id: "b", clientAddress: "h:2")]
        let decoded = SeedDiscovery.decode(SeedDiscovery.encode(members))
        #expect(decoded == members)
        let d = SeedDiscovery(selfMember: me, seeds: ["h:1", "h:2"], persisted: decoded)
        #expect(d.members == members)
    }
}

@Suite("Ring changes through the shell")
struct RingChangeShellTests {
    @Test("removing a crashed member takes it off every ring and re-creates its replicas on the others")
    func removeRecreatesReplicas() async throws {
        let c = try ShellCluster(nodes: 4)
        defer { try? c.shutdown() }
        let keys = (0..<60).map { bytes("k\($0)") }
        for k in keys {
            let w = await c.ask("n1", .plainSet(key: k, value: bytes("v"), quorum: Quorum(3)))
            guard case .reply(.written) = w else { Issue.record("write: \(w)"); return }
        }
        try c.crash("n4")
        let problem = try c.onLoop { c.shells["n1"]!.removeMember("n4") }
        #expect(problem == nil)
        #expect(try c.onLoop { c.shells["n1"]!.removeMember("nobody") } == "unknown member 'nobody'")
        #expect(try c.onLoop { c.shells["n1"]!.removeMember("n1") } != nil)
        // Gossip spreads the removal; each survivor drops n4 from its ring and rebalances.
        var copies = 0
        var rings: [[NodeID]] = []
        for _ in 0..<300 {
            rings = try c.onLoop { ["n1", "n2", "n3"].map { c.shells[$0]!.ringMemberIDs.sorted() } }
            let busy = try c.onLoop { ["n1", "n2", "n3"].contains { c.shells[$0]!.isRebalancing } }
            copies = 0
            for k in keys {
                for id in ["n1", "n2", "n3"] where values(await c.ask(id, .getLocal(key: k))) == ["v"] { copies += 1 }
            }
            if rings.allSatisfy({ $0 == ["n1", "n2", "n3"] }) && !busy && copies == 3 * keys.count { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(rings.allSatisfy { $0 == ["n1", "n2", "n3"] })
        #expect(copies == 3 * keys.count)
        #expect(try c.onLoop { c.shells["n2"]!.stats.ringChanges } == 1)
    }
}
