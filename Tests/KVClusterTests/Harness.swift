import KVCluster
import KVPartitioning
import KVVersioning
import Testing

/// Drives a few `ClusterNode`s by hand: messages are queued and delivered in order by `pump()`,
/// except to or from isolated nodes (dropped); timers fire only when a test fires them.
final class Harness {
    let ids: [NodeID]
    let membership: Membership
    var config: ClusterConfig
    var stores: [NodeID: InMemoryLocalStore] = [:]
    var nodes: [NodeID: ClusterNode] = [:]
    var queue: [(from: NodeID, to: NodeID, message: PeerMessage)] = []
    var replies: [ClientRequestID: ClientReply] = [:]
    var replyOrder: [ClientRequestID] = []
    var isolated: Set<NodeID> = []
    var sent: [(from: NodeID, to: NodeID, message: PeerMessage)] = []
    /// Every timer a node set (they fire only when a test fires them).
    var timers: [(node: NodeID, timer: TimerID)] = []
    var now: Tick = 0
    private var nextClient: ClientRequestID = 0

    init(nodes count: Int = 5, config: ClusterConfig = ClusterConfig()) {
        var c = config
        c.tokensPerNode = 16
        self.config = c
        ids = (0..<count).map { "n\($0)" }
        membership = try! Membership(ids.map { Node(id: $0) })
        for id in ids {
            let store = InMemoryLocalStore()
            stores[id] = store
            nodes[id] = ClusterNode(id: id, membership: membership, config: c, store: store)
            perform(nodes[id]!.handle(.start, now: now), of: id)
        }
    }

    var placement: Placement { nodes[ids[0]]!.placement }

    func primaries(_ key: String) -> [NodeID] { placement.primaries(for: Array(key.utf8)) }

    /// A node that is not among the key's primaries.
    func nonReplica(_ key: String) -> NodeID { ids.first { !primaries(key).contains($0) }! }

    func event(_ node: NodeID, _ e: Event) {
        guard var n = nodes[node] else { return }
        let effects = n.handle(e, now: now)
        nodes[node] = n
        perform(effects, of: node)
    }

    @discardableResult
    func request(_ node: NodeID, _ r: ClientRequest) -> ClientRequestID {
        nextClient += 1
        event(node, .client(nextClient, r))
        return nextClient
    }

    func perform(_ effects: [Effect], of node: NodeID) {
        for e in effects {
            switch e {
            case .send(let to, let m):
                sent.append((node, to, m))
                queue.append((node, to, m))
            case .reply(let c, let r):
                replies[c] = r
                replyOrder.append(c)
            case .setTimer(let t, _):
                timers.append((node, t))
            case .cancelTimer:
                break
            }
        }
    }

    /// Delivers queued messages (and the ones they cause) until none are left.
    func pump(limit: Int = 10_000) {
        var steps = 0
        while !queue.isEmpty && steps < limit {
            let (from, to, m) = queue.removeFirst()
            steps += 1
            if isolated.contains(from) || isolated.contains(to) { continue }
            event(to, .peer(from: from, m))
        }
    }

    /// Tells every other node that `node` is down (or up).
    func announce(_ node: NodeID, up: Bool) {
        for id in ids where id != node { event(id, up ? .peerUp(node) : .peerDown(node)) }
    }

    func put(_ node: NodeID, _ key: String, _ value: String, context: VersionVector = VersionVector(),
             quorum: Quorum = Quorum()) -> ClientReply? {
        let c = request(node, .put(key: Array(key.utf8), value: Array(value.utf8), context: context, quorum: quorum))
        pump()
        return replies[c]
    }

    func get(_ node: NodeID, _ key: String, quorum: Quorum = Quorum()) -> SiblingSet? {
        let c = request(node, .get(key: Array(key.utf8), quorum: quorum))
        pump()
        if case .value(let s) = replies[c] { return s }
        return nil
    }

    /// Writes `key` → `"v-" + key` for every key through `node`; records an issue and returns false at the
    /// first write not acknowledged.
    func putAll(_ keys: [String], via node: NodeID) -> Bool {
        for k in keys {
            guard case .written? = put(node, k, "v-\(k)") else {
                Issue.record("write \(k)")
                return false
            }
        }
        return true
    }

    /// Adds node `id` with `membership` (started) and tells every original node about it.
    func join(_ id: NodeID, membership: Membership) {
        let store = InMemoryLocalStore()
        stores[id] = store
        nodes[id] = ClusterNode(id: id, membership: membership, config: config, store: store)
        perform(nodes[id]!.handle(.start, now: now), of: id)
        for old in ids { event(old, .membershipChanged(membership)) }
    }

    /// Fires the handoff timer on `nodes` every `handoffInterval`, delivering messages, for `duration` ticks.
    func tick(nodes: [NodeID], for duration: Tick) {
        let end = now + duration
        while now < end {
            now += config.handoffInterval
            for id in nodes { event(id, .timer(.handoff)) }
            pump()
        }
    }

    /// Fires handoff ticks (time passing) until no node of `nodes` rebalances (at most 200 ticks).
    func settle(nodes: [NodeID]) {
        for _ in 0..<200 {
            tick(nodes: nodes, for: config.handoffInterval)
            if nodes.allSatisfy({ self.nodes[$0]?.isRebalancing == false }) { return }
        }
    }

    func local(_ node: NodeID, _ key: String) -> SiblingSet { stores[node]!.object(for: Array(key.utf8))?.siblings ?? SiblingSet() }
}

func strings(_ s: SiblingSet?) -> [String] {
    (s?.liveSiblings ?? []).map { String(decoding: $0.value, as: UTF8.self) }.sorted()
}
