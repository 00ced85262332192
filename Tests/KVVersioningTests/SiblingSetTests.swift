import KVVersioning
import Testing

private let a = Actor(node: "a", epoch: 1)
private let b = Actor(node: "b", epoch: 1)
private let c = Actor(node: "c", epoch: 1)

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func values(_ s: SiblingSet) -> [String] { s.siblings.map { String(decoding: $0.value, as: UTF8.self) }.sorted() }

@Suite struct VersionVectorTests {
    @Test func unionTakesPointwiseMaximum() {
        let x = VersionVector([.init(actor: a, counter: 3), .init(actor: b, counter: 1)])
        let y = VersionVector([.init(actor: b, counter: 4), .init(actor: c, counter: 2)])
        let u = x.union(y)
        #expect(u[a] == 3 && u[b] == 4 && u[c] == 2)
        #expect(u.entries.map(\.actor) == [a, b, c])
        #expect(u.descends(x) && u.descends(y))
        #expect(!x.descends(y))
    }

    @Test func compareNamesTheRelation() {
        let x = VersionVector([.init(actor: a, counter: 1)])
        let y = VersionVector([.init(actor: a, counter: 2)])
        let z = VersionVector([.init(actor: b, counter: 1)])
        #expect(x.compare(y) == .before)
        #expect(y.compare(x) == .after)
        #expect(x.compare(z) == .concurrent)
        #expect(x.compare(x) == .equal)
        #expect(VersionVector().compare(x) == .before)
    }

    @Test func coversDotsUpToTheCounter() {
        let x = VersionVector([.init(actor: a, counter: 2)])
        #expect(x.covers(Dot(actor: a, counter: 1)))
        #expect(x.covers(Dot(actor: a, counter: 2)))
        #expect(!x.covers(Dot(actor: a, counter: 3)))
        #expect(!x.covers(Dot(actor: b, counter: 1)))
    }

    @Test func zeroCountersAreDropped() {
        let x = VersionVector([.init(actor: a, counter: 0), .init(actor: b, counter: 1), .init(actor: b, counter: 5)])
        #expect(x.entries == [.init(actor: b, counter: 5)])
    }
}

@Suite struct SiblingSetTests {
    @Test func blindConcurrentWritesBecomeSiblingsAndAMergedContextCollapsesThem() {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: a, value: bytes("x"), timestamp: 1)
        s.update(clientContext: VersionVector(), actor: a, value: bytes("y"), timestamp: 2)
        #expect(values(s) == ["x", "y"])
        let ctx = s.context
        s.update(clientContext: ctx, actor: a, value: bytes("z"), timestamp: 3)
        #expect(values(s) == ["z"])
    }

    @Test func aWriteReplacesOnlyWhatItsContextSaw() {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: a, value: bytes("x"), timestamp: 1)
        let sawX = s.context
        s.update(clientContext: VersionVector(), actor: a, value: bytes("y"), timestamp: 2) // concurrent
        s.update(clientContext: sawX, actor: a, value: bytes("x2"), timestamp: 3)
        #expect(values(s) == ["x2", "y"])
    }

    @Test func syncKeepsConcurrentSiblingsAndDropsSuperseded() {
        var r1 = SiblingSet()
        r1.update(clientContext: VersionVector(), actor: a, value: bytes("base"), timestamp: 1)
        var r2 = r1
        let base = r1.context
        r1.update(clientContext: base, actor: a, value: bytes("from-a"), timestamp: 2)
        r2.update(clientContext: base, actor: b, value: bytes("from-b"), timestamp: 2)
        let m = r1.synced(with: r2)
        #expect(values(m) == ["from-a", "from-b"])
        #expect(m.descends(r1) && m.descends(r2))
        #expect(r1.compare(r2) == .concurrent)
        var r3 = r1
        r3.update(clientContext: m.context, actor: a, value: bytes("resolved"), timestamp: 3)
        #expect(values(r3.synced(with: r2)) == ["resolved"])
        #expect(values(r2.synced(with: r3)) == ["resolved"])
    }

    @Test func duplicateDeliveryCreatesNoSiblings() {
        var r1 = SiblingSet()
        r1.update(clientContext: VersionVector(), actor: a, value: bytes("v"), timestamp: 1)
        var r2 = SiblingSet()
        r2.sync(r1)
        r2.sync(r1)
        r2.sync(r1)
        #expect(r2 == r1)
        #expect(r2.siblings.count == 1)
    }

    @Test func syncIsCommutativeAssociativeAndIdempotent() {
        var rng = TestRNG(seed: 7)
        for _ in 0..<200 {
            let replicas = randomReplicaHistory(steps: 12, rng: &rng) { $0.synced(with: $1) }
            let (x, y, z) = (replicas[0], replicas[1], replicas[2])
            #expect(x.synced(with: y) == y.synced(with: x))
            #expect(x.synced(with: y).synced(with: z) == x.synced(with: y.synced(with: z)))
            #expect(x.synced(with: x) == x)
            let all = x.synced(with: y).synced(with: z)
            #expect(Set(all.siblings.map(\.dot)).count == all.siblings.count)
            for s in all.siblings { #expect(all.context.covers(s.dot)) }
        }
    }

    /// `sync` and `formUnion` skip building a new list when one side already is the result; on random
    /// replica histories (including equal, dominated and concurrent pairs, and repeated syncs) both
    /// must give exactly what the plain merge gives, sibling for sibling and entry for entry.
    @Test func syncAndUnionShortcutsMatchThePlainMerge() {
        func plainUnion(_ x: VersionVector, _ y: VersionVector) -> VersionVector {
            var all: [VersionVector.Entry] = x.entries
            for e in y.entries {
                if let k = all.firstIndex(where: { $0.actor == e.actor }) {
                    all[k].counter = max(all[k].counter, e.counter)
                } else {
                    all.append(e)
                }
            }
            return VersionVector(all)
        }
        func plainSiblings(_ x: SiblingSet, _ y: SiblingSet) -> [Sibling] {
            let kept = x.siblings.filter { s in y.siblings.contains { $0.dot == s.dot } || !y.context.covers(s.dot) }
                + y.siblings.filter { s in !x.siblings.contains { $0.dot == s.dot } && !x.context.covers(s.dot) }
            return kept.sorted { $0.dot < $1.dot }
        }
        var rng = TestRNG(seed: 11)
        var checked = 0, shortcuts = 0
        for _ in 0..<300 {
            _ = randomReplicaHistory(steps: 14, rng: &rng) { x, y in
                var merged = x
                merged.sync(y)
                if !x.isEmpty && !y.isEmpty {
                    #expect(merged.siblings == plainSiblings(x, y), "\(x) sync \(y)")
                    #expect(merged.context == plainUnion(x.context, y.context), "\(x) sync \(y)")
                    checked += 1
                    if merged.siblings == x.siblings || merged.siblings == y.siblings { shortcuts += 1 }
                }
                var u = x.context
                u.formUnion(y.context)
                #expect(u == plainUnion(x.context, y.context))
                return merged
            }
        }
        // Both paths ran: results equal to one side and results built from both.
        #expect(checked > 500 && shortcuts > 100 && shortcuts < checked)
    }

    /// Three replicas evolving by local writes (each under its own actor, with its own context or none)
    /// and occasional pairwise syncs, where `sync(x, y)` gives replica x's new state after syncing y.
    private func randomReplicaHistory(steps: Int, rng: inout TestRNG,
                                      sync: (SiblingSet, SiblingSet) -> SiblingSet) -> [SiblingSet] {
        var replicas = [SiblingSet(), SiblingSet(), SiblingSet()]
        let actors = [a, b, c]
        for step in 0..<steps {
            let i = Int(rng.next() % 3)
            if rng.next() % 3 == 0 {
                let j = Int(rng.next() % 3)
                replicas[i] = sync(replicas[i], replicas[j])
            } else {
                let ctx = rng.next() % 2 == 0 ? replicas[i].context : VersionVector()
                replicas[i].update(clientContext: ctx, actor: actors[i], value: bytes("s\(step)"), timestamp: UInt64(step))
            }
        }
        return replicas
    }

    @Test func tombstoneSupersedesWhatItSaw() {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: a, value: bytes("v"), timestamp: 1)
        s.update(clientContext: s.context, actor: a, value: [], isTombstone: true, timestamp: 2)
        #expect(s.isDeleted)
        #expect(s.liveSiblings.isEmpty)
        #expect(s.siblings.count == 1)
        var other = SiblingSet()
        other.update(clientContext: VersionVector(), actor: b, value: bytes("w"), timestamp: 3)
        let m = s.synced(with: other)
        #expect(!m.isDeleted)
        #expect(m.liveSiblings.map(\.value) == [bytes("w")])
    }

    @Test func lastWriteWinsPicksHighestTimestampThenHighestDot() {
        var s = SiblingSet()
        s.update(clientContext: VersionVector(), actor: b, value: bytes("late"), timestamp: 9)
        s.update(clientContext: VersionVector(), actor: a, value: bytes("early"), timestamp: 3)
        #expect(s.resolvedLastWriteWins().siblings.map(\.value) == [bytes("late")])
        var t = SiblingSet()
        t.update(clientContext: VersionVector(), actor: a, value: bytes("a"), timestamp: 5)
        t.update(clientContext: VersionVector(), actor: b, value: bytes("b"), timestamp: 5)
        // Equal timestamps: the higher dot (actor "b" > "a") wins on every replica.
        #expect(t.lastWriteWinsWinner?.value == bytes("b"))
        let resolved = t.resolvedLastWriteWins()
        #expect(resolved.context == t.context)
        #expect(resolved.siblings.count == 1)
    }
}

/// SplitMix64 for the tests' random histories.
struct TestRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
