import KVCluster
import KVEventQueue
import KVPartitioning
import KVVersioning

/// Things that happen in the simulated world, at a virtual time.
enum SimEvent {
    case deliver(to: Int, from: Int, PeerMessage)
    case timer(node: Int, TimerID, generation: UInt64)
    case clientInvoke(client: Int)
    case requestArrives(node: Int, ClientRequestID, ClientRequest)
    case replyArrives(ClientRequestID, ClientReply)
    case clientTimeout(ClientRequestID)
    case crash(Int)
    case restart(Int)
    case partitionHeal
    case slowEnd(Int)
    case detect(node: Int, about: Int)
    case faultTick
    case join(Int)
    case learnMembership(node: Int)
}

/// Several `ClusterNode`s in one process over a virtual network and clock, all driven by one seed.
/// Nodes keep their `InMemoryLocalStore` across a crash; everything else of theirs is lost.
final class Simulation {
    let options: SimulationOptions
    let ids: [NodeID]
    let index: [NodeID: Int]
    /// The current membership (grows when the churn fault adds the spare node).
    var membership: Membership
    /// The membership each node last applied (what it would have persisted); restarts resume from it.
    var views: [Membership?]
    /// The node that joins during the run (churn), until it has joined.
    var spare: Int?
    var stores: [RecordingStore]
    var nodes: [ClusterNode?]
    var timerGenerations: [[TimerID: UInt64]]
    var queue = EventQueue<SimEvent>()
    var now: UInt64 = 0
    var network: SplitMix64
    var faultRNG: SplitMix64
    var workloadRNG: SplitMix64
    var faultsActive = true
    /// Partition sides (nil: no partition).
    var side: [Int]? = nil
    var slowExtra: [UInt64]
    var history: [Operation] = []
    var clients: [ClientState]
    var inFlight: [ClientRequestID: (client: Int, op: Int)] = [:]
    var nextClientRequest: ClientRequestID = 0
    var stats = SimulationStats()
    /// Read results of the final sweep, per key.
    var sweepResults: [Int: SiblingSet] = [:]

    init(seed: UInt64, options: SimulationOptions) {
        self.options = options
        ids = (0..<options.nodes).map { "n" + String($0) }
        var idx: [NodeID: Int] = [:]
        for (i, id) in ids.enumerated() { idx[id] = i }
        index = idx
        let initial = options.faults.contains(.churn) && options.nodes > options.cluster.n ? options.nodes - 1 : options.nodes
        spare = initial < options.nodes ? options.nodes - 1 : nil
        let start = try! Membership(ids.prefix(initial).map { Node(id: $0) })
        membership = start
        views = (0..<options.nodes).map { i -> Membership? in i < initial ? start : nil }
        stores = (0..<options.nodes).map { _ in RecordingStore() }
        nodes = Array(repeating: nil, count: options.nodes)
        timerGenerations = Array(repeating: [:], count: options.nodes)
        slowExtra = Array(repeating: 0, count: options.nodes)
        var root = SplitMix64(seed: seed)
        network = root.fork()
        faultRNG = root.fork()
        workloadRNG = root.fork()
        clients = Array(repeating: ClientState(), count: options.clients)
        for store in stores { store.onStore = { [unowned self] set in self.recordDots(set) } }
        for i in 0..<initial { boot(i, announcingDownPeers: false) }
    }

    /// True when node `i` is part of the cluster (the spare is not until it joins).
    func isMember(_ i: Int) -> Bool { spare != i }

    func reachable(_ a: Int, _ b: Int) -> Bool {
        guard let side else { return true }
        return side[a] == side[b]
    }

    /// Starts (or restarts) node `i` from its durable store.
    func boot(_ i: Int, announcingDownPeers: Bool = true) {
        guard isMember(i) else { return }
        let view = views[i] ?? membership
        var node = ClusterNode(id: ids[i], membership: view, config: options.cluster, store: stores[i])
        var effects = node.handle(.start, now: now)
        if view != membership {
            // It persisted an older membership: it learns the current one as it comes back.
            effects += node.handle(.membershipChanged(membership), now: now)
        }
        views[i] = membership
        // A restarted node learns at once which peers are unreachable right now.
        for j in ids.indices where announcingDownPeers && j != i && (nodes[j] == nil || !reachable(i, j)) {
            effects += node.handle(.peerDown(ids[j]), now: now)
        }
        nodes[i] = node
        perform(effects, of: i)
    }

    func crash(_ i: Int) {
        guard nodes[i] != nil else { return }
        nodes[i] = nil
        timerGenerations[i] = [:]
        stats.crashes += 1
        notifyPeers(about: i)
    }

    /// Peers of `i` re-check `i`'s reachability after a detection delay.
    func notifyPeers(about i: Int) {
        for j in ids.indices where j != i {
            schedule(.detect(node: j, about: i), after: faultRNG.tick(options.detectionDelay))
            schedule(.detect(node: i, about: j), after: faultRNG.tick(options.detectionDelay))
        }
    }

    func schedule(_ e: SimEvent, after delay: UInt64) { queue.push(e, at: now + delay) }

    /// Feeds an event to node `i` (if it is up) and carries out the effects.
    func drive(_ i: Int, _ event: Event) {
        guard nodes[i] != nil else { return }
        let effects = nodes[i]!.handle(event, now: now)
        perform(effects, of: i)
    }

    func perform(_ effects: [Effect], of i: Int) {
        for effect in effects {
            switch effect {
            case .send(let to, let message):
                send(message, from: i, to: index[to]!)
            case .reply(let client, let reply):
                if inFlight[client] != nil { schedule(.replyArrives(client, reply), after: 1) }
                else if client >= SweepRequests.base { sweepReply(client, reply) }
            case .setTimer(let timer, let after):
                let g = (timerGenerations[i][timer] ?? 0) + 1
                timerGenerations[i][timer] = g
                schedule(.timer(node: i, timer, generation: g), after: after)
            case .cancelTimer(let timer):
                timerGenerations[i][timer] = nil
            }
        }
    }

    func send(_ original: PeerMessage, from: Int, to: Int) {
        stats.messages += 1
        var message = original
        if options.encodeMessages {
            let bytes = ClusterCoding.encode(original)
            stats.bytes += bytes.count
            guard let decoded = try? ClusterCoding.decodePeerMessage(bytes), decoded == original else {
                preconditionFailure("peer message did not survive its encoding: \(original)")
            }
            message = decoded
        }
        switch message {
        case .stampPut(_, _, _, _, _, _, _, .some), .replicate(_, _, _, .some): stats.hintedWrites += 1
        default: break
        }
        guard reachable(from, to) else { stats.dropped += 1; return }
        if faultsActive && options.faults.contains(.loss) && network.chance(options.lossRate) {
            stats.dropped += 1
            return
        }
        schedule(.deliver(to: to, from: from, message), after: delay(from, to))
        if faultsActive && options.faults.contains(.duplication) && network.chance(options.duplicateRate) {
            stats.duplicated += 1
            schedule(.deliver(to: to, from: from, message), after: delay(from, to))
        }
    }

    func delay(_ a: Int, _ b: Int) -> UInt64 {
        let base = options.faults.contains(.reordering) ? network.tick(options.minDelay...options.maxDelay)
                                                        : options.minDelay
        return base + slowExtra[a] + slowExtra[b]
    }

    /// Runs events up to and including `limit`.
    func run(until limit: UInt64) {
        while let t = queue.nextTime, t <= limit {
            let (time, event) = queue.pop()!
            now = time
            step(event)
        }
        now = max(now, limit)
    }

    func step(_ event: SimEvent) {
        switch event {
        case let .deliver(to, from, message):
            guard nodes[to] != nil, reachable(from, to) else { stats.dropped += 1; return }
            drive(to, .peer(from: ids[from], message))
        case let .timer(i, timer, generation):
            guard timerGenerations[i][timer] == generation else { return }
            timerGenerations[i][timer] = nil
            drive(i, .timer(timer))
        case .clientInvoke(let c):
            invoke(client: c)
        case let .requestArrives(i, client, request):
            drive(i, .client(client, request))
        case let .replyArrives(client, reply):
            complete(client, reply)
        case .clientTimeout(let client):
            timeOut(client)
        case .crash(let i):
            crash(i)
        case .restart(let i):
            if nodes[i] == nil {
                boot(i)
                notifyPeers(about: i)
            }
        case .partitionHeal:
            healPartition()
        case .slowEnd(let i):
            slowExtra[i] = 0
        case let .detect(i, about):
            let up = nodes[about] != nil && reachable(i, about)
            drive(i, up ? .peerUp(ids[about]) : .peerDown(ids[about]))
        case .faultTick:
            injectFault()
        case .join(let i):
            join(i, gradually: true)
        case .learnMembership(let i):
            if nodes[i] != nil && views[i] != membership {
                views[i] = membership
                drive(i, .membershipChanged(membership))
            }
        }
    }

    /// Notes the dot of every value the first time a store holds it.
    func recordDots(_ set: SiblingSet) {
        for s in set.siblings {
            guard let id = ValueID.decode(s.value), id > 0, id <= history.count else { continue }
            if history[id - 1].dot == nil { history[id - 1].dot = s.dot }
        }
    }

    /// The spare node joins: it starts with the new membership; the others learn it after a detection
    /// delay each (`gradually`) or at once.
    func join(_ i: Int, gradually: Bool) {
        guard spare == i else { return }
        spare = nil
        membership = try! Membership(ids.map { Node(id: $0) })
        stats.joins += 1
        views[i] = membership
        boot(i)
        for j in ids.indices where j != i {
            if gradually {
                schedule(.learnMembership(node: j), after: faultRNG.tick(options.detectionDelay))
            } else if nodes[j] != nil && views[j] != membership {
                views[j] = membership
                drive(j, .membershipChanged(membership))
            }
        }
        notifyPeers(about: i)
    }

    /// True when some node still runs a rebalancing pass.
    var isRebalancing: Bool { nodes.contains { $0?.isRebalancing == true } }

    func healPartition() {
        guard side != nil else { return }
        side = nil
        for i in ids.indices { notifyPeers(about: i) }
    }
}

/// Counters of one run.
public struct SimulationStats: Sendable, Equatable {
    public var messages = 0
    /// Encoded peer-message bytes (when messages are encoded).
    public var bytes = 0
    public var dropped = 0
    public var duplicated = 0
    public var crashes = 0
    public var partitions = 0
    public var slowdowns = 0
    public var suspicions = 0
    /// Nodes that joined during the run (churn).
    public var joins = 0
    /// Stamp or replicate messages sent to a fallback (sloppy quorum at work).
    public var hintedWrites = 0
    public var endTime: UInt64 = 0
}

/// Client ids at or above this are the final sweep's reads.
enum SweepRequests {
    static let base: ClientRequestID = 1 << 62
}
