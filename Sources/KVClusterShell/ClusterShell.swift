import DequeModule
import KVAntiEntropy
import KVCluster
import KVMembership
import KVPartitioning
import KVStorage
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The way a shell reaches its peers (the peer transport in kvnode, an in-memory network in tests).
/// Called on the shell's event loop only.
public protocol ClusterPeerLink: AnyObject {
    /// Queues a message; false when the peer is not connected (the message is dropped).
    @discardableResult func send(_ message: PeerMessage, to node: NodeID) -> Bool
    /// Sends what was queued.
    func flush()
    /// Starts (and keeps) connections to a member learned while running (joined, or gossiped about).
    /// Idempotent.
    func connect(clientAddress: String)
}

extension ClusterPeerLink {
    public func connect(clientAddress: String) {}
}

/// How a client request ended, as the shell reports it to the connection that asked.
public enum ClusterAnswer: Sendable, Equatable {
    /// The cluster node's answer.
    case reply(ClientReply)
    /// The node cannot coordinate yet (still learning its membership) or could not persist: the text says why.
    case refused(String)
}

/// Drives one `ClusterNode` on one event loop: turns client requests, peer messages and timers into
/// events, and carries out the effects it returns. Effects that may depend on a write (replies, messages
/// that acknowledge) are held until the storage engine says the write satisfies the fsync policy, in
/// order, so nothing is acknowledged before it is durable; timers are set at once.
///
/// Until every seed's node id is known (`SeedDiscovery`), client requests are refused with a reason.
/// Every method must be called on `loop`, except `submit`, which hops there.
public final class ClusterShell: @unchecked Sendable {
    public let loop: EventLoop
    public let config: ClusterConfig
    public let store: StorageLocalStore
    public weak var link: ClusterPeerLink?
    private let logger: Logger
    private let clock: @Sendable () -> Tick

    func clockNow() -> Tick { clock() }
    func logAntiEntropy(_ text: String) { logger.warning("\(text)") }
    func logMembership(_ text: String) { logger.notice("\(text)") }
    var discovery: SeedDiscovery
    var node: ClusterNode?
    var up: Set<NodeID> = []
    private var waiting: [ClientRequestID: (ClusterAnswer) -> Void] = [:]
    private var nextClientID: ClientRequestID = 0
    private var timers: [TimerID: Scheduled<Void>] = [:]
    private var deadlines = DeadlineQueue()
    /// The one task that fires for the earliest request deadline, and when.
    private var deadlineTask: (at: Tick, task: Scheduled<Void>)?
    private var held = Deque<(ticket: DurabilityTicket, effects: [Effect])>()
    /// A peer flush is queued behind the events of this loop iteration (one write per peer for all of them).
    private var flushQueued = false
    /// An empty effects array kept for its capacity (see `run`).
    private var spareEffects: [Effect] = []
    /// The commit request due at the end of the tick (held batches may carry `.none` behind real tickets).
    private var requests = CommitRequests()
    var stopped = false
    /// SWIM failure detection (see ClusterShell+Membership.swift).
    public let membershipConfig: MembershipConfig
    var swim: MembershipInstance?
    var swimTimers: [MembershipTimer: Scheduled<Void>] = [:]
    var swimStatus: [NodeID: MemberStatus] = [:]
    var lastHeard: [NodeID: Tick] = [:]
    var addressOf: [NodeID: String] = [:]
    var idAt: [String: NodeID] = [:]
    /// The members the ring is built from (see ClusterShell+Ring.swift), once known.
    var ring: [ClusterMember] = []
    /// A ring change waits here until the end of the current loop round (several member changes
    /// learned from one sync message become one ring change).
    var pendingRing: [ClusterMember]?
    /// Membership frames for peers not connected yet (just learned, being dialed), by client address.
    var membershipOutbox: [String: [[UInt8]]] = [:]
    /// Client addresses given to `--join` (set before `start`) and `CLUSTER.JOIN`: SWIM joins through them.
    public var joinTargets: [String] = []
    var leave = LeaveProgress.none
    var rebalanceStartedAt: Tick?
    /// Peers the `ClusterNode` was last told are up.
    var believedUp: Set<NodeID> = []
    public internal(set) var stats = ClusterShellStats()
    /// A copy of the operator-facing state, refreshed every 100 ms, readable from any thread (INFO).
    public let snapshot = NIOLockedValueBox(ClusterSnapshot())
    private var snapshotTask: RepeatedTask?

    /// `clock` returns monotonic milliseconds (the unit of `config`'s durations).
    /// Anti-entropy settings; nil turns it off (no Merkle trees kept, no sessions).
    public let antiEntropyConfig: AntiEntropyConfig?
    var antiEntropy: AntiEntropyNode?
    var antiEntropyStore: AntiEntropyStore?
    var antiEntropyTask: RepeatedTask?
    var repairWaiters: [(AntiEntropyTotals) -> Void] = []
    var repairBaseline = AntiEntropyTotals()

    public init(loop: EventLoop, self member: ClusterMember, seeds: [String], config: ClusterConfig,
                store: StorageLocalStore, logger: Logger, antiEntropy: AntiEntropyConfig? = AntiEntropyConfig(),
                membership: MembershipConfig = MembershipConfig(),
                clock: @escaping @Sendable () -> Tick = { NIODeadline.now().uptimeNanoseconds / 1_000_000 }) {
        self.loop = loop
        self.config = config
        self.antiEntropyConfig = antiEntropy
        self.membershipConfig = membership
        self.store = store
        self.logger = logger
        self.clock = clock
        let persisted = store.meta("members").map(SeedDiscovery.decode) ?? []
        discovery = SeedDiscovery(selfMember: member, seeds: seeds, persisted: persisted)
    }

    /// This node's id.
    public var nodeID: NodeID { discovery.selfMember.id }

    /// Starts the node at once when the membership is already known (persisted, or no other seeds).
    public func start() {
        loop.preconditionInEventLoop()
        becomeReadyIfComplete()
        publishSnapshot()
        snapshotTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.publishSnapshot()
        }
    }

    private func publishSnapshot() {
        progressTick()
        let members = self.members
        var s = ClusterSnapshot(
            nodeID: nodeID, ready: node != nil, members: members.count, membersUp: members.filter(\.isUp).count,
            missingSeeds: discovery.missing, pendingRequests: pendingRequestCount, hints: store.hintCount,
            heldEffectBatches: held.count, stats: stats, antiEntropy: antiEntropy?.totals,
            rebalance: rebalanceStats)
        s.ringMembers = ring.count
        s.handoffRetries = node?.handoffRetries ?? 0
        s.rebalancing = isRebalancing
        s.leaveState = leaveState
        s.localHealth = swim?.localHealth ?? 0
        s.hotObjects = (count: store.hotObjectCount, hits: store.hotHits, misses: store.hotMisses)
        snapshot.withLockedValue { $0 = s }
    }

    // MARK: Clients

    /// Runs the requests (concurrently) and calls `done` on `caller` with their answers, in order.
    public func submit(_ requests: [ClientRequest], on caller: EventLoop,
                       _ done: @escaping @Sendable ([ClusterAnswer]) -> Void) {
        if loop.inEventLoop {
            submitOnLoop(requests, caller: caller, done)
        } else {
            loop.execute { self.submitOnLoop(requests, caller: caller, done) }
        }
    }

    private func submitOnLoop(_ requests: [ClientRequest], caller: EventLoop,
                              _ done: @escaping @Sendable ([ClusterAnswer]) -> Void) {
        if requests.count == 1 {
            // One request (every plain GET and SET): its answer is the reply, nothing to gather.
            let answer: (ClusterAnswer) -> Void = { a in
                if caller.inEventLoop { done([a]) } else { caller.execute { done([a]) } }
            }
            if let reason = refusal { answer(.refused(reason)) } else { start(requests[0], answer) }
            return
        }
        let collector = AnswerCollector(count: requests.count) { answers in
            if caller.inEventLoop { done(answers) } else { caller.execute { done(answers) } }
        }
        for (i, request) in requests.enumerated() {
            if let reason = refusal {
                collector.set(i, .refused(reason))
            } else {
                start(request) { collector.set(i, $0) }
            }
        }
    }

    /// Why client requests are refused now (nil: they are coordinated).
    private var refusal: String? {
        if stopped { return "CLUSTERDOWN the node is shutting down" }
        if leave == .left { return "CLUSTERDOWN this node left the cluster (CLUSTER.LEAVE); use another member" }
        if node == nil {
            return "CLUSTERDOWN waiting to learn the node ids of seeds " + discovery.missing.joined(separator: ",")
        }
        return nil
    }

    private func start(_ request: ClientRequest, _ answer: @escaping (ClusterAnswer) -> Void) {
        nextClientID &+= 1
        let id = nextClientID
        waiting[id] = answer
        stats.clientRequests += 1
        run(.client(id, request))
    }

    /// Runs `body` on the shell's loop (for operator views of loop-confined state) and hands its result
    /// to `done` on `caller`.
    public func inspect<T: Sendable>(on caller: EventLoop, _ body: @escaping @Sendable (ClusterShell) -> T,
                                     _ done: @escaping @Sendable (T) -> Void) {
        loop.execute {
            let value = body(self)
            if caller.inEventLoop { done(value) } else { caller.execute { done(value) } }
        }
    }

    // MARK: Peers

    /// A peer's handshake finished: learn its id (during discovery) and tell the node it is up.
    public func peerUp(_ id: NodeID, seedAddress: String) {
        if node == nil {
            do {
                try discovery.learn(address: seedAddress, id: id)
            } catch {
                logger.error("seed \(seedAddress): \(error)")
                return
            }
        } else if addressOf[id] == nil {
            // A peer this node dialed itself (a join target, or a member learned by gossip).
            learnAddress(id, seedAddress, dial: false)
        }
        up.insert(id)
        flushMembershipOutbox(to: id, address: seedAddress)
        if node == nil { becomeReadyIfComplete() } else { refreshBelief(id) }
        runAntiEntropy(.peerUp(id))
    }

    /// The last connection to a peer was lost.
    public func peerDown(_ id: NodeID) {
        guard up.remove(id) != nil else { return }
        if node != nil { refreshBelief(id) }
        runAntiEntropy(.peerDown(id))
    }

    /// A message from an authenticated peer.
    public func peerMessage(_ message: PeerMessage, from id: NodeID) {
        guard node != nil, isMember(id) else {
            stats.droppedPeerMessages += 1
            return
        }
        stats.peerMessagesIn += 1
        if case .membership(let bytes) = message {
            membershipFrame(bytes, from: id)
            return
        }
        if case .antiEntropy(let bytes) = message {
            runAntiEntropy(.received(from: id, bytes: bytes))
            return
        }
        run(.peer(from: id, message))
    }

    // MARK: Views for operators

    /// The members once known, with whether each is believed up (connected and not declared down).
    public var members: [(member: ClusterMember, isUp: Bool)] {
        let list = node == nil ? (discovery.members ?? [discovery.selfMember]) : ringAndKnownMembers
        return list.map { m in
            (m, m.id == nodeID ? leave != .left : isReachable(m.id))
        }
    }

    /// Each member's state as operators see it: `up`, `suspect` (SWIM suspects it; not yet declared),
    /// `down` (declared down by SWIM, or no connection), `leaving`, `removed`; and ms since this node last
    /// had a membership frame from it (nil: never, or this node).
    public var memberStates: [(member: ClusterMember, state: String, heardAgo: Tick?)] {
        members.map { m, isUp in
            if m.id == nodeID {
                switch leave {
                case .none: return (m, ring.contains { $0.id == nodeID } || node == nil ? "up" : "joining", nil)
                case .handingOver: return (m, "leaving", nil)
                case .left: return (m, "removed", nil)
                }
            }
            let status = swimStatus[m.id]
            let state: String
            switch status {
            case .joining?: state = "joining"
            case .suspect?: state = up.contains(m.id) ? "suspect" : "down"
            case .leaving?: state = "leaving"
            case .removed?: state = "removed"
            default: state = isUp ? "up" : "down"
            }
            return (m, state, lastHeard[m.id].map { clockNow() &- $0 })
        }
    }

    /// Seeds whose node id is still unknown.
    public var missingSeeds: [String] { discovery.missing }

    /// The placement once the membership is known.
    public var placement: Placement? { node?.placement }

    /// Requests in flight and hints held.
    public var pendingRequestCount: Int { node?.pendingRequestCount ?? 0 }
    public var hintCount: Int { store.hintCount }

    /// Stops: cancels timers and refuses whatever is still waiting.
    public func stop() {
        loop.preconditionInEventLoop()
        stopped = true
        snapshotTask?.cancel()
        snapshotTask = nil
        antiEntropyTask?.cancel()
        antiEntropyTask = nil
        for t in swimTimers.values { t.cancel() }
        swimTimers.removeAll()
        finishRepairs()
        for t in timers.values { t.cancel() }
        timers.removeAll()
        deadlineTask?.task.cancel()
        deadlineTask = nil
        deadlines.removeAll()
        let all = waiting
        waiting.removeAll()
        for w in all.values { w(.refused("CLUSTERDOWN the node is shutting down")) }
    }

    // MARK: Driving the node

    /// A peer this node talks to: on the ring, or learned (joining, leaving, gossiped about).
    func isMember(_ id: NodeID) -> Bool {
        addressOf[id] != nil || ring.contains { $0.id == id }
    }

    func becomeReadyIfComplete() {
        guard node == nil else { return }
        // A ring persisted by an earlier run (it may hold members that joined later) wins over the seeds.
        let persisted = store.meta("ring").map(SeedDiscovery.decode) ?? []
        guard let members = persisted.contains(where: { $0.id == nodeID }) ? persisted : discovery.members else { return }
        let membership: Membership
        do {
            membership = try SeedDiscovery.membership(members)
        } catch {
            logger.critical("cannot build the ring from \(members): \(error)")
            return
        }
        store.setMeta("members", SeedDiscovery.encode(members))
        store.setMeta("ring", SeedDiscovery.encode(members))
        ring = members
        node = ClusterNode(id: nodeID, membership: membership, config: config, store: startAntiEntropy(membership))
        logger.info("cluster membership known, coordinating", metadata: [
            "members": "\(members.map { "\($0.id)@\($0.clientAddress)" }.joined(separator: ","))",
            "n": "\(config.n)", "r": "\(config.r)", "w": "\(config.w)",
        ])
        run(.start)
        believedUp = Set(members.map(\.id).filter { $0 != nodeID })  // a new ClusterNode believes every peer up
        for m in members where m.id != nodeID { refreshBelief(m.id) }
        startMembership(members)
    }

    func run(_ event: Event) {
        guard !stopped, node != nil else { return }
        let now = clock()
        // The spare array (empty, with capacity) collects this event's effects; it comes back below once
        // they ran. An event handled meanwhile (a reply callback that submits again) finds no spare and
        // starts a fresh array.
        var effects: [Effect] = []
        swap(&effects, &spareEffects)
        node!.handle(event, now: now, into: &effects)
        let ticket = store.takeTicket()
        if let failure = store.takeFailure() {
            // Something this event wrote is not in the log: acknowledge nothing from it.
            stats.storageFailures += 1
            effects = effects.compactMap { e in
                switch e {
                case .reply(let id, _):
                    return .reply(id, .notAcknowledged(acks: 0, required: 1))
                case .send: return nil
                default: return e
                }
            }
            logger.error("storage write failed; withholding this event's acknowledgements: \(failure)")
        }
        // Timers are set at once; the rest is kept (in place: no second list) to run now or later.
        var timerEffects = false
        for effect in effects {
            switch effect {
            case let .setTimer(.request(id), after):
                deadlines.set(id, deadline: now + after)
                armDeadlineTask()
            case let .cancelTimer(.request(id)):
                deadlines.cancel(id)
            case let .setTimer(id, after): schedule(id, after: after)
            case let .cancelTimer(id): timers.removeValue(forKey: id)?.cancel()
            default: continue
            }
            timerEffects = true
        }
        if timerEffects { effects.removeAll { $0.isTimer } }
        if effects.isEmpty {
            spareEffects = effects
        } else if held.isEmpty && store.engine.isAcknowledgeable(ticket) {
            execute(effects)
            effects.removeAll(keepingCapacity: true)
            spareEffects = effects
        } else {
            held.append((ticket, effects))
            stats.heldBatches += 1
            if requests.note(ticket) { loop.execute { [self] in requestCommit() } }
        }
    }

    private func execute(_ effects: [Effect]) {
        var sent = false
        let link = self.link  // one weak load for the batch, not one per message
        for effect in effects {
            switch effect {
            case let .send(to, message):
                if link?.send(message, to: to) == true {
                    stats.peerMessagesOut += 1
                    sent = true
                } else {
                    stats.undeliverable += 1
                }
            case let .reply(id, reply):
                waiting.removeValue(forKey: id)?(.reply(reply))
            case .setTimer, .cancelTimer:
                break
            }
        }
        if sent { queueFlush() }
    }

    /// Flushes the peer links once the loop has handled what woke it: the requests and acknowledgements
    /// read in one iteration share one write per peer instead of one each.
    private func queueFlush() {
        guard !flushQueued else { return }
        flushQueued = true
        loop.execute { [self] in
            flushQueued = false
            link?.flush()
        }
    }

    /// Keeps one scheduled task for the earliest live request deadline.
    private func armDeadlineTask() {
        guard let next = deadlines.nextDeadline() else { return }
        if let armed = deadlineTask, armed.at <= next { return }
        deadlineTask?.task.cancel()
        let now = clock()
        let delay = next > now ? next - now + 1 : 1  // +1: the clock is in whole ms; never fire early
        let task = loop.scheduleTask(in: .milliseconds(Int64(delay))) { [weak self] in
            guard let self else { return }
            self.deadlineTask = nil
            for id in self.deadlines.expired(at: self.clock()) { self.run(.timer(.request(id))) }
            self.armDeadlineTask()
        }
        deadlineTask = (next, task)
    }

    private func schedule(_ id: TimerID, after: Tick) {
        timers.removeValue(forKey: id)?.cancel()
        timers[id] = loop.scheduleTask(in: .milliseconds(Int64(after))) { [weak self] in
            guard let self else { return }
            self.timers[id] = nil
            self.run(.timer(id))
        }
    }

    /// At the end of the tick, asks the log once for the newest held write: one fsync (policy `always`)
    /// covers every write of the tick, as `DurabilityNotifier` does for client connections.
    private func requestCommit() {
        guard let newest = requests.due() else { return }
        let loop = self.loop
        store.engine.whenAcknowledgeable(newest) { [self] result in
            loop.execute { self.durabilityResolved(result) }
        }
    }

    private func durabilityResolved(_ result: Result<Void, StorageError>) {
        if case .failure(let error) = result {
            // The log failed: nothing held may be acknowledged (the process exits on fatal storage errors).
            logger.critical("log failed, dropping \(held.count) held effect batches: \(error)")
            held.removeAll()
            return
        }
        while let first = held.first, store.engine.isAcknowledgeable(first.ticket) {
            held.removeFirst()
            execute(first.effects)
        }
    }
}

/// What `INFO cluster` shows, copied out of the shell's loop periodically.
public struct ClusterSnapshot: Sendable {
    public var nodeID: NodeID = ""
    public var ready = false
    public var members = 0
    public var membersUp = 0
    public var missingSeeds: [String] = []
    public var pendingRequests = 0
    public var hints = 0
    /// Hint deliveries sent again after no acknowledgement.
    public var handoffRetries = 0
    public var heldEffectBatches = 0
    public var stats = ClusterShellStats()
    /// Anti-entropy totals (nil when it is off).
    public var antiEntropy: AntiEntropyTotals?
    public var rebalance = RebalanceStats()
    /// Members on this node's ring, whether a rebalancing pass runs, and `CLUSTER.LEAVE` progress.
    public var ringMembers = 0
    public var rebalancing = false
    public var leaveState = "none"
    /// Lifeguard's local health multiplier (0 = healthy): probe timeouts stretch by 1 + this.
    public var localHealth = 0
    /// The store's decoded-object cache: objects kept, and reads it served / missed.
    public var hotObjects = (count: 0, hits: 0, misses: 0)
}

/// Counters a shell keeps for `INFO cluster`.
public struct ClusterShellStats: Sendable {
    public var clientRequests = 0
    public var peerMessagesIn = 0
    public var peerMessagesOut = 0
    public var undeliverable = 0
    public var droppedPeerMessages = 0
    public var heldBatches = 0
    public var storageFailures = 0
    /// Times SWIM suspected, and declared down, a member.
    public var suspicions = 0
    public var downs = 0
    /// Ring changes applied (joins, leaves, removals), and the time spent rebalancing after them.
    public var ringChanges = 0
    public var rebalanceMillis: Tick = 0
    /// How long the last rebalancing pass took (from the ring change until every key was handed over).
    public var lastRebalanceMillis: Tick = 0
}

extension Effect {
    fileprivate var isTimer: Bool {
        switch self {
        case .setTimer, .cancelTimer: return true
        case .send, .reply: return false
        }
    }
}

/// Gathers the answers of one multi-request submission and calls back once all are in.
private final class AnswerCollector {
    private var answers: [ClusterAnswer?]
    private var remaining: Int
    private let done: ([ClusterAnswer]) -> Void

    init(count: Int, done: @escaping ([ClusterAnswer]) -> Void) {
        answers = Array(repeating: nil, count: count)
        remaining = count
        self.done = done
        if count == 0 { done([]) }
    }

    func set(_ i: Int, _ answer: ClusterAnswer) {
        guard answers[i] == nil else { return }
        answers[i] = answer
        remaining -= 1
        if remaining == 0 { done(answers.map { $0! }) }
    }
}
