import Benchmark
import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning

// The cluster's per-write CPU outside the sockets: the codecs every replicated SET runs (the stored
// object a replica persists, the `replicate` frame a coordinator sends, the digest the Merkle index
// keeps) and one whole coordinated plain SET through three pure `ClusterNode`s (N=3, W=2, in-memory
// stores, messages handed over directly). Shapes match `redis-benchmark -t set -d 100` against a
// 3-node kvnode cluster: a 16-byte key, a 100-byte value, one sibling, four remembered stamps.
//   cd Benchmarks && swift package benchmark --target ClusterBenchmarks --no-progress
// Thresholds (baseline check): wall clock may rise 25 % at p50 and 50 % at p90; allocations not at all.

let key = Array("key:__rand_int__".utf8)
let value = [UInt8](repeating: UInt8(ascii: "x"), count: 100)
let nodeIDs: [NodeID] = ["n1", "n2", "n3"]

/// The sibling set a key written many times through one stamper holds.
let siblings: SiblingSet = {
    var set = SiblingSet()
    var context = VersionVector()
    for round in 0..<50 {
        let actor = Actor(node: nodeIDs[round % 3], epoch: 1)
        _ = set.update(clientContext: context, actor: actor, value: value, isTombstone: false, timestamp: UInt64(round))
        context = set.context
    }
    return set
}()

let storedObject = StoredObject(
    siblings: siblings, stampEpoch: 1,
    recentStamps: (0..<4).map { i in
        .init(origin: StampOrigin(coordinator: nodeIDs[i % 3], request: (7 << 32) | UInt64(1000 + i)),
              dot: Dot(actor: Actor(node: "n1", epoch: 1), counter: UInt64(100 + i)))
    })
let storedBytes = ClusterCoding.encode(storedObject)
let replicate = PeerMessage.replicate(request: (7 << 32) | 12345, key: key, object: siblings, hintFor: nil)
let replicateBytes = ClusterCoding.encode(replicate)

/// Three pure nodes and a message queue: `set()` runs one plain SET from n1 to its reply and every
/// message it causes. Effects are collected in one reused array, as the NIO shell does.
final class PureCluster {
    var nodes: [ClusterNode]
    var queue: [(to: Int, from: NodeID, message: PeerMessage)] = []
    var effects: [Effect] = []
    var client: ClientRequestID = 0
    var now: Tick = 1

    init() {
        let membership = try! Membership(nodeIDs.map { Node(id: $0) })
        nodes = nodeIDs.map { ClusterNode(id: $0, membership: membership, config: ClusterConfig(), store: InMemoryLocalStore()) }
        for i in nodes.indices { _ = nodes[i].handle(.start, now: now) }
        queue.reserveCapacity(8)
    }

    func set() -> Int {
        client += 1
        now += 1
        var replies = 0
        nodes[0].handle(.client(client, .plainSet(key: key, value: value, quorum: Quorum())), now: now, into: &effects)
        replies += perform(from: 0)
        var next = 0
        while next < queue.count {
            let (to, from, message) = queue[next]
            next += 1
            nodes[to].handle(.peer(from: from, message), now: now, into: &effects)
            replies += perform(from: to)
        }
        queue.removeAll(keepingCapacity: true)
        return replies
    }

    private func perform(from: Int) -> Int {
        var replies = 0
        defer { effects.removeAll(keepingCapacity: true) }
        for effect in effects {
            switch effect {
            case .send(let to, let message): queue.append((nodeIDs.firstIndex(of: to)!, nodeIDs[from], message))
            case .reply: replies += 1
            case .setTimer, .cancelTimer: break
            }
        }
        return replies
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000,
        thresholds: [
            // This shared machine's wall-clock noise is 15-20 %; allocation counts are exact.
            .wallClock: .init(relative: [.p50: 25, .p90: 50]),
            .mallocCountTotal: .init(absolute: [.p90: 0]),
        ]
    )

    Benchmark("Cluster.encode.storedObject") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(ClusterCoding.encode(storedObject)) }
    }

    Benchmark("Cluster.decode.storedObject") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! ClusterCoding.decodeStoredObject(storedBytes)) }
    }

    Benchmark("Cluster.encode.replicate") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(ClusterCoding.encode(replicate)) }
    }

    Benchmark("Cluster.decode.replicate") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try! ClusterCoding.decodePeerMessage(replicateBytes)) }
    }

    Benchmark("Cluster.merkle.keyDigest") { benchmark in
        let keyHash = Placement.hash(key)
        for _ in benchmark.scaledIterations { blackHole(MerkleTree.keyDigest(keyHash: keyHash, siblings: siblings)) }
    }

    Benchmark("Cluster.core.plainSet.N3W2") { benchmark in
        let cluster = PureCluster()
        for _ in benchmark.scaledIterations { blackHole(cluster.set()) }
    }
}
