import KVHash
import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning
import Testing

@Suite struct MerkleTreeTests {
    static func set(_ value: String, counter: UInt64 = 1) -> SiblingSet {
        SiblingSet(context: VersionVector(),
                   siblings: [Sibling(dot: Dot(actor: Actor(node: "a", epoch: 1), counter: counter), timestamp: 0,
                                      value: Array(value.utf8))])
    }

    @Test func shapesAreValidated() {
        #expect(MerkleShape(fanoutBits: 0, depth: 3) == nil)
        #expect(MerkleShape(fanoutBits: 9, depth: 1) == nil)
        #expect(MerkleShape(fanoutBits: 4, depth: 6) == nil)  // 2^24 leaves
        #expect(MerkleShape(fanoutBits: 4, depth: 0) == nil)
        let s = MerkleShape(fanoutBits: 4, depth: 4)!
        #expect(s.leafCount == 65_536 && s.fanout == 16)
        #expect(MerkleShape.standard.leafCount == 4096)
        #expect(MerkleShape.suggested(keysPerRange: 10).leafCount == 256)
        #expect(MerkleShape.suggested(keysPerRange: 4096).leafCount == 4096)
        #expect(MerkleShape.suggested(keysPerRange: 100_000).leafCount == 65_536)
        #expect(MerkleShape.suggested(keysPerRange: 1 << 30).leafCount == 65_536)
    }

    @Test func bucketsSpreadKeysOfOneRange() {
        // Keys of one narrow hash range must still fill the buckets (top bits are nearly constant).
        let shape = MerkleShape(fanoutBits: 4, depth: 2)!
        var used = Set<Int>()
        for i in 0..<10_000 { used.insert(shape.bucket(forKeyHash: 0xABCD_0000_0000_0000 | UInt64(i))) }
        #expect(used.count > 240)
    }

    @Test func steppedReindexAfterARingChangeEqualsAFreshIndex() {
        // A ring change swaps the index and fills it a slice at a time while writes and deletes keep
        // arriving; the result must equal an index built from scratch over the final contents.
        let before = Placement(membership: try! Membership([Node(id: "n0"), Node(id: "n1"), Node(id: "n2")]), n: 2, tokensPerNode: 8)
        let after = Placement(membership: try! Membership([Node(id: "n0"), Node(id: "n1"), Node(id: "n2"), Node(id: "n3")]),
                              n: 2, tokensPerNode: 8)
        let shape = MerkleShape(fanoutBits: 2, depth: 3)!
        var rng = Rng(seed: 7)
        let inner = InMemoryLocalStore()
        let store = AntiEntropyStore(wrapping: inner, index: AntiEntropyIndex(ranges: ReplicaRanges(placement: before, node: "n0"), shape: shape))
        for i in 0..<2000 { store.setObject(StoredObject(siblings: Self.set("v\(i)", counter: UInt64(i + 1))), for: Array("k\(i)".utf8)) }
        let fresh = AntiEntropyIndex(ranges: ReplicaRanges(placement: after, node: "n0"), shape: shape)
        store.beginReindex(fresh)
        var steps = 0
        var done = false
        while !done {
            for _ in 0..<20 {
                let key = Array("k\(rng.below(2500))".utf8)
                if rng.below(3) == 0 {
                    store.removeObject(for: key)
                } else {
                    store.setObject(StoredObject(siblings: Self.set("w\(steps)", counter: UInt64(10_000 + steps))), for: key)
                }
            }
            done = store.continueReindex(limit: 97)
            steps += 1
        }
        #expect(steps > 5)
        #expect(!store.isReindexing)
        let expected = AntiEntropyIndex(ranges: ReplicaRanges(placement: after, node: "n0"), shape: shape)
        for key in inner.allKeys() { expected.record(key: key, siblings: inner.object(for: key)?.siblings) }
        #expect(store.index.keyCount == expected.keyCount)
        #expect(store.index.keyCount > 0)
        #expect(store.index.trees == expected.trees)
    }

    @Test func incrementalUpdatesEqualARebuild() {
        // Property: after any sequence of inserts, changes and deletes, the incrementally updated
        // index and tree equal a tree built from scratch from the surviving keys.
        let membership = try! Membership([Node(id: "n0"), Node(id: "n1")])
        let placement = Placement(membership: membership, n: 2, tokensPerNode: 4)
        for seed in UInt64(1)...5 {
            var rng = Rng(seed: seed)
            let shape = MerkleShape(fanoutBits: Int(seed % 3) + 1, depth: 3)!
            let index = AntiEntropyIndex(ranges: ReplicaRanges(placement: placement, node: "n0"), shape: shape)
            var model: [[UInt8]: SiblingSet] = [:]
            for step in 0..<3000 {
                let key = Array("k\(rng.below(400))".utf8)
                if rng.below(4) == 0 {
                    model[key] = nil
                    index.record(key: key, siblings: nil)
                } else {
                    let s = Self.set("v\(step)", counter: UInt64(step + 1))
                    model[key] = s
                    index.record(key: key, siblings: s)
                }
            }
            #expect(index.ranges.ranges.count == 1)
            #expect(index.keyCount == model.count)
            let rebuilt = MerkleTree(shape: shape, entries: model.map { k, s in
                let h = Placement.hash(k)
                return (bucket: shape.bucket(forKeyHash: h), digest: MerkleTree.keyDigest(keyHash: h, siblings: s))
            })
            #expect(index.trees[0] == rebuilt)
            #expect(MerkleTree(shape: shape, entries: index.allEntries(range: 0)) == rebuilt)
            // Removing everything returns to the empty tree.
            for k in model.keys { index.record(key: k, siblings: nil) }
            #expect(index.trees[0] == MerkleTree(shape: shape))
            #expect(index.keyCount == 0)
        }
    }

    /// A key's digest is XXH3 of its sibling set's stored encoding seeded with the key hash (built
    /// without an array now; nodes compare digests, so the definition must not drift), never 0, and it
    /// changes with the key and with every version.
    @Test func keyDigestIsTheHashOfTheStoredEncoding() {
        var set = SiblingSet()
        var digests: Set<UInt64> = []
        for i in 0..<40 {
            set.update(clientContext: i % 3 == 0 ? set.context : VersionVector(), actor: Actor(node: "n\(i % 4)", epoch: 1),
                       value: [UInt8](repeating: UInt8(i), count: i * 60), timestamp: UInt64(i))
            for key in ["a", "key:__rand_int__"] {
                let h = Placement.hash(Array(key.utf8))
                let d = MerkleTree.keyDigest(keyHash: h, siblings: set)
                let expected = XXH3.hash(SiblingSetCoding.encode(set), seed: h)
                #expect(d == (expected == 0 ? 1 : expected))
                digests.insert(d)
            }
        }
        #expect(digests.count == 80)
    }

    @Test func everyLevelIsTheXorOfItsChildren() {
        let shape = MerkleShape(fanoutBits: 2, depth: 4)!
        var rng = Rng(seed: 9)
        var tree = MerkleTree(shape: shape)
        for _ in 0..<500 { tree.toggle(bucket: rng.below(shape.leafCount), digest: rng.next()) }
        for level in 1...shape.depth {
            for parent in 0..<shape.nodeCount(atLevel: level - 1) {
                let xor = tree.children(ofParent: parent, atLevel: level).reduce(0, ^)
                #expect(xor == tree.digest(level: level - 1, index: parent))
            }
        }
    }

    @Test func differingChildrenAndBucketsFindExactlyTheChangedLeaves() {
        let shape = MerkleShape(fanoutBits: 3, depth: 3)!
        var a = MerkleTree(shape: shape)
        var rng = Rng(seed: 3)
        for _ in 0..<1000 { a.toggle(bucket: rng.below(shape.leafCount), digest: rng.next()) }
        var b = a
        b.toggle(bucket: 5, digest: 77)
        b.toggle(bucket: 400, digest: 99)
        #expect(a.root != b.root)
        #expect(a.differingBuckets(against: b.leaves) == [5, 400])
        // Level by level, from the root down.
        var parents = [0]
        for level in 1...shape.depth {
            var remote: [UInt64] = []
            for p in parents { remote.append(contentsOf: b.children(ofParent: p, atLevel: level)) }
            parents = a.differingChildren(level: level, parents: parents, remote: remote)!
            #expect(parents.count == 2)
        }
        #expect(parents == [5, 400])
        // Mismatched sizes or out-of-range parents are refused, not trapped on.
        #expect(a.differingChildren(level: 1, parents: [0], remote: [1, 2]) == nil)
        #expect(a.differingChildren(level: 2, parents: [64], remote: Array(repeating: 0, count: 8)) == nil)
        #expect(a.differingChildren(level: 9, parents: [0], remote: Array(repeating: 0, count: 8)) == nil)
    }

    @Test func rangesGroupArcsByReplicaSetAndCoverEveryKeyOnItsReplicas() {
        let membership = Membership.named(count: 5, prefix: "n")
        let placement = Placement(membership: membership, n: 3, tokensPerNode: 16)
        let all = membership.nodes.map { ReplicaRanges(placement: placement, node: $0.id) }
        for i in 0..<2000 {
            let key = Array("key-\(i)".utf8)
            let primaries = Set(placement.primaries(for: key))
            for r in all {
                let idx = r.rangeIndex(forKeyHash: Placement.hash(key))
                #expect((idx != nil) == primaries.contains(r.node))
                if let idx { #expect(Set(r.ranges[idx].replicas) == primaries) }
            }
        }
        // Pairs: each range with its other replicas; initiator-only halves the pairs.
        let pairs = all[0].syncPairs()
        #expect(pairs.allSatisfy { $0.peers.count == 2 && !$0.peers.contains("n0") })
        let everyPair = all.flatMap { r in r.syncPairs(initiatorOnly: true).flatMap { p in p.peers.map { (r.node, $0, p.range) } } }
        #expect(everyPair.allSatisfy { $0.0 < $0.1 })
    }
}
