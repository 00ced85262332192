import KVCluster
import KVPartitioning
import KVVersioning
import Testing

/// A peer that is believed up but does not answer (overloaded, or its acks are lost) must not be flooded:
/// unacknowledged handoffs and transfers are resent after a growing delay, and a sender keeps at most
/// `transferWindow` transfers waiting for acknowledgement.
@Suite struct FlowControlTests {
    @Test func anUnacknowledgedHandoffIsResentWithBackoffNotEveryTick() {
        let h = Harness()
        let key = "k4"
        let p = h.primaries(key)
        let owner = p[1]
        h.isolated = [owner]
        h.announce(owner, up: false)
        guard case .written? = h.put(p[0], key, "while-down") else { Issue.record("not written"); return }
        guard let fallback = h.ids.first(where: { h.stores[$0]!.hintCount > 0 }) else { Issue.record("no hint"); return }
        // The owner is believed up again but its acknowledgements never come back.
        h.event(fallback, .peerUp(owner))
        h.sent.removeAll()
        // 10 s of handoff ticks (40 at 250 ms). Resends come 1, 2, 4, 8 s apart, so 3 fit; one per tick would be 40.
        h.tick(nodes: [fallback], for: 10_000)
        let handoffs = h.sent.filter { if case .handoff = $0.message { return $0.to == owner } else { return false } }
        #expect(handoffs.count == 3)
        #expect(h.nodes[fallback]!.handoffRetries == 3)
        // Once it answers, the hint is delivered and dropped.
        h.isolated = []
        h.tick(nodes: [fallback], for: 10_000)
        #expect(strings(h.local(owner, key)) == ["while-down"])
        #expect(h.stores[fallback]!.hintCount == 0)
    }

    @Test func rebalancingKeepsAtMostAWindowOfTransfersInFlightToASilentOwner() throws {
        var config = ClusterConfig()
        config.transferWindow = 10
        let h = Harness(nodes: 4, config: config)
        let keys = (0..<400).map { "key\($0)" }
        guard h.putAll(keys, via: h.ids[0]) else { return }
        let all = h.ids + ["n4"]
        let grown = try Membership(all.map { Node(id: $0) })
        h.join("n4", membership: grown)
        h.isolated = ["n4"]
        h.sent.removeAll()
        h.tick(nodes: h.ids, for: 10_000)
        for sender in h.ids {
            var perKey: [[UInt8]: Int] = [:]
            for s in h.sent where s.from == sender && s.to == "n4" {
                if case .transfer(_, let key, _) = s.message { perKey[key, default: 0] += 1 }
            }
            // Without a window every key n4 gains would go out in the first ticks (64 per tick), each
            // resent every second.
            #expect(perKey.count <= 10, "\(sender) sent \(perKey.count) distinct keys to a silent owner")
            #expect(perKey.values.allSatisfy { $0 <= 4 }, "\(sender) resent a transfer more than 3 times in 10 s")
        }
        // Once n4 answers, the pass completes and n4 holds exactly the keys it now replicates.
        h.isolated = []
        h.settle(nodes: all)
        #expect(!all.contains { h.nodes[$0]!.isRebalancing })
        let placement = h.nodes["n4"]!.placement
        for k in keys where placement.primaries(for: Array(k.utf8)).contains("n4") {
            #expect(strings(h.local("n4", k)) == ["v-\(k)"], "n4 should hold \(k)")
        }
    }

    @Test func aDownOwnerDoesNotHoldBackTransfersToTheOthers() throws {
        var config = ClusterConfig()
        config.transferWindow = 5
        let h = Harness(nodes: 5, config: config)
        let keys = (0..<400).map { "key\($0)" }
        guard h.putAll(keys, via: h.ids[0]) else { return }
        // n4 leaves; n1, one of the new owners, is down and silent the whole time.
        let remaining = try Membership(h.ids.filter { $0 != "n4" }.map { Node(id: $0) })
        let before = h.placement
        h.isolated = ["n1"]
        h.announce("n1", up: false)
        for id in h.ids { h.event(id, .membershipChanged(remaining)) }
        h.tick(nodes: h.ids.filter { $0 != "n1" }, for: 30_000)
        let after = h.nodes["n0"]!.placement
        // Every key that gained n0, n2 or n3 as an owner reached it, though n1's transfers never complete.
        var moved = 0
        for k in keys {
            let gained = after.primaries(for: Array(k.utf8)).filter { !before.primaries(for: Array(k.utf8)).contains($0) && $0 != "n1" }
            for owner in gained {
                moved += 1
                #expect(strings(h.local(owner, k)) == ["v-\(k)"], "\(owner) should have received \(k)")
            }
        }
        #expect(moved > 10)
    }

    @Test func aDownOwnerDoesNotHoldBackHintDeliveriesToTheOthers() throws {
        var config = ClusterConfig()
        config.transferWindow = 1
        let h = Harness(nodes: 5, config: config)
        // n1 and n2 are silent but believed up: n0 coordinates one write for each and keeps a hint for the
        // replica that never confirmed (the other two replicas make W).
        func key(owner: NodeID) -> String {
            // The stamping primary (the first) answers; `owner` is one of the other two.
            (0..<1_000).map { "k\($0)" }.first { k in
                let p = h.primaries(k)
                return p[1...].contains(owner) && !p.contains("n0") && !p.contains(owner == "n1" ? "n2" : "n1")
            }!
        }
        let k1 = key(owner: "n1"), k2 = key(owner: "n2")
        h.isolated = ["n1", "n2"]
        guard h.putAll([k1, k2], via: "n0") else { return }
        for t in h.timers where t.node == "n0" { if case .request = t.timer { h.event("n0", .timer(t.timer)) } }
        #expect(h.stores["n0"]!.hint(owner: "n1", key: Array(k1.utf8)) != nil)
        #expect(h.stores["n0"]!.hint(owner: "n2", key: Array(k2.utf8)) != nil)
        func handoffs(to owner: NodeID) -> Int {
            h.sent.filter { if case .handoff = $0.message { return $0.from == "n0" && $0.to == owner } else { return false } }.count
        }
        h.sent.removeAll()
        h.tick(nodes: ["n0"], for: h.config.handoffInterval)
        // Window 1: one delivery goes out, the other waits for it.
        #expect(handoffs(to: "n1") + handoffs(to: "n2") == 1)
        let first: NodeID = handoffs(to: "n1") == 1 ? "n1" : "n2"
        let second: NodeID = first == "n1" ? "n2" : "n1"
        // The first owner is declared down: its unacknowledged delivery stops counting, the other one goes.
        h.event("n0", .peerDown(first))
        h.tick(nodes: ["n0"], for: h.config.handoffInterval)
        #expect(handoffs(to: second) == 1)
    }
}
