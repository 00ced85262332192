import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning
import Testing

/// Real `ClusterNode`s over `AntiEntropyStore`s: a partition splits the cluster, clients write on
/// both sides with hints disabled, the partition heals, and only anti-entropy (merges fed back
/// through `ClusterNode`'s `.repair` message, as the shell would) brings the replicas together.
final class HealCluster {
    let ids = ["n0", "n1", "n2"]
    var nodes: [NodeID: ClusterNode] = [:]
    var ae: [NodeID: AntiEntropyNode] = [:]
    var stores: [NodeID: AntiEntropyStore] = [:]
    var side: [NodeID: Int] = [:]
    var queue: [(from: NodeID, to: NodeID, message: PeerMessage)] = []
    var aeQueue: [(from: NodeID, to: NodeID, bytes: [UInt8])] = []
    var reports: [SessionReport] = []
    var acks = 0
    var now: Tick = 0
    var nextClient: ClientRequestID = 0

    init() {
        var config = ClusterConfig()
        config.r = 1
        config.w = 1
        config.coordinatorHints = false
        config.tokensPerNode = 8
        let membership = try! Membership(ids.map { Node(id: $0) })
        for id in ids {
            let probe = ClusterNode(id: id, membership: membership, config: config, store: InMemoryLocalStore())
            let index = AntiEntropyIndex(ranges: ReplicaRanges(placement: probe.placement, node: id))
            let store = AntiEntropyStore(wrapping: InMemoryLocalStore(), index: index)
            stores[id] = store
            nodes[id] = ClusterNode(id: id, membership: membership, config: config, store: store)
            var c = AntiEntropyConfig()
            c.bytesPerSecond = nil
            ae[id] = AntiEntropyNode(id: id, index: index, source: store, config: c)
            side[id] = 0
        }
    }

    func connected(_ a: NodeID, _ b: NodeID) -> Bool { side[a] == side[b] }

    func event(_ id: NodeID, _ e: Event) {
        var n = nodes[id]!
        let effects = n.handle(e, now: now)
        nodes[id] = n
        for effect in effects {
            switch effect {
            case let .send(to, m): queue.append((id, to, m))
            case let .reply(_, reply): if case .written = reply { acks += 1 }
            case .setTimer, .cancelTimer: break
            }
        }
    }

    func aeEvent(_ id: NodeID, _ e: AntiEntropyEvent) {
        var n = ae[id]!
        let effects = n.handle(e, now: now)
        ae[id] = n
        for effect in effects {
            switch effect {
            case let .send(to, bytes): aeQueue.append((id, to, bytes))
            case let .merge(key, siblings, from): event(id, .peer(from: from, .repair(key: key, object: siblings, hintFor: nil)))
            case let .finished(r): reports.append(r)
            case .rejected: break
            }
        }
    }

    func pump() {
        while !queue.isEmpty || !aeQueue.isEmpty {
            now += 1
            if !queue.isEmpty {
                let (from, to, m) = queue.removeFirst()
                if connected(from, to) { event(to, .peer(from: from, m)) }
            } else {
                let (from, to, bytes) = aeQueue.removeFirst()
                if connected(from, to) { aeEvent(to, .received(from: from, bytes: bytes)) }
            }
        }
    }

    func partition(_ minority: [NodeID]) {
        for id in ids { side[id] = minority.contains(id) ? 1 : 0 }
        for a in ids { for b in ids where !connected(a, b) { event(a, .peerDown(b)); aeEvent(a, .peerDown(b)) } }
    }

    func heal() {
        for a in ids { for b in ids where !connected(a, b) { event(a, .peerUp(b)); aeEvent(a, .peerUp(b)) } }
        for id in ids { side[id] = 0 }
    }

    func put(_ coordinator: NodeID, _ key: [UInt8], _ value: String) {
        nextClient += 1
        event(coordinator, .client(nextClient, .put(key: key, value: Array(value.utf8), context: VersionVector(),
                                                     quorum: Quorum())))
        pump()
    }

    func divergent(_ keys: [[UInt8]]) -> Int {
        keys.filter { k in Set(ids.map { stores[$0]!.siblings(for: k) }).count > 1 }.count
    }
}

@Suite struct PartitionHealTests {
    @Test func divergedReplicasConvergeThroughAntiEntropyAlone() {
        let c = HealCluster()
        for id in c.ids { c.event(id, .start) }
        let keys = (0..<3000).map { Array("user:\($0)".utf8) }
        for k in keys { c.put("n0", k, "before") }
        #expect(c.divergent(keys) == 0)
        var datasetBytes = 0
        for k in keys { datasetBytes += AntiEntropyCoding.objectSize(KeyedSet(key: k, siblings: c.stores["n0"]!.siblings(for: k)!)) }
        c.partition(["n2"])
        for (i, k) in keys.enumerated() where i % 100 == 0 { c.put("n0", k, "majority-\(i)") }
        for (i, k) in keys.enumerated() where i % 150 == 0 { c.put("n2", k, "minority-\(i)") }
        #expect(c.acks == 3000 + 30 + 20)
        c.heal()
        c.pump()
        let before = c.divergent(keys)
        #expect(before == 40)  // nothing but anti-entropy will fix them
        // KV.REPAIR on every node; the shell's periodic tick starts the queued sessions.
        for id in c.ids {
            c.aeEvent(id, .repairAll)
            c.pump()
            while c.ae[id]!.queuedSessionCount > 0 { c.aeEvent(id, .tick); c.pump() }
        }
        #expect(c.divergent(keys) == 0)
        // Keys written on both sides hold both (blind) writes as siblings, beside the value they
        // were both concurrent with.
        for (i, k) in keys.enumerated() where i % 300 == 0 {
            let values = Set(c.stores["n1"]!.siblings(for: k)!.liveSiblings.map { String(decoding: $0.value, as: UTF8.self) })
            #expect(values == ["before", "majority-\(i)", "minority-\(i)"])
        }
        // The decorator kept every tree current through ClusterNode's own writes and merges: each
        // equals a tree rebuilt from the store's contents.
        let trees = c.stores["n0"]!.index.trees
        #expect(c.stores["n1"]!.index.trees == trees && c.stores["n2"]!.index.trees == trees)
        for id in c.ids {
            let index = c.stores[id]!.index
            #expect(index.ranges.ranges.count == 1 && index.keyCount == keys.count)
            let rebuilt = MerkleTree(shape: index.shape, entries: keys.map { k in
                let h = Placement.hash(k)
                return (index.shape.bucket(forKeyHash: h), MerkleTree.keyDigest(keyHash: h, siblings: c.stores[id]!.siblings(for: k)!))
            })
            #expect(rebuilt == index.trees[0])
        }
        #expect(c.ae["n0"]!.totals.rangesCompared > 0 && c.ae["n2"]!.totals.keysSent > 0)
        let repaired = c.reports.filter { $0.isInitiator && $0.outcome == .repaired }
        #expect(!repaired.isEmpty)
        let exchanged = repaired.reduce(0) { $0 + $1.bytesExchanged }
        let differing = repaired.reduce(0) { $0 + $1.differingObjectBytes }
        print("partition heal: \(before) of \(keys.count) keys divergent (dataset \(datasetBytes) B); \(repaired.count) repairing"
              + " sessions exchanged \(exchanged) B for \(differing) B of differing objects")
        #expect(exchanged < 10 * differing)
        #expect(exchanged * 4 < datasetBytes)
    }
}
