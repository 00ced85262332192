import KVCluster
import KVPartitioning
import KVVersioning
import Testing

@Suite struct CoordinatorTests {
    @Test func writeThenReadThroughAnyNode() {
        let h = Harness()
        let key = "k1"
        let coordinator = h.nonReplica(key)
        guard case .written(let ctx, let dot)? = h.put(coordinator, key, "v1") else {
            Issue.record("not written"); return
        }
        #expect(dot != nil && ctx.covers(dot!))
        #expect(strings(h.get(h.ids[0], key)) == ["v1"])
        for p in h.primaries(key) { #expect(strings(h.local(p, key)) == ["v1"]) }
        #expect(h.local(coordinator, key).isEmpty)
    }

    @Test func concurrentBlindWritesBecomeSiblingsAndAMergedContextCollapsesThem() {
        let h = Harness()
        let key = "cart"
        _ = h.put(h.ids[0], key, "a")
        _ = h.put(h.ids[1], key, "b")
        let read = h.get(h.ids[2], key)
        #expect(strings(read) == ["a", "b"])
        _ = h.put(h.ids[3], key, "a+b", context: read!.context)
        #expect(strings(h.get(h.ids[4], key)) == ["a+b"])
        for p in h.primaries(key) { #expect(strings(h.local(p, key)) == ["a+b"]) }
    }

    @Test func writeWaitsForWAndTimesOutNamingTheAcks() {
        let h = Harness()
        let key = "k2"
        let p = h.primaries(key)
        let coordinator = p[0]
        // Two replicas silent but believed up: only the stamping coordinator confirms.
        h.isolated = [p[1], p[2]]
        let c = h.request(coordinator, .put(key: Array(key.utf8), value: [1], context: VersionVector(), quorum: Quorum()))
        h.pump()
        #expect(h.replies[c] == nil)
        let pending = h.sent.compactMap { s -> RequestID? in
            if case .replicate(let r, _, _, _) = s.message { return r } else { return nil }
        }
        h.event(coordinator, .timer(.request(pending[0])))
        #expect(h.replies[c] == .notAcknowledged(acks: 1, required: 2))
        // W = 1 per request succeeds with the same silence.
        #expect({ if case .written? = h.put(coordinator, key, "w1", quorum: Quorum(1)) { true } else { false } }())
    }

    @Test func readTimeoutNamesHowManyAnswered() {
        let h = Harness()
        let key = "k3"
        let p = h.primaries(key)
        h.isolated = [p[1], p[2]]
        let c = h.request(p[0], .get(key: Array(key.utf8), quorum: Quorum(3)))
        h.pump()
        let request = h.sent.compactMap { s -> RequestID? in
            if case .get(let r, _) = s.message { return r } else { return nil }
        }.first!
        h.event(p[0], .timer(.request(request)))
        #expect(h.replies[c] == .readTimedOut(answered: 1, required: 3))
    }

    @Test func sloppyQuorumUsesTheNextNodeWithAHintAndHandsOffWhenTheOwnerReturns() {
        let h = Harness()
        let key = "k4"
        let p = h.primaries(key)
        let downNode = p[1]
        h.isolated = [downNode]
        h.announce(downNode, up: false)
        guard case .written? = h.put(p[0], key, "while-down") else { Issue.record("not written"); return }
        let fallback = h.ids.first { !p.contains($0) && !h.local($0, key).isEmpty }
        #expect(fallback != nil)
        guard let fallback else { return }
        #expect(h.stores[fallback]!.hint(owner: downNode, key: Array(key.utf8)) != nil)
        #expect(h.local(downNode, key).isEmpty)
        // The owner comes back: the hint is delivered, then dropped with the hinted copy.
        h.isolated = []
        h.event(fallback, .peerUp(downNode))
        h.pump()
        #expect(strings(h.local(downNode, key)) == ["while-down"])
        #expect(h.stores[fallback]!.hintCount == 0)
        #expect(h.local(fallback, key).isEmpty)
    }

    @Test func strictQuorumRefusesFallbacks() {
        let h = Harness()
        let key = "k5"
        let p = h.primaries(key)
        h.announce(p[1], up: false)
        h.announce(p[2], up: false)
        let c = h.request(p[0], .put(key: Array(key.utf8), value: [1], context: VersionVector(), quorum: Quorum(2, strict: true)))
        #expect(h.replies[c] == .unavailable(reachable: 1, required: 2))
        #expect(h.sent.isEmpty)
        // Sloppy mode takes fallbacks and succeeds.
        #expect({ if case .written? = h.put(p[0], key, "x") { true } else { false } }())
    }

    @Test func readRepairFixesAStaleReplicaAfterTheReply() {
        let h = Harness()
        let key = "k6"
        let p = h.primaries(key)
        h.isolated = [p[2]]
        _ = h.put(p[0], key, "new")
        #expect(h.local(p[2], key).isEmpty)
        h.isolated = []
        #expect(strings(h.get(p[1], key, quorum: Quorum(3))) == ["new"])
        #expect(strings(h.local(p[2], key)) == ["new"])
        #expect(h.sent.contains { if case .repair = $0.message { $0.to == p[2] } else { false } })
    }

    @Test func duplicatedStampRequestStampsOnce() {
        let h = Harness()
        let key = "k7"
        let p = h.primaries(key)
        let coordinator = h.nonReplica(key)
        let c = h.request(coordinator, .put(key: Array(key.utf8), value: Array("once".utf8), context: VersionVector(), quorum: Quorum()))
        let stamp = h.queue.first!
        h.queue.append(stamp)  // the network duplicates the stamp request
        h.pump()
        #expect({ if case .written? = h.replies[c] { true } else { false } }())
        #expect(h.local(p[0], key).siblings.count == 1)
        #expect(strings(h.get(coordinator, key, quorum: Quorum(3))) == ["once"])
    }

    @Test func deleteWritesATombstoneThatSupersedesWhatItSaw() {
        var config = ClusterConfig()
        config.reapTombstones = false
        let h = Harness(config: config)
        let key = "k8"
        _ = h.put(h.ids[0], key, "v")
        let read = h.get(h.ids[1], key)!
        let c = h.request(h.ids[2], .delete(key: Array(key.utf8), context: read.context, quorum: Quorum(), tag: []))
        h.pump()
        #expect({ if case .written? = h.replies[c] { true } else { false } }())
        let after = h.get(h.ids[3], key)!
        #expect(after.isDeleted && after.siblings.count == 1)
    }

    @Test func getLocalAnswersWithoutCoordination() {
        let h = Harness()
        let key = "k9"
        let p = h.primaries(key)
        _ = h.put(p[0], key, "v")
        h.sent.removeAll()
        let c = h.request(p[1], .getLocal(key: Array(key.utf8)))
        #expect(h.sent.isEmpty)
        if case .value(let s)? = h.replies[c] { #expect(strings(s) == ["v"]) } else { Issue.record("no value") }
    }

    @Test func plantedAckBeforeWAcknowledgesBeforeAnyReplica() {
        var config = ClusterConfig()
        config.plantedBug = .ackBeforeW
        let h = Harness(config: config)
        let key = "k10"
        let c = h.request(h.nonReplica(key), .put(key: Array(key.utf8), value: [1], context: VersionVector(), quorum: Quorum()))
        // Replied although no message was delivered.
        #expect({ if case .written? = h.replies[c] { true } else { false } }())
    }

    @Test func hintCapacityRefusesFallbackWrites() {
        var config = ClusterConfig()
        config.hintCapacity = 0
        let h = Harness(config: config)
        let key = "k11"
        let p = h.primaries(key)
        h.isolated = [p[1], p[2]]
        h.announce(p[1], up: false)
        h.announce(p[2], up: false)
        let c = h.request(p[0], .put(key: Array(key.utf8), value: [1], context: VersionVector(), quorum: Quorum()))
        h.pump()
        #expect(h.replies[c] == .notAcknowledged(acks: 1, required: 2))
        for id in h.ids where !p.contains(id) { #expect(h.stores[id]!.hintCount == 0) }
    }

    @Test func requestIDsDifferAcrossRestarts() {
        let store = InMemoryLocalStore()
        let h = Harness(nodes: 3)
        var first = ClusterNode(id: "n0", membership: h.membership, config: h.config, store: store)
        var second = ClusterNode(id: "n0", membership: h.membership, config: h.config, store: store)
        let put = ClientRequest.put(key: [9], value: [1], context: VersionVector(), quorum: Quorum())
        let ids = [first.handle(.client(1, put), now: 0), second.handle(.client(1, put), now: 0)].map { effects in
            effects.compactMap { e -> RequestID? in if case .setTimer(.request(let r), _) = e { r } else { nil } }.first
        }
        #expect(ids[0] != nil && ids[0] != ids[1])
    }
}

@Suite struct PlacementTests {
    @Test func downPrimariesAreReplacedByTheNextHealthyNodesInRingOrder() {
        let h = Harness(nodes: 6)
        let key = Array("some-key".utf8)
        let all = h.placement.targets(for: key, strict: false) { _ in true }
        #expect(all.map(\.node) == h.placement.primaries(for: key))
        #expect(all.allSatisfy { $0.isPrimary })
        let p = h.placement.primaries(for: key)
        let down: Set<String> = [p[0], p[2]]
        let sloppy = h.placement.targets(for: key, strict: false) { !down.contains($0) }
        #expect(sloppy.count == 3)
        #expect(sloppy.filter(\.isPrimary).map(\.node) == [p[1]])
        #expect(Set(sloppy.compactMap(\.hintFor)) == down)
        #expect(sloppy.allSatisfy { !down.contains($0.node) })
        let strict = h.placement.targets(for: key, strict: true) { !down.contains($0) }
        #expect(strict.map(\.node) == [p[1]])
    }

    /// The primaries precomputed per token are the ring walk's first N distinct nodes (zones and
    /// weights included), for keys on every arc, token positions themselves and the wrap-around.
    @Test func precomputedPrimariesMatchTheRingWalk() throws {
        let zoned = try Membership((0..<7).map { i in
            KVPartitioning.Node(id: "z\(i)", zone: "zone\(i % 3)", weight: i == 4 ? 2.5 : 1)
        })
        let plain = try Membership((0..<4).map { KVPartitioning.Node(id: "p\($0)") })
        for (membership, n, tokens) in [(zoned, 3, 16), (plain, 3, 8), (plain, 5, 4), (zoned, 1, 1)] {
            let placement = Placement(membership: membership, n: n, tokensPerNode: tokens)
            let nodes = membership.nodes
            func walk(_ hash: UInt64) -> [NodeID] {
                placement.ring.preferenceList(for: hash, count: n).map { nodes[$0].id }
            }
            var hashes: [UInt64] = [0, 1, .max, .max - 1]
            for t in placement.ring.tokens { hashes += [t, t &- 1, t &+ 1] }
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for _ in 0..<2_000 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                hashes.append(state)
            }
            for h in hashes {
                #expect(placement.primaries(forKeyHash: h) == walk(h), "hash \(h), n \(n)")
            }
            for k in 0..<500 {
                let key = Array("key-\(k)".utf8)
                #expect(placement.primaries(for: key) == walk(Placement.hash(key)))
                let targets = placement.targets(for: key, strict: false) { _ in true }
                #expect(targets == walk(Placement.hash(key)).map { ReplicaTarget(node: $0) })
            }
        }
    }
}

@Suite struct ModeTests {
    @Test func expiredHintsAreDroppedWithTheirCopy() {
        var config = ClusterConfig()
        config.hintWindow = 100
        let h = Harness(config: config)
        let key = "kh"
        let p = h.primaries(key)
        h.isolated = [p[2]]
        h.announce(p[2], up: false)
        _ = h.put(p[0], key, "v")
        let fallback = h.ids.first { h.stores[$0]!.hintCount > 0 }!
        h.now = 50
        h.event(fallback, .timer(.handoff))
        #expect(h.stores[fallback]!.hintCount == 1)
        h.now = 500
        h.event(fallback, .timer(.handoff))
        #expect(h.stores[fallback]!.hintCount == 0)
        #expect(h.local(fallback, key).isEmpty)
    }

    @Test func lastWriteWinsModeKeepsOneVersion() {
        var config = ClusterConfig()
        config.lastWriteWins = true
        let h = Harness(config: config)
        let key = "kl"
        h.now = 10
        _ = h.put(h.ids[0], key, "older")
        h.now = 20
        _ = h.put(h.ids[1], key, "newer")
        #expect(strings(h.get(h.ids[2], key, quorum: Quorum(3))) == ["newer"])
        for p in h.primaries(key) { #expect(strings(h.local(p, key)) == ["newer"]) }
    }

    @Test func repairBeforeReplySendsRepairsAheadOfTheReply() {
        var config = ClusterConfig()
        config.repairBeforeReply = true
        let h = Harness(config: config)
        let key = "kr"
        let p = h.primaries(key)
        h.isolated = [p[1]]
        _ = h.put(p[0], key, "new")
        h.isolated = []
        // A non-replica coordinates; the stale replica answers first, then a fresh one: R = 2 reached.
        var node = h.nodes[h.nonReplica(key)]!
        let start = node.handle(.client(99, .get(key: Array(key.utf8), quorum: Quorum(2))), now: 0)
        let request = start.compactMap { e -> RequestID? in if case .setTimer(.request(let r), _) = e { r } else { nil } }.first!
        let fresh = h.stores[p[0]]!.object(for: Array(key.utf8))!.siblings
        #expect(node.handle(.peer(from: p[1], .got(request: request, object: nil)), now: 0).isEmpty)
        let effects = node.handle(.peer(from: p[0], .got(request: request, object: fresh)), now: 0)
        let repairIndex = effects.firstIndex { if case .send(_, .repair) = $0 { true } else { false } }
        let replyIndex = effects.firstIndex { if case .reply = $0 { true } else { false } }
        #expect(repairIndex != nil && replyIndex != nil && repairIndex! < replyIndex!)
    }

    @Test func aPrimaryStampsEvenWhenAFallbackComesFirstInRingOrder() {
        let h = Harness()
        let key = "ks"
        let p = h.primaries(key)
        h.isolated = [p[0]]
        h.announce(p[0], up: false)
        let coordinator = h.nonReplica(key)
        _ = h.put(coordinator, key, "v")
        let stamp = h.sent.first { if case .stampPut = $0.message { true } else { false } }
        #expect(stamp.map { p.contains($0.to) } == true)
    }
}

@Suite struct PlainCommandTests {
    @Test func plainSetOverwritesInsteadOfPilingUpSiblings() {
        let h = Harness()
        let key = "plain"
        for v in ["1", "2", "3"] {
            let c = h.request(h.ids[0], .plainSet(key: Array(key.utf8), value: Array(v.utf8), quorum: Quorum()))
            h.pump()
            #expect({ if case .written? = h.replies[c] { true } else { false } }())
        }
        let read = h.get(h.ids[1], key, quorum: Quorum(3))!
        #expect(strings(read) == ["3"])
        #expect(PlainReadResult(read, lastWriteWins: false) == .value(Array("3".utf8)))
        // Blind KV.PUTs, by contrast, are concurrent: siblings, and plain GET says so.
        _ = h.put(h.ids[2], key, "x")
        let both = h.get(h.ids[3], key)!
        #expect(PlainReadResult(both, lastWriteWins: false) == .siblings(count: 2))
        h.request(h.ids[4], .plainDelete(key: Array(key.utf8), quorum: Quorum()))
        h.pump()
        #expect(PlainReadResult(h.get(h.ids[0], key, quorum: Quorum(3))!, lastWriteWins: false) == .notFound)
    }

    @Test func plainReadInLastWriteWinsModeIsDeterministic() {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: Actor(node: "a", epoch: 1), value: [1], timestamp: 5)
        s.update(clientContext: VersionVector(), actor: Actor(node: "b", epoch: 1), value: [2], timestamp: 5)
        #expect(PlainReadResult(s, lastWriteWins: true) == .value([2]))
        #expect(PlainReadResult(s, lastWriteWins: false) == .siblings(count: 2))
        #expect(PlainReadResult(SiblingSet(), lastWriteWins: true) == .notFound)
    }
}

@Suite struct TombstoneTests {
    @Test func aDeleteConfirmedByAllReplicasLeavesOnlyItsContext() {
        let h = Harness()
        let key = "kt"
        _ = h.put(h.ids[0], key, "v")
        let read = h.get(h.ids[1], key, quorum: Quorum(3))!
        h.request(h.ids[2], .delete(key: Array(key.utf8), context: read.context, quorum: Quorum(), tag: []))
        h.pump()
        for p in h.primaries(key) {
            let s = h.local(p, key)
            #expect(s.siblings.isEmpty && !s.context.isEmpty)
            #expect(s.context.descends(read.context))
        }
        // A stale copy of the deleted value syncing in later cannot resurrect it.
        var stale = h.local(h.primaries(key)[0], key)
        stale.sync(read)
        #expect(stale.siblings.isEmpty)
    }

    @Test func aDeleteMissingAReplicaKeepsItsTombstones() {
        let h = Harness()
        let key = "ku"
        let p = h.primaries(key)
        _ = h.put(p[0], key, "v")
        let read = h.get(p[0], key, quorum: Quorum(3))!
        h.isolated = [p[2]]
        h.request(p[0], .delete(key: Array(key.utf8), context: read.context, quorum: Quorum(), tag: []))
        h.pump()
        #expect(h.local(p[0], key).siblings.count == 1)
        #expect(h.local(p[0], key).isDeleted)
    }
}
