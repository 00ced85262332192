import KVMembership

/// A tiny in-memory network for rule tests: messages take 1 ms, timers fire in time order, a node
/// can be cut off (its messages dropped both ways) or stopped.
struct TestNet {
    var nodes: [String: MembershipInstance] = [:]
    var timers: [String: [MembershipTimer: UInt64]] = [:]
    var inFlight: [(at: UInt64, to: String, from: String, MembershipMessage)] = []
    var cut: Set<String> = []
    var now: UInt64 = 0
    var changes: [(observer: String, MembershipChange)] = []
    var config: MembershipConfig

    static func address(_ id: String) -> String { id + ":7946" }

    init(ids: [String], config: MembershipConfig = MembershipConfig()) {
        self.config = config
        for (k, id) in ids.enumerated() {
            nodes[Self.address(id)] = MembershipInstance(id: id, address: Self.address(id), incarnation: 1,
                                                         seed: UInt64(k + 1), config: config)
        }
        let seed = Self.address(ids[0])
        for id in ids {
            feed(Self.address(id), .start)
            feed(Self.address(id), .join(seeds: [seed]))
            run(for: 50)
        }
    }

    func node(_ id: String) -> MembershipInstance { nodes[Self.address(id)]! }

    mutating func feed(_ address: String, _ event: MembershipEvent) {
        guard var n = nodes[address] else { return }
        let effects = n.handle(event, now: now)
        nodes[address] = n
        for e in effects {
            switch e {
            case let .send(to, m):
                if !cut.contains(address) && !cut.contains(to) { inFlight.append((now + 1, to, address, m)) }
            case let .setTimer(t, after): timers[address, default: [:]][t] = now + after
            case .cancelTimer(let t): timers[address]?[t] = nil
            case .memberChanged(let c): changes.append((n.me.id, c))
            case .persistIncarnation: break
            }
        }
    }

    /// Advances time by `duration`, delivering messages and firing timers in order.
    mutating func run(for duration: UInt64) {
        let end = now + duration
        while true {
            let nextMessage = inFlight.map(\.at).min()
            var nextTimer: (UInt64, String, MembershipTimer)?
            for (a, ts) in timers.sorted(by: { $0.key < $1.key }) {
                for (t, due) in ts where nextTimer == nil || due < nextTimer!.0 { nextTimer = (due, a, t) }
            }
            let next = [nextMessage, nextTimer?.0].compactMap { $0 }.min()
            guard let t = next, t <= end else { break }
            now = t
            if let m = nextMessage, m == t {
                let i = inFlight.firstIndex { $0.at == t }!
                let (_, to, from, message) = inFlight.remove(at: i)
                if !cut.contains(to) && !cut.contains(from) { feed(to, .message(from: from, message)) }
            } else if let (_, a, timer) = nextTimer {
                timers[a]?[timer] = nil
                feed(a, .timer(timer))
            }
        }
        now = end
    }

    /// Stops a node for good (kill -9).
    mutating func kill(_ id: String) {
        nodes[Self.address(id)] = nil
        timers[Self.address(id)] = nil
    }

    func status(of id: String, at observer: String) -> MemberStatus? { node(observer).member(id)?.status }
}

/// A one-node instance fed by hand, plus helpers to build messages.
func makeNode(_ id: String = "a", config: MembershipConfig = MembershipConfig(), seed: UInt64 = 1) -> MembershipInstance {
    var n = MembershipInstance(id: id, address: TestNet.address(id), incarnation: 1, seed: seed, config: config)
    _ = n.handle(.start, now: 0)
    _ = n.handle(.join(seeds: []), now: 0)
    return n
}

func up(_ id: String, _ incarnation: UInt64 = 1) -> Member {
    Member(id: id, address: TestNet.address(id), incarnation: incarnation, status: .up)
}

func member(_ id: String, _ incarnation: UInt64, _ status: MemberStatus) -> Member {
    Member(id: id, address: TestNet.address(id), incarnation: incarnation, status: status)
}

func message(from id: String, _ body: MembershipBody, gossip: [MemberUpdate] = []) -> MembershipEvent {
    .message(from: TestNet.address(id), MembershipMessage(senderID: id, senderIncarnation: 1, body: body, gossip: gossip))
}

/// Teaches `node` about these members (a full-state push from the first of them).
func teach(_ node: inout MembershipInstance, _ members: [Member], now: UInt64 = 0) {
    _ = node.handle(message(from: members[0].id, .sync(members: members, isReply: true)), now: now)
}

extension [MembershipEffect] {
    var sends: [(to: String, message: MembershipMessage)] {
        compactMap { if case let .send(to, m) = $0 { (to, m) } else { nil } }
    }
    var changes: [MembershipChange] {
        compactMap { if case .memberChanged(let c) = $0 { c } else { nil } }
    }
    func timer(_ t: MembershipTimer) -> UInt64? {
        for case let .setTimer(x, after) in self where x == t { return after }
        return nil
    }
}
