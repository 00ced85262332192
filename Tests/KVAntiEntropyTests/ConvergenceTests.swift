import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning
import Testing

@Suite struct ConvergenceTests {
    /// 16^4 = 65,536 leaves (about 1.5 keys per bucket) and the standard 16^3 = 4,096 (about 24).
    @Test(arguments: [4, 3])
    func kDifferingKeysAmongAHundredThousandCostBytesInKTimesDepthNotN(depth: Int) throws {
        let shape = MerkleShape(fanoutBits: 4, depth: depth)!
        let h = Replicas(count: 2, n: 2, shape: shape)
        let n = 100_000, k = 100
        let value = [UInt8](repeating: 0x61, count: 100)
        var datasetBytes = 0
        for i in 0..<n {
            let s = h.write("n0", h.key(i), value)
            h.writeEverywhere(h.key(i), s)
            datasetBytes += AntiEntropyCoding.objectSize(KeyedSet(key: h.key(i), siblings: s))
        }
        // k keys change on one side or the other (superseding writes), spread over the key space.
        let changed = (0..<k).map { h.key($0 * (n / k) + 7) }
        for (j, key) in changed.enumerated() {
            let node = j % 2 == 0 ? "n0" : "n1"
            h.write(node, key, [UInt8](repeating: 0x62, count: 100), context: h.set(node, key)!.context)
        }
        #expect(h.divergentKeys(changed).count == k)
        h.sync("n0", "n1")
        #expect(h.divergentKeys(changed).isEmpty)
        #expect(h.stores["n0"]!.index.trees == h.stores["n1"]!.index.trees)
        let r = try #require(h.initiatorReports.first)
        #expect(r.keysSent + r.keysReceived == k)
        #expect(r.levelsDescended == shape.depth)
        // O(k · depth): per differing key at most one path of fanout-wide digest rows, the listing
        // of its bucket (about n / leaves keys of ~40 bytes) and its set, with slack for headers.
        let perKeyPath = shape.depth * (shape.fanout * 8 + 8)
        let perBucketListing = (n / shape.leafCount + 2) * 40
        let bound = k * (perKeyPath + perBucketListing) + 2 * r.differingObjectBytes + 256
        print("anti-entropy 100k/100, tree \(shape): exchanged \(r.bytesExchanged) B in \(r.messagesSent + r.messagesReceived) messages;"
              + " differing objects \(r.differingObjectBytes) B; dataset \(datasetBytes) B; tree nodes \(r.treeNodesExchanged);"
              + " buckets \(r.bucketsDiffering); key entries \(r.keyEntriesExchanged); bound \(bound) B")
        #expect(r.bytesExchanged <= bound)
        #expect(r.bytesExchanged * 100 < datasetBytes)  // under 1 % of the dataset
        #expect(r.bytesExchanged < (depth == 4 ? 5 : 10) * r.differingObjectBytes)
    }

    @Test func threeReplicasDivergedOnAllSidesConverge() {
        for seed in UInt64(1)...3 {
            var rng = Rng(seed: seed)
            let h = Replicas(count: 3, n: 3)
            let keys = (0..<400).map(h.key)
            for k in keys.prefix(300) { h.writeEverywhere(k, h.write("n0", k, Array("v0".utf8))) }
            // Each replica writes, overwrites, deletes and creates keys on its own.
            for step in 0..<600 {
                let node = h.ids[rng.below(3)]
                let k = keys[rng.below(keys.count)]
                switch rng.below(4) {
                case 0: h.write(node, k, [], tombstone: true)
                case 1: h.write(node, k, Array("blind-\(step)".utf8), context: VersionVector())
                default: h.write(node, k, Array("w-\(step)".utf8))
                }
            }
            let expected = h.mergedAcrossReplicas(keys)  // 3 nodes, N = 3: every node replicates every key
            #expect(!h.divergentKeys(keys).isEmpty)
            h.repairEverywhere()
            #expect(h.divergentKeys(keys).isEmpty)
            for k in keys { for id in h.ids { #expect((h.set(id, k) ?? SiblingSet()) == expected[k]) } }
            let t0 = h.stores["n0"]!.index.trees
            #expect(h.stores["n1"]!.index.trees == t0 && h.stores["n2"]!.index.trees == t0)
            #expect(h.reports.allSatisfy { if case .aborted = $0.outcome { false } else { true } })
        }
    }

    @Test func manyRangesOnFiveNodesConverge() {
        var rng = Rng(seed: 11)
        let h = Replicas(count: 5, n: 3)
        let keys = (0..<500).map(h.key)
        for k in keys {
            let primaries = h.placement.primaries(for: k)
            h.write(primaries[rng.below(3)], k, Array("a".utf8))
            if rng.below(2) == 0 { h.write(primaries[rng.below(3)], k, Array("b".utf8)) }
        }
        #expect(h.stores["n0"]!.index.ranges.ranges.count > 1)
        #expect(!h.divergentKeys(keys).isEmpty)
        // Periodic rounds only (each pair once per range, lower id initiates).
        for id in h.ids { h.event(id, .tick); h.pump() }
        for _ in 0..<50 { for id in h.ids where h.nodes[id]!.queuedSessionCount > 0 { h.event(id, .tick); h.pump() } }
        #expect(h.divergentKeys(keys).isEmpty)
        // Hinted copies aside, nobody indexes a key it does not replicate.
        for id in h.ids { #expect(h.stores[id]!.index.keyCount == keys.filter { h.placement.primaries(for: $0).contains(id) }.count) }
    }

    @Test(arguments: [true, false])
    func theFirstRoundComesAtStartOrOneIntervalLater(roundAtStart: Bool) {
        var config = Replicas.unlimited
        config.roundAtStart = roundAtStart
        let h = Replicas(count: 3, n: 3, config: config)
        let keys = (0..<50).map(h.key)
        for k in keys { h.write("n0", k, Array("only-on-n0".utf8)) }
        for _ in 0..<20 { h.event("n0", .tick); h.pump() }  // no time passes
        #expect(h.divergentKeys(keys).isEmpty == roundAtStart)
        h.now += config.interval
        for _ in 0..<20 { h.event("n0", .tick); h.pump() }
        #expect(h.divergentKeys(keys).isEmpty)
    }

    @Test func truncatedSessionsContinueUntilEveryBucketIsRepaired() {
        var config = Replicas.unlimited
        config.maxBucketsPerSession = 8
        config.maxConcurrentSessions = 1
        let h = Replicas(count: 2, n: 2, config: config)
        let keys = (0..<200).map(h.key)
        for k in keys { h.write("n1", k, [1]) }
        h.event("n0", .repairAll)
        h.pump()
        for _ in 0..<100 where h.nodes["n0"]!.queuedSessionCount > 0 { h.event("n0", .tick); h.pump() }
        #expect(h.divergentKeys(keys).isEmpty)
        #expect(h.initiatorReports.count > 2 && h.initiatorReports.dropLast().allSatisfy(\.truncated))
    }
}
