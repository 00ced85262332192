import KVWorkload
import KVStorage
import NIOCore

/// One worker on one event loop: its core, connections and free pipeline slots. Confined to
/// `loop` (every method runs there), hence the unchecked Sendable.
///
/// Free slots are kept per slot group: with cluster routing one group per member (an operation may
/// only take a slot of one of its key's replicas), otherwise a single group (any free slot). An
/// operation whose replicas have no free slot is parked — the worker draws no further operation —
/// until a slot of one of them frees up; it is never sent to a non-replica.
final class NIOWorker: @unchecked Sendable {
    let loop: EventLoop
    var core: WorkerCore
    var values: RecordValues
    var connections: [RESPConnection] = []
    /// Commands not yet written, all for connection `stagedFor` (-1: none): dispatching to another connection
    /// writes them first. Worker-wide rather than per connection, so the memory stays in the cache.
    let staged = ByteSink(capacity: 4096)
    var stagedFor = -1
    /// The buffer `flushStaged` hands to NIO.
    var out = ByteBufferAllocator().buffer(capacity: 4096)
    /// Free pipeline slots (connection indices) per slot group.
    var freeSlots: SlotStacks
    /// Live connections per slot group.
    var aliveConnections: [Int]
    var freeCount = 0
    let router: ClusterRouter?
    /// An operation drawn from the core, waiting for a slot on one of its key's replicas (routing only).
    var parked: InFlightOperation?
    var parkedRoute = PreferenceBuffer()
    let depth: Int
    let timeout: UInt64
    let interval: UInt64
    var timerArmed = false
    var pumping = false
    var pumpRequested = false
    var draining = false
    var done = false
    var ticker: RepeatedTask?
    let keyNamer: KeyNamer

    init(loop: EventLoop, core: WorkerCore, values: RecordValues, depth: Int, timeout: UInt64, interval: UInt64,
         router: ClusterRouter? = nil) {
        self.loop = loop
        self.core = core
        self.values = values
        self.depth = depth
        self.timeout = timeout
        self.interval = interval
        self.router = router
        let groups = router?.memberIDs.count ?? 1
        freeSlots = SlotStacks(groups: groups)
        aliveConnections = Array(repeating: 0, count: groups)
        keyNamer = core.stream.keyNamer
    }

    /// The slot group of a connection to member (or host) `node`.
    func group(ofNode node: Int) -> Int { router == nil ? 0 : node }

    deinit { freeSlots.deallocate() }

    func begin() {
        freeSlots.allocate(capacity: depth * connections.count)
        // Pushed last-first and a connection's slots together, so the first pops fill the first connection's
        // pipeline, then the next one's: one write per connection (staging switches connection once each).
        for c in connections.indices.reversed() {
            for _ in 0..<depth {
                freeSlots.push(c, group: connections[c].group)
                freeCount += 1
            }
        }
        for c in connections { aliveConnections[c.group] += 1 }
        let wait = core.pacer.start > MonotonicClock.nanoseconds() ? core.pacer.start - MonotonicClock.nanoseconds() : 0
        ticker = loop.scheduleRepeatedTask(initialDelay: .nanoseconds(Int64(wait)), delay: .milliseconds(100)) { [self] _ in
            let now = MonotonicClock.nanoseconds()
            core.tick(now: now)
            for c in connections where c.alive { c.checkTimeout(now: now, timeout: timeout) }
        }
        arm(at: core.pacer.start)
    }

    func arm(at deadline: UInt64) {
        guard !timerArmed else { return }
        timerArmed = true
        let now = MonotonicClock.nanoseconds()
        loop.scheduleTask(in: .nanoseconds(Int64(deadline > now ? deadline - now : 0))) { [self] in
            timerArmed = false
            pump()
        }
    }

    /// Issues as many operations as free slots and the pacer allow. Not re-entered: a connection that fails
    /// inside one of the worker's writes (`flushStaged`, also called while an operation is being dispatched) asks
    /// for a pump, and the running one goes round again when it is done, rather than drawing the next operation
    /// while the current one (whose key the stream still holds) is half sent.
    func pump() {
        if pumping {
            pumpRequested = true
            return
        }
        pumping = true
        defer { pumping = false }
        repeat {
            pumpRequested = false
            pumpOnce()
        } while pumpRequested
    }

    func pumpOnce() {
        guard !draining else { return finishIfIdle() }
        let now = MonotonicClock.nanoseconds()
        while true {
            if router == nil {
                // Unrouted: any live slot will do, so take one first and draw the operation straight into it.
                guard let c = popFree(group: 0) else { break }
                let step = core.next(now: now)
                guard case .send(let op) = step else {
                    returnSlot(c)
                    return pause(step)
                }
                dispatch(op, to: c, now: now)
                continue
            }
            if parked == nil {
                guard freeCount > 0 else { break }
                let step = core.next(now: now)
                guard case .send(let op) = step else { return pause(step) }
                parked = op
                if let router { parkedRoute = core.withKey { router.route($0) } }
            }
            guard let c = takeSlot(now: now) else {
                if parked == nil { continue }  // failed for want of a live replica connection: draw the next one
                break
            }
            let op = parked!
            parked = nil
            dispatch(op, to: c, now: now)
        }
        flushStaged()
        if !aliveConnections.contains(where: { $0 > 0 }) {
            draining = true
            finishIfIdle()
        }
    }

    /// The stream has nothing to send now: flushes what was written, then drains (`.done`) or comes back
    /// at the pacer's deadline (`.wait`).
    func pause(_ step: WorkerStep) {
        flushStaged()
        if case .wait(let until) = step {
            arm(at: until)
        } else {
            draining = true
            finishIfIdle()
        }
    }

    /// Writes `op` (whose key is the stream's current one) to the free slot `c`.
    @inline(__always)
    func dispatch(_ op: InFlightOperation, to c: Int, now: UInt64) {
        var op = op
        op.sent = now
        let value = op.operation.kind.writes ? values.next(&core.stream) : UnsafeRawBufferPointer(start: nil, count: 0)
        // Staging holds one connection's commands: another connection's are written first.
        if stagedFor != c {
            flushStaged()
            stagedFor = c
        }
        // Unretained: the worker owns its connections, and a retain and release per operation showed in profiles.
        let connection = Unmanaged.passUnretained(connections[c])
        let staged = staged
        connection._withUnsafeGuaranteedRef { connection in
            core.withKey { key in connection.send(op, key: key, value: value, keyNamer: keyNamer, into: staged) }
        }
    }

    /// Gives back a slot: one taken but not used, or one whose operation completed.
    @inline(__always)
    func returnSlot(_ c: Int) {
        freeSlots.push(c, group: connections[c].group)
        freeCount += 1
    }

    /// A free slot for the parked operation: any (no routing) or one of its replicas', owner first.
    /// Returns nil with the operation still parked when it must wait, and nil with it completed as an
    /// error when none of its replicas has a live connection left.
    func takeSlot(now: UInt64) -> Int? {
        guard router != nil else { return popFree(group: 0) }
        while true {
            guard let g = ClusterRouter.choose(parkedRoute, hasFreeSlot: { !freeSlots.isEmpty(group: $0) }) else { break }
            if let c = popFree(group: g) { return c }
        }
        for i in 0..<parkedRoute.count where aliveConnections[parkedRoute[i]] > 0 { return nil }
        if let op = parked {
            parked = nil
            core.complete(op, outcome: .error, now: now, node: parkedRoute.count > 0 ? parkedRoute[0] : 0)
        }
        return nil
    }

    /// Pops a free slot of a live connection in `group` (dropping slots of dead ones).
    @inline(__always)
    func popFree(group g: Int) -> Int? {
        while let c = freeSlots.pop(group: g) {
            freeCount -= 1
            if connections[c].alive { return c }
        }
        return nil
    }

    /// Writes the staged commands to their connection, through `out`. Both belong to the worker and serve all
    /// its connections in turn, so they stay in the cache: a staging area and an output buffer per connection
    /// (50 of each at 4 KiB) were cold again by the time their connection's next batch came round. `out` is
    /// reused: once the socket has taken the bytes (as it normally has by now) its storage is ours alone again
    /// and clearing it is free; if the write is still pending, `clear` gives it fresh storage and the pending
    /// write keeps its own. Each use of `out` is a separate short access, none held across `writeAndFlush`,
    /// which may re-enter the worker (a failed write fails the connection, and that pumps).
    func flushStaged() {
        guard stagedFor >= 0 else { return }
        let c = stagedFor
        stagedFor = -1
        guard staged.count > 0 else { return }
        let context = Unmanaged.passUnretained(connections[c])._withUnsafeGuaranteedRef { $0.alive ? $0.context : nil }
        guard let context else { return staged.reset() }
        out.writeBytes(staged.bytes)
        staged.reset()
        context.writeAndFlush(NIOAny(out), promise: nil)
        out.clear()
    }

    /// The operation in pipeline slot `reply` of connection `connection` (to node `node`) ended in `outcome`.
    func completed(_ reply: PendingReply, outcome: OperationOutcome, node: Int, connection: Int, now: UInt64) {
        core.complete(kind: reply.kind, keyNumber: reply.keyNumber, intended: reply.intended, sent: reply.sent,
                      measured: reply.measured, outcome: outcome, now: now, node: node)
        returnSlot(connection)
    }

    /// A connection of `group` died (its in-flight operations were already failed).
    func connectionDied(group: Int) {
        aliveConnections[group] -= 1
    }

    func finishIfIdle() {
        guard draining, !done, core.inFlight == 0 || !aliveConnections.contains(where: { $0 > 0 }) else { return }
        done = true
        ticker?.cancel()
        core.finish(now: MonotonicClock.nanoseconds())
        values.deallocate()
        for c in connections where c.alive { c.close() }
    }
}

/// Stacks of free pipeline slots (connection indices), one per slot group, in one fixed block the worker
/// owns: taking and returning a slot is a pointer bump, with no copy-on-write check of nested arrays.
/// Each stack has room for every slot of the worker, so a push never overflows.
struct SlotStacks {
    let groups: Int
    private(set) var capacity = 0
    private var storage: UnsafeMutablePointer<Int>?
    private var tops: UnsafeMutablePointer<Int>?

    init(groups: Int) { self.groups = groups }

    /// Allocates room for `capacity` slots per group (once, before the first push).
    mutating func allocate(capacity: Int) {
        precondition(storage == nil, "slot stacks allocated twice")
        self.capacity = max(capacity, 1)
        storage = .allocate(capacity: groups * self.capacity)
        tops = .allocate(capacity: groups)
        tops!.initialize(repeating: 0, count: groups)
    }

    func deallocate() {
        storage?.deallocate()
        tops?.deallocate()
    }

    @inline(__always)
    func isEmpty(group: Int) -> Bool { tops.map { $0[group] == 0 } ?? true }

    @inline(__always)
    func push(_ slot: Int, group: Int) {
        let tops = tops!
        precondition(tops[group] < capacity, "more free slots than the worker has")
        storage![group * capacity + tops[group]] = slot
        tops[group] += 1
    }

    @inline(__always)
    func pop(group: Int) -> Int? {
        guard let tops, tops[group] > 0 else { return nil }
        tops[group] -= 1
        return storage![group * capacity + tops[group]]
    }
}
