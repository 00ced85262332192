/// One node's gossip membership and failure detector (SWIM with the Lifeguard refinements) as a
/// deterministic state machine: `handle(event, now:)` returns the effects for the shell to carry out.
///
/// No clock, no randomness of its own, no I/O: time comes with every event, randomness (probe order,
/// helpers, gossip targets) from the seed given at init, so the simulator replays a run exactly.
///
/// What a shell does (one instance per process, confined to one event loop or actor):
/// - at start: `MembershipInstance(id:address:incarnation:seed:)` with `incarnation` larger than any it
///   persisted (store every `.persistIncarnation`), then feed `.start` and `.join(seeds:)`;
/// - `.send(to: address, message)`: encode with `MembershipCoding.encode` and write to that address
///   (drop it if the peer is unreachable — the protocol expects loss); decode incoming frames with
///   `MembershipCoding.decode` and feed `.message(from: address, _)` (drop frames that fail to decode);
///   `from` must be the sender's membership address (the one it announces, as in `.send(to:)`), not a
///   connection's ephemeral port: acks, nacks and sync replies go there;
/// - timers: `.setTimer(id, after:)` schedules `.timer(id)` (re-setting an id replaces it), `.cancelTimer`;
/// - `.memberChanged`: update the ring / failure view: `down` means temporarily failed (hints, no data
///   movement), `removed` and `leaving` mean data moves; a change about this node to `removed` means stop;
/// - feed `now` from a monotonic clock in the unit of the config durations (milliseconds by default).
public struct MembershipInstance {
    public let config: MembershipConfig
    /// This node as it announces itself.
    public internal(set) var me: Member
    /// Every other member known, by id (tombstones of removed members included).
    var records: [String: MemberRecord] = [:]
    /// `records`' keys in order (dictionary order is not deterministic across processes).
    var sortedIDs: [String] = []
    var rng: SeededRandom
    var queue = DisseminationQueue()
    /// Lifeguard's local health multiplier: 0 (healthy) ... `config.maxLocalHealth`.
    public private(set) var localHealth = 0
    var probeOrder: [String] = []
    var probeCursor = 0
    var probe: ActiveProbe?
    var sequence: UInt64 = 0
    /// Probes this node runs for others: my seq → (requester's address, requester's seq).
    var helping: [UInt64: (requester: String, seq: UInt64)] = [:]
    var seeds: [String] = []
    var seedCursor = 0

    /// A fresh process: `incarnation` must exceed every incarnation this id announced before.
    public init(id: String, address: String, incarnation: UInt64, seed: UInt64,
                config: MembershipConfig = MembershipConfig()) {
        self.config = config
        me = Member(id: id, address: address, incarnation: incarnation, status: .joining)
        rng = SeededRandom(seed: seed ^ 0x5357_494D)
    }

    /// Every member this node knows, itself included, sorted by id.
    public var members: [Member] {
        var all = sortedIDs.map { records[$0]!.member }
        let at = all.firstIndex { $0.id > me.id } ?? all.count
        all.insert(me, at: at)
        return all
    }

    /// What this node believes about `id`.
    public func member(_ id: String) -> Member? { id == me.id ? me : records[id]?.member }

    /// Updates waiting to be piggybacked.
    public var pendingUpdates: Int { queue.entries.count }

    /// Handles one event and returns the effects, in order. A removed node does nothing.
    public mutating func handle(_ event: MembershipEvent, now: UInt64) -> [MembershipEffect] {
        var out: [MembershipEffect] = []
        guard me.status != .removed else { return out }
        switch event {
        case .start:
            out.append(.persistIncarnation(me.incarnation))
            out.append(.setTimer(.protocolPeriod, after: scaled(config.probeInterval)))
            out.append(.setTimer(.gossip, after: config.gossipInterval))
            out.append(.setTimer(.sync, after: config.syncInterval))
        case .join(let list):
            seeds = list.filter { $0 != me.address }
            seedCursor = 0
            if seeds.isEmpty { becomeUp(out: &out) } else { sendJoin(out: &out) }
        case .timer(let timer):
            fire(timer, now: now, out: &out)
        case .message(let from, let message):
            receive(message, from: from, now: now, out: &out)
        case .leave:
            guard me.status != .leaving else { break }
            let previous = me
            me.incarnation += 1
            me.status = .leaving
            announceSelf(previous: previous, out: &out)
        case .operatorRemove(let id):
            operatorRemove(id, now: now, out: &out)
        }
        return out
    }

    private mutating func fire(_ timer: MembershipTimer, now: UInt64, out: inout [MembershipEffect]) {
        switch timer {
        case .protocolPeriod:
            protocolPeriod(now: now, out: &out)
            out.append(.setTimer(.protocolPeriod, after: scaled(config.probeInterval)))
        case .probeTimeout(let seq): probeTimedOut(seq, now: now, out: &out)
        case .indirectTimeout(let seq): indirectTimedOut(seq, now: now, out: &out)
        case .helperTimeout(let seq):
            if let h = helping.removeValue(forKey: seq) { send(.nack(seq: h.seq), to: h.requester, out: &out) }
        case .suspicion(let id): suspicionTimerFired(id, now: now, out: &out)
        case .gossip:
            gossipRound(out: &out)
            out.append(.setTimer(.gossip, after: config.gossipInterval))
        case .sync:
            syncRound(out: &out)
            out.append(.setTimer(.sync, after: config.syncInterval))
        case .joinRetry:
            if me.status == .joining && !seeds.isEmpty { sendJoin(out: &out) }
        }
    }

    private mutating func receive(_ message: MembershipMessage, from: String, now: UInt64,
                                  out: inout [MembershipEffect]) {
        for update in message.gossip { apply(update, now: now, out: &out) }
        guard me.status != .removed else { return }
        switch message.body {
        case .ping(let seq):
            send(.ack(seq: seq), to: from, out: &out)
        case .ack(let seq):
            acked(seq, out: &out)
        case let .pingRequest(seq, targetID, targetAddress):
            helpProbe(seq: seq, requester: from, targetID: targetID, targetAddress: targetAddress, out: &out)
        case .nack(let seq):
            if probe?.seq == seq { probe!.nacks += 1 }
        case .gossip:
            break
        case .join(let member):
            apply(MemberUpdate(member: member, source: member.id), now: now, out: &out)
            send(.sync(members: fullState(), isReply: true), to: from, out: &out)
        case let .sync(members, isReply):
            for m in members { apply(MemberUpdate(member: m, source: message.senderID), now: now, out: &out) }
            guard me.status != .removed else { return }
            if !isReply { send(.sync(members: fullState(), isReply: true), to: from, out: &out) }
            if me.status == .joining { becomeUp(out: &out) }
        }
    }

    // MARK: Joining, leaving, removal

    private mutating func sendJoin(out: inout [MembershipEffect]) {
        let seed = seeds[seedCursor % seeds.count]
        seedCursor += 1
        send(.join(me), to: seed, out: &out)
        out.append(.setTimer(.joinRetry, after: config.joinRetryInterval))
    }

    private mutating func becomeUp(out: inout [MembershipEffect]) {
        guard me.status == .joining else { return }
        let previous = me
        me.status = .up
        announceSelf(previous: previous, out: &out)
        out.append(.cancelTimer(.joinRetry))
    }

    /// Spreads this node's own new state.
    mutating func announceSelf(previous: Member, out: inout [MembershipEffect]) {
        if me.incarnation != previous.incarnation { out.append(.persistIncarnation(me.incarnation)) }
        queue.enqueue(MemberUpdate(member: me, source: me.id))
        out.append(.memberChanged(MembershipChange(member: me, previous: previous)))
    }

    private mutating func operatorRemove(_ id: String, now: UInt64, out: inout [MembershipEffect]) {
        if id == me.id {
            // Tell a few members directly: a removed node goes quiet and gossips no more.
            let previous = me
            me.status = .removed
            let update = MemberUpdate(member: me, source: me.id)
            for target in rng.sample(liveIDs(), count: max(config.gossipFanout, 1)) {
                sendRaw(.gossip, gossip: [update], to: records[target]!.member.address, out: &out)
            }
            out.append(.memberChanged(MembershipChange(member: me, previous: previous)))
            for t in [MembershipTimer.protocolPeriod, .gossip, .sync, .joinRetry] { out.append(.cancelTimer(t)) }
            return
        }
        guard var removed = records[id]?.member, removed.status != .removed else { return }
        removed.status = .removed
        apply(MemberUpdate(member: removed, source: me.id), now: now, out: &out)
    }

    // MARK: Sending

    /// Sends `body` with piggybacked updates. `buddy`'s own update goes first: if `buddy` is a
    /// suspect, its suspicion is always included, even after it left the queue (Lifeguard's buddy
    /// system: the suspected member learns it first and can refute).
    mutating func send(_ body: MembershipBody, to address: String, buddy: String? = nil,
                       out: inout [MembershipEffect]) {
        var gossip = queue.take(max: config.maxPiggyback, limit: retransmitLimit(), first: buddy)
        if let buddy, let suspect = records[buddy]?.member, suspect.status == .suspect,
           gossip.first?.member.id != buddy {
            gossip.insert(MemberUpdate(member: suspect, source: me.id), at: 0)
            if gossip.count > config.maxPiggyback { gossip.removeLast() }
        }
        sendRaw(body, gossip: gossip, to: address, out: &out)
    }

    func sendRaw(_ body: MembershipBody, gossip: [MemberUpdate], to address: String, out: inout [MembershipEffect]) {
        guard address != me.address else { return }
        let message = MembershipMessage(senderID: me.id, senderIncarnation: me.incarnation, body: body, gossip: gossip)
        out.append(.send(to: address, message))
    }

    /// λ · ⌈log2(n + 1)⌉ transmissions per update.
    func retransmitLimit() -> Int {
        let n = records.count + 1
        let log2 = Int.bitWidth - n.leadingZeroBitCount  // ⌈log2(n + 1)⌉
        return config.retransmitMultiplier * max(1, log2)
    }

    /// Everything this node knows (bounded by `MembershipCoding.maxMembers`).
    func fullState() -> [Member] { Array(members.prefix(MembershipCoding.maxMembers)) }

    /// Ids of members to probe, ask for help and gossip to.
    func liveIDs() -> [String] { sortedIDs.filter { records[$0]!.member.status.isLive } }

    private mutating func gossipRound(out: inout [MembershipEffect]) {
        guard !queue.isEmpty else { return }
        for id in rng.sample(liveIDs(), count: config.gossipFanout) {
            let gossip = queue.take(max: config.maxPiggyback, limit: retransmitLimit())
            guard !gossip.isEmpty else { break }
            sendRaw(.gossip, gossip: gossip, to: records[id]!.member.address, out: &out)
        }
    }

    /// Push-pull with one random member; half the time with a down member (when there is one), so
    /// the two sides of a healed partition find each other again.
    private mutating func syncRound(out: inout [MembershipEffect]) {
        let down = sortedIDs.filter { records[$0]!.member.status == .down }
        let live = liveIDs()
        let pool = !down.isEmpty && (live.isEmpty || rng.below(2) == 0) ? down : live
        guard !pool.isEmpty else { return }
        let target = pool[rng.below(pool.count)]
        sendRaw(.sync(members: fullState(), isReply: false), gossip: [], to: records[target]!.member.address, out: &out)
    }

    /// Durations stretched by the local health multiplier.
    func scaled(_ d: UInt64) -> UInt64 { d * UInt64(localHealth + 1) }

    mutating func adjustHealth(_ delta: Int) {
        localHealth = max(0, min(config.maxLocalHealth, localHealth + delta))
    }
}

/// What a node keeps about another member.
struct MemberRecord {
    var member: Member
    var suspicion: Suspicion?
    var downSince: UInt64?
}
