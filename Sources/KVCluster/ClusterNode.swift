import KVPartitioning
import KVVersioning

/// One cluster node's whole logic — coordinator, replica, hinted handoff, read repair — as a
/// deterministic state machine: `handle(event, now:)` returns the effects for the shell to carry out.
///
/// No clock, no randomness, no I/O: time comes in with each event, request ids come from a counter
/// prefixed by the incarnation (from the durable store, so ids never repeat across restarts), and
/// durable state lives behind `LocalStore`. The NIO shell and the simulator drive the same code.
/// Messages a node sends to itself are handled inside the same call.
///
/// What a shell does (one `ClusterNode` per process, confined to one event loop or actor):
/// - at start: build it from the store and the static membership, then feed `.start`;
/// - client commands: parse RESP into a `ClientRequest` (contexts via `CausalContextCoding`), give it
///   a `ClientRequestID`, feed `.client`; answer the matching `.reply` effect (plain `GET` through
///   `PlainReadResult`, `KV.GET` as [encoded context, live sibling values]);
/// - peer frames: decode into `PeerMessage` and feed `.peer(from:)`; `.send` effects encode and
///   write to that peer's connection (drop if it is not connected: the quorum logic copes);
/// - timers: `.setTimer(id, after:)` schedules `.timer(id)` (re-setting an id replaces it);
///   `.cancelTimer` cancels;
/// - failure detection (connection lost / re-established, or later gossip): feed `.peerDown` / `.peerUp`;
/// - feed `now` from a monotonic clock in the same unit as the `ClusterConfig` durations.
public struct ClusterNode {
    public let id: NodeID
    public let config: ClusterConfig
    public internal(set) var placement: Placement
    let store: any LocalStore
    let incarnation: UInt32
    var counter: UInt32 = 0
    /// Peers the failure detector reported down.
    var down: Set<NodeID> = []
    var writes: [RequestID: PendingWrite] = [:]
    var reads: [RequestID: PendingRead] = [:]
    /// The rebalancing pass after a membership change (nil when none is running).
    var rebalance: RebalancePass?
    /// The placement before the latest membership change and when that change came, while plain
    /// writes still prefer its primaries as stampers (see `ClusterConfig.ringTransitionGrace`).
    var transition: (previous: Placement, since: Tick)?
    /// What rebalancing moved, since this node started.
    public internal(set) var rebalanceStats = RebalanceStats()
    /// Handoffs sent and not yet acknowledged, by hint sequence: when and how often (memory only;
    /// after a restart every hint is simply sent again).
    var handoffsInFlight: [UInt64: (sentAt: Tick, attempts: Int)] = [:]
    /// Handoffs sent again after no acknowledgement.
    public internal(set) var handoffRetries = 0
    /// The (empty) queue of messages to self, kept between events for its capacity.
    private var loopbackSpare: [PeerMessage] = []

    /// Builds the node's memory state from its durable store (a fresh start or a restart).
    public init(id: NodeID, membership: Membership, config: ClusterConfig, store: any LocalStore) {
        precondition(membership.index(of: id) != nil, "node \(id) is not a member")
        self.id = id
        self.config = config
        self.placement = Placement(membership: membership, n: config.n, tokensPerNode: config.tokensPerNode)
        self.store = store
        self.incarnation = store.nextIncarnation()
    }

    /// Requests this node is still coordinating (for tests and operators).
    public var pendingRequestCount: Int { writes.count + reads.count }

    /// Hints this node holds.
    public var hintCount: Int { store.hintCount }

    /// True when the failure detector last reported `node` up (self is always up).
    public func believesUp(_ node: NodeID) -> Bool { node == id || !down.contains(node) }

    /// Handles one event and returns the effects, in order.
    public mutating func handle(_ event: Event, now: Tick) -> [Effect] {
        var effects: [Effect] = []
        effects.reserveCapacity(4)  // a request's usual effects (a timer, a reply, N-1 sends) without regrowing
        handle(event, now: now, into: &effects)
        return effects
    }

    /// Handles one event and appends its effects, in order, to `effects`. A shell that empties and
    /// reuses one array (keeping its capacity) allocates nothing for the effects of a usual event.
    public mutating func handle(_ event: Event, now: Tick, into effects: inout [Effect]) {
        var out = Output()
        swap(&out.effects, &effects)
        swap(&out.loopback, &loopbackSpare)
        dispatch(event, now: now, out: &out)
        // Messages to self are delivered here, in order, so the shell never sees them.
        var next = 0
        while next < out.loopback.count {
            let message = out.loopback[next]
            next += 1
            receive(message, from: id, now: now, out: &out)
        }
        out.loopback.removeAll(keepingCapacity: true)
        swap(&out.loopback, &loopbackSpare)
        swap(&out.effects, &effects)
    }

    private mutating func dispatch(_ event: Event, now: Tick, out: inout Output) {
        switch event {
        case .start:
            out.effects.append(.setTimer(.handoff, after: config.handoffInterval))
            // Keys held here that this node does not replicate (written by a peer with another view, or
            // a pass cut short by a crash) go to their owners: the pass sends only those.
            rebalance = RebalancePass(previous: placement, keys: store.allKeys())
        case .client(let client, let request):
            coordinate(request, client: client, now: now, out: &out)
        case .peer(let from, let message):
            receive(message, from: from, now: now, out: &out)
        case .timer(.request(let request)):
            requestTimedOut(request, now: now, out: &out)
        case .timer(.handoff):
            handoffTick(now: now, out: &out)
            rebalanceTick(now: now, out: &out)
            out.effects.append(.setTimer(.handoff, after: config.handoffInterval))
        case .peerDown(let node):
            if node != id { down.insert(node) }
        case .peerUp(let node):
            down.remove(node)
            deliverHints(to: node, now: now, out: &out)
        case .membershipChanged(let membership):
            membershipChanged(membership, now: now)
        }
    }

    private mutating func receive(_ message: PeerMessage, from: NodeID, now: Tick, out: inout Output) {
        switch message {
        case let .stampPut(request, key, value, isTombstone, context, supersedeLocal, timestamp, hintFor):
            replicaStamp(request: request, coordinator: from, key: key, value: value, isTombstone: isTombstone,
                         context: context, supersedeLocal: supersedeLocal, timestamp: timestamp, hintFor: hintFor,
                         now: now, out: &out)
        case let .stamped(request, object, dot):
            writeStamped(request, by: from, object: object, dot: dot, now: now, out: &out)
        case let .replicate(request, key, object, hintFor):
            let accepted = replicaMerge(key: key, object: object, hintFor: hintFor, now: now, isReplicate: true)
            out.send(.replicated(request: request, accepted: accepted), to: from, self: id)
        case let .replicated(request, accepted):
            writeReplicated(request, by: from, accepted: accepted, out: &out)
        case let .get(request, key):
            out.send(.got(request: request, object: store.object(for: key)?.siblings), to: from, self: id)
        case let .got(request, object):
            readAnswered(request, by: from, object: object, out: &out)
        case let .repair(key, object, hintFor):
            _ = replicaMerge(key: key, object: object, hintFor: hintFor, now: now, isReplicate: false)
        case let .reapTombstones(key, context):
            replicaReap(key: key, context: context)
        case let .handoff(hint, key, object):
            _ = replicaMerge(key: key, object: object, hintFor: nil, now: now, isReplicate: false)
            out.send(.handoffAck(hint: hint, key: key), to: from, self: id)
        case let .handoffAck(hint, key):
            handoffAcknowledged(hint: hint, key: key, by: from)
        case let .transfer(transferID, key, object):
            transferReceived(transferID, key: key, object: object, from: from, now: now, out: &out)
        case let .transferAck(transferID, key):
            transferAcknowledged(transferID, key: key, by: from)
        case .antiEntropy, .membership:
            break  // the shell's anti-entropy and membership machines handle these
        }
    }

    /// A fresh request or hint id: incarnation in the high half, a counter in the low half.
    mutating func nextRequestID() -> RequestID {
        counter &+= 1
        return RequestID(incarnation) << 32 | RequestID(counter)
    }
}

/// Effects under construction plus the loopback queue (both arrays come from `handle`'s caller and the
/// node, so their capacity is reused from event to event).
struct Output {
    var effects: [Effect] = []
    var loopback: [PeerMessage] = []

    mutating func send(_ message: PeerMessage, to node: NodeID, self me: NodeID) {
        if node == me { loopback.append(message) } else { effects.append(.send(to: node, message)) }
    }
}
