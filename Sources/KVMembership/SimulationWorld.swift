import KVEventQueue

/// Things that happen in the simulated world at a virtual time.
enum WorldEvent {
    case deliver(to: Int, from: Int, MembershipMessage)
    case timer(node: Int, MembershipTimer, generation: UInt64)
}

/// A process's state in the simulated world.
enum ProcessState: Equatable {
    case running
    /// SIGSTOP-like: events queue up and are handled at `until`, in order.
    case paused(until: UInt64)
    /// Killed (or left and stopped): nothing is handled; its persisted incarnation survives.
    case stopped
}

/// N membership instances on a seeded virtual network and clock: delay, loss, partitions, pauses,
/// crashes and restarts (with the persisted incarnation + 1). Observes every view change.
final class SimulationWorld {
    let options: MembershipSimulationOptions
    let ids: [String]
    let addresses: [String]
    let index: [String: Int]
    var nodes: [MembershipInstance?]
    var state: [ProcessState]
    var persisted: [UInt64]
    var timerGenerations: [[MembershipTimer: UInt64]]
    var nextGeneration: UInt64 = 0
    var backlog: [[WorldEvent]]
    var queue = EventQueue<WorldEvent>()
    var now: UInt64 = 0
    var rng: SplitMixRandom
    var side: [Int]? = nil
    var result: MembershipSimulationResult
    /// Called for every view change: (observer, change).
    var onChange: (Int, MembershipChange) -> Void = { _, _ in }

    init(seed: UInt64, options: MembershipSimulationOptions) {
        self.options = options
        ids = (0..<options.nodes).map { "n\($0)" }
        addresses = (0..<options.nodes).map { "10.0.0.\($0 + 1):7946" }
        var idx: [String: Int] = [:]
        for (i, a) in addresses.enumerated() { idx[a] = i }
        index = idx
        nodes = Array(repeating: nil, count: options.nodes)
        state = Array(repeating: .stopped, count: options.nodes)
        persisted = Array(repeating: 0, count: options.nodes)
        timerGenerations = Array(repeating: [:], count: options.nodes)
        backlog = Array(repeating: [], count: options.nodes)
        rng = SplitMixRandom(seed: seed)
        result = MembershipSimulationResult(seed: seed)
    }

    var seedAddresses: [String] { Array(addresses.prefix(options.seedNodes)) }

    func isRunning(_ i: Int) -> Bool { state[i] == .running }
    func isPaused(_ i: Int) -> Bool { if case .paused = state[i] { return true } else { return false } }
    func reachable(_ a: Int, _ b: Int) -> Bool { side.map { $0[a] == $0[b] } ?? true }

    /// Starts node `i` as a new process (incarnation above everything it persisted) and joins.
    func boot(_ i: Int) {
        var node = MembershipInstance(id: ids[i], address: addresses[i], incarnation: persisted[i] + 1,
                                      seed: rng.next(), config: options.config)
        state[i] = .running
        timerGenerations[i] = [:]
        backlog[i] = []
        var effects = node.handle(.start, now: now)
        effects += node.handle(.join(seeds: seedAddresses), now: now)
        nodes[i] = node
        perform(effects, of: i)
    }

    func stop(_ i: Int) {
        nodes[i] = nil
        state[i] = .stopped
        timerGenerations[i] = [:]
        backlog[i] = []
    }

    func pause(_ i: Int, for duration: UInt64) {
        guard isRunning(i) else { return }
        state[i] = .paused(until: now + duration)
    }

    /// Feeds an event to node `i` and carries out the effects.
    func drive(_ i: Int, _ event: MembershipEvent) {
        guard nodes[i] != nil else { return }
        let effects = nodes[i]!.handle(event, now: now)
        perform(effects, of: i)
    }

    func perform(_ effects: [MembershipEffect], of i: Int) {
        for effect in effects {
            switch effect {
            case let .send(address, message):
                if let to = index[address] { send(message, from: i, to: to) }
            case let .setTimer(timer, after):
                nextGeneration += 1  // world-wide, so a timer of a previous life never matches
                let g = nextGeneration
                timerGenerations[i][timer] = g
                queue.push(.timer(node: i, timer, generation: g), at: now + after)
            case .cancelTimer(let timer):
                timerGenerations[i][timer] = nil
            case .memberChanged(let change):
                onChange(i, change)
            case .persistIncarnation(let inc):
                persisted[i] = max(persisted[i], inc)
            }
        }
    }

    func send(_ original: MembershipMessage, from: Int, to: Int) {
        result.messages += 1
        var message = original
        if options.encodeMessages {
            let bytes = MembershipCoding.encode(original)
            result.bytes += bytes.count
            guard let decoded = try? MembershipCoding.decode(bytes), decoded == original else {
                preconditionFailure("membership message did not survive its encoding: \(original)")
            }
            message = decoded
        }
        guard reachable(from, to), !rng.chance(options.lossRate) else { result.dropped += 1; return }
        if options.traceMessages { result.trace.append("t=\(now) n\(from) -> n\(to): \(message.body)") }
        queue.push(.deliver(to: to, from: from, message), at: now + rng.tick(options.minDelay...options.maxDelay))
    }

    /// Runs events up to and including `limit`.
    func run(until limit: UInt64) {
        while true {
            let nextResume = state.indices.compactMap { i -> UInt64? in
                if case .paused(let until) = state[i] { return until } else { return nil }
            }.min()
            let nextEvent = queue.nextTime
            if let r = nextResume, r <= limit, nextEvent.map({ r <= $0 }) ?? true {
                now = max(now, r)
                resume()
                continue
            }
            guard let t = nextEvent, t <= limit else { break }
            let (time, event) = queue.pop()!
            now = time
            step(event)
        }
        now = max(now, limit)
    }

    /// Paused nodes whose pause is over handle their backlog, in arrival order.
    private func resume() {
        for i in state.indices {
            guard case .paused(let until) = state[i], until <= now else { continue }
            state[i] = .running
            let events = backlog[i]
            backlog[i] = []
            for e in events { step(e) }
        }
    }

    func step(_ event: WorldEvent) {
        switch event {
        case let .deliver(to, from, message):
            if isPaused(to) { return backlog[to].append(event) }
            guard isRunning(to), reachable(from, to) else { result.dropped += 1; return }
            drive(to, .message(from: addresses[from], message))
        case let .timer(i, timer, generation):
            guard timerGenerations[i][timer] == generation else { return }
            if isPaused(i) { return backlog[i].append(event) }
            timerGenerations[i][timer] = nil
            if options.traceMessages { result.trace.append("t=\(now) n\(i) timer \(timer)") }
            drive(i, .timer(timer))
        }
    }

    /// (id, status, incarnation) of every member in node `i`'s view.
    func view(_ i: Int) -> [Member] { nodes[i]?.members ?? [] }
}

/// The simulator's randomness (SplitMix64), separate from the instances' own seeded streams.
struct SplitMixRandom {
    private var inner: SeededRandom

    init(seed: UInt64) { inner = SeededRandom(seed: seed) }

    mutating func next() -> UInt64 { inner.next() }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + inner.below(range.count) }
    mutating func tick(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
    }
    mutating func chance(_ p: Double) -> Bool { p > 0 && Double(next() >> 11) * 0x1.0p-53 < p }
}
