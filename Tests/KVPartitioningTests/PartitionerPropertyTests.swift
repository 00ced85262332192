import KVHash
import KVPartitioning
import Testing

@Suite struct PartitionerPropertyTests {
    @Test(arguments: Scheme.allCases)
    func sameMembershipGivesSamePlacement(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 1)
        for trial in 0..<5 {
            let m = randomMembership(3 + trial * 7, rng: &rng)
            let a = scheme.make(m)
            let b = scheme.make(try! Membership(m.nodes))
            for _ in 0..<2000 {
                let h = rng.next()
                #expect(a.owner(of: h) == b.owner(of: h))
                #expect(a.preferenceList(for: h, count: 3) == b.preferenceList(for: h, count: 3))
            }
        }
    }

    /// Every scheme but modulo and jump (which number nodes by position) ignores the input order.
    @Test(arguments: [Scheme.ring, .vnodes, .fixed, .rendezvous])
    func placementIgnoresNodeOrder(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 2)
        let m = randomMembership(17, rng: &rng)
        let shuffled = try! Membership(m.nodes.shuffled(using: &rng))
        #expect(shuffled.nodes != m.nodes)
        let a = scheme.make(m)
        let b = scheme.make(shuffled)
        for _ in 0..<5000 {
            let h = rng.next()
            #expect(a.ownerID(of: h) == b.ownerID(of: h))
            let la = a.preferenceList(for: h, count: 3).map { m.nodes[$0].id }
            let lb = b.preferenceList(for: h, count: 3).map { shuffled.nodes[$0].id }
            #expect(la == lb)
        }
    }

    @Test(arguments: Scheme.consistent)
    func addingANodeMovesKeysOnlyOntoIt(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 3)
        for trial in 0..<6 {
            let m = randomMembership(2 + trial * 5, rng: &rng)
            let newcomer = Node(id: "joiner-" + String(trial))
            let grown = try! m.adding([newcomer])
            let before = scheme.make(m)
            let after = scheme.makeAfter(before, grown)
            var moved = 0
            for _ in 0..<4000 {
                let h = rng.next()
                let old = before.ownerID(of: h)
                let new = after.ownerID(of: h)
                if old != new {
                    moved += 1
                    #expect(new == newcomer.id, "\(scheme): key moved \(old) -> \(new)")
                }
            }
            #expect(moved > 0, "\(scheme): the new node took no keys")
        }
    }

    @Test(arguments: [Scheme.ring, .vnodes, .fixed, .rendezvous])
    func removingANodeMovesOnlyItsKeys(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 4)
        for trial in 0..<6 {
            let m = randomMembership(3 + trial * 5, rng: &rng)
            let leaver = m.nodes[Int(rng.next() % UInt64(m.count))].id
            let shrunk = try! m.removing(ids: [leaver])
            let before = scheme.make(m)
            let after = scheme.makeAfter(before, shrunk)
            for _ in 0..<4000 {
                let h = rng.next()
                let old = before.ownerID(of: h)
                if old != after.ownerID(of: h) { #expect(old == leaver) }
            }
        }
    }

    @Test func jumpMovesOnlyTheLastBucketOnRemoval() {
        var rng = SeededRNG(seed: 5)
        let m = randomMembership(12, rng: &rng)
        let last = m.nodes.last!.id
        let before = JumpPartitioner(membership: m)
        let after = JumpPartitioner(membership: try! m.removing(ids: [last]))
        for _ in 0..<5000 {
            let h = rng.next()
            if before.ownerID(of: h) != after.ownerID(of: h) { #expect(before.ownerID(of: h) == last) }
        }
    }

    @Test(arguments: Scheme.allCases)
    func preferenceListsHoldDistinctNodesOwnerFirst(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 6)
        for trial in 0..<8 {
            let m = randomMembership(1 + trial * 3, rng: &rng)
            let p = scheme.make(m)
            var list: [NodeIndex] = []
            for _ in 0..<1500 {
                let h = rng.next()
                let n = 1 + Int(rng.next() % 5)
                p.preferenceList(for: h, count: n, into: &list)
                #expect(list.count == min(n, m.count))
                #expect(Set(list).count == list.count)
                #expect(list.first == p.owner(of: h))
            }
        }
    }

    @Test(arguments: Scheme.allCases)
    func preferenceListsSpanZones(_ scheme: Scheme) {
        var rng = SeededRNG(seed: 7)
        for zones in [2, 3, 5] {
            let m = randomMembership(20, zones: zones, rng: &rng)
            let p = scheme.make(m)
            for _ in 0..<1000 {
                let h = rng.next()
                let list = p.preferenceList(for: h, count: 4)
                #expect(list.count == 4)
                #expect(Set(list).count == 4)
                let distinctZones = Set(list.map { m.nodes[$0].zone! }).count
                #expect(distinctZones == min(4, m.zoneCount), "\(scheme): \(list.map { m.nodes[$0].zone! })")
                #expect(Set(list.prefix(min(4, m.zoneCount)).map { m.nodes[$0].zone! }).count == min(4, m.zoneCount))
            }
        }
    }
}
