import KVHash
import KVPartitioning
import Testing

@Suite struct SchemeTests {
    @Test func membershipRejectsBadInput() {
        #expect(throws: MembershipError.empty) { try Membership([]) }
        #expect(throws: MembershipError.duplicateID("a")) { try Membership([Node(id: "a"), Node(id: "a")]) }
        #expect(throws: MembershipError.invalidWeight("a")) { try Membership([Node(id: "a", weight: 0)]) }
        let m = try! Membership([Node(id: "a", zone: "x"), Node(id: "b", zone: "x"), Node(id: "c")])
        #expect(m.zoneCount == 2)
        #expect(m.zoneIndex[0] == m.zoneIndex[1])
    }

    @Test func tokenRingLookupMatchesLinearScan() {
        var rng = SeededRNG(seed: 10)
        for k in [1, 3, 100] {
            let ring = TokenRing(membership: randomMembership(13, rng: &rng), tokensPerNode: k)
            #expect(ring.tokens == ring.tokens.sorted())
            var probes = (0..<3000).map { _ in rng.next() }
            probes += ring.tokens + ring.tokens.map { $0 &+ 1 } + [0, UInt64.max]
            for h in probes {
                let expected = ring.tokens.firstIndex { $0 >= h } ?? 0
                #expect(ring.tokenIndex(for: h) == expected)
            }
        }
    }

    @Test func tokensFollowWeights() {
        let m = try! Membership([Node(id: "small"), Node(id: "big", weight: 2)])
        let ring = TokenRing(membership: m, tokensPerNode: 100)
        #expect(ring.owners.filter { $0 == 0 }.count == 100)
        #expect(ring.owners.filter { $0 == 1 }.count == 200)
        let shares = ring.ownershipShares
        #expect(abs(shares.reduce(0, +) - 1) < 1e-9)
        #expect(shares[1] > shares[0])
    }

    @Test func oneTokenRingOwnsTheWholeCircle() {
        let ring = TokenRing(membership: try! Membership([Node(id: "solo")]), tokensPerNode: 1)
        #expect(ring.ownershipShares == [1])
        #expect(ring.owner(of: 12345) == 0)
    }

    @Test func fixedClaimIsBalancedAndStriped() {
        let m = Membership.named(count: 10)
        let ring = FixedPartitionRing(membership: m, partitionCount: 1024)
        #expect(Set(ring.partitionCounts) == [102, 103])
        let sorted = m.indicesSortedByID
        for p in 0..<1024 { #expect(Int(ring.partitionOwners[p]) == sorted[p % 10]) }
        // Key → partition uses the top bits.
        #expect(ring.partition(of: UInt64.max) == 1023)
        #expect(ring.partition(of: 0) == 0)
    }

    @Test func fixedRebalanceMovesOnlyWhatQuotasRequire() {
        var rng = SeededRNG(seed: 11)
        var m = randomMembership(5, rng: &rng)
        var ring = FixedPartitionRing(membership: m, partitionCount: 512)
        for step in 0..<12 {
            let previous = ring
            if step % 3 == 2 {
                m = try! m.removing(ids: [m.nodes[Int(rng.next() % UInt64(m.count))].id])
            } else {
                m = try! m.adding([Node(id: "x" + String(step))])
            }
            ring = previous.rebalanced(to: m)
            let counts = ring.partitionCounts
            #expect(counts.max()! - counts.min()! <= 1)
            // Moved partitions = what the new quotas force: sum over kept nodes of max(0, old - new)
            // plus the partitions of removed nodes.
            var oldCount: [String: Int] = [:]
            for o in previous.partitionOwners { oldCount[previous.membership.nodes[Int(o)].id, default: 0] += 1 }
            var required = 0
            for (id, old) in oldCount {
                if let i = m.index(of: id) { required += max(0, old - counts[i]) } else { required += old }
            }
            var moved = 0
            for p in 0..<512 where previous.membership.nodes[Int(previous.partitionOwners[p])].id != m.nodes[Int(ring.partitionOwners[p])].id {
                moved += 1
            }
            #expect(moved == required)
        }
    }

    @Test func fixedQuotasFollowWeights() {
        let m = try! Membership([Node(id: "a"), Node(id: "b"), Node(id: "c", weight: 2)])
        let ring = FixedPartitionRing(membership: m, partitionCount: 1024)
        #expect(ring.partitionCounts == [256, 256, 512])
    }

    @Test func jumpBucketsGrowMonotonically() {
        var rng = SeededRNG(seed: 12)
        for _ in 0..<2000 {
            let h = rng.next()
            #expect(JumpPartitioner.bucket(for: h, buckets: 1) == 0)
            for n in 1..<40 {
                let a = JumpPartitioner.bucket(for: h, buckets: n)
                let b = JumpPartitioner.bucket(for: h, buckets: n + 1)
                #expect(a < n)
                #expect(b == a || b == n)
            }
        }
    }

    @Test func weightedRendezvousFavoursHeavyNodes() {
        let m = try! Membership([Node(id: "light"), Node(id: "heavy", weight: 3)])
        let p = RendezvousPartitioner(membership: m)
        var rng = SeededRNG(seed: 13)
        var heavy = 0
        for _ in 0..<20000 where p.owner(of: rng.next()) == 1 { heavy += 1 }
        // Expected share 3/4.
        #expect(heavy > 14_500 && heavy < 15_500)
        #expect(p.preferenceList(for: 42, count: 2).sorted() == [0, 1])
    }

    @Test func rendezvousListsAreTheTopScores() {
        var rng = SeededRNG(seed: 15)
        for weighted in [false, true] {
            var nodes = randomMembership(30, rng: &rng).nodes
            if weighted { nodes = nodes.enumerated().map { Node(id: $1.id, weight: 1 + Double($0 % 3)) } }
            let p = RendezvousPartitioner(membership: try! Membership(nodes))
            for _ in 0..<500 {
                let h = rng.next()
                let expected = nodes.indices.sorted { p.score(h, node: $0) > p.score(h, node: $1) }
                #expect(p.preferenceList(for: h, count: 4) == Array(expected.prefix(4)))
                #expect(p.owner(of: h) == expected[0])
            }
        }
    }

    @Test func boundedRouterNeverExceedsItsCap() {
        let ring = TokenRing(membership: Membership.named(count: 8), tokensPerNode: 32)
        var router = BoundedLoadRouter(ring: ring, capacityFactor: 1.25)
        var rng = SeededRNG(seed: 14)
        let hot = rng.next()
        var assigned: [NodeIndex] = []
        for i in 0..<400 {
            let cap = router.capacity
            let node = router.assign(i % 2 == 0 ? hot : rng.next())
            #expect(router.loads[node] <= cap)
            assigned.append(node)
        }
        #expect(router.totalLoad == 400)
        #expect(router.loads.max()! <= Int((1.25 * 400 / 8).rounded(.up)))
        // The hot key spilled beyond its owner.
        #expect(Set(assigned.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)).count > 1)
        for node in assigned { router.release(node) }
        #expect(router.totalLoad == 0 && router.loads.allSatisfy { $0 == 0 })
    }

    @Test func boundedRouterWithReplicasStaysOnReplicas() {
        let ring = TokenRing(membership: Membership.named(count: 8), tokensPerNode: 32)
        var router = BoundedLoadRouter(ring: ring, capacityFactor: 1.1)
        let replicas = Set(ring.preferenceList(for: 99, count: 3))
        for _ in 0..<100 { #expect(replicas.contains(router.assign(99, replicas: 3))) }
        #expect(router.loads.enumerated().filter { !replicas.contains($0.offset) }.allSatisfy { $0.element == 0 })
    }
}
