import KVWorkload
import NIOCore

/// One worker on one event loop: its core, connections and free pipeline slots. Confined to
/// `loop` (every method runs there), hence the unchecked Sendable.
final class NIOWorker: @unchecked Sendable {
    let loop: EventLoop
    var core: WorkerCore
    var values: RecordValues
    var connections: [RESPConnection] = []
    var freeSlots: [Int] = []
    let depth: Int
    let timeout: UInt64
    let interval: UInt64
    var timerArmed = false
    var draining = false
    var done = false
    var ticker: RepeatedTask?
    let keyNamer: KeyNamer

    init(loop: EventLoop, core: WorkerCore, values: RecordValues, depth: Int, timeout: UInt64, interval: UInt64) {
        self.loop = loop
        self.core = core
        self.values = values
        self.depth = depth
        self.timeout = timeout
        self.interval = interval
        keyNamer = core.stream.keyNamer
    }

    func begin() {
        for _ in 0..<depth { for c in connections.indices { freeSlots.append(c) } }
        freeSlots.reverse()
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

    /// Issues as many operations as free slots and the pacer allow.
    func pump() {
        guard !draining else { return finishIfIdle() }
        let now = MonotonicClock.nanoseconds()
        while let c = freeSlots.popLast() {
            let connection = connections[c]
            guard connection.alive else { continue }
            switch core.next(now: now) {
            case .done:
                freeSlots.append(c)
                draining = true
                flushAll()
                return finishIfIdle()
            case .wait(let until):
                freeSlots.append(c)
                arm(at: until)
                flushAll()
                return
            case .send(var op):
                op.sent = now
                let value = op.operation.kind.writes ? values.next(&core.stream) : UnsafeRawBufferPointer(start: nil, count: 0)
                core.stream.withKey { key in connection.send(op, key: key, value: value, keyNamer: keyNamer) }
            }
        }
        flushAll()
        if !connections.contains(where: \.alive) {
            draining = true
            finishIfIdle()
        }
    }

    func flushAll() {
        for c in connections where c.pendingFlush { c.flush() }
    }

    func completed(_ op: InFlightOperation, outcome: OperationOutcome, node: Int, connection: Int, now: UInt64) {
        core.complete(op, outcome: outcome, now: now, node: node)
        freeSlots.append(connection)
    }

    func finishIfIdle() {
        guard draining, !done, core.inFlight == 0 || !connections.contains(where: \.alive) else { return }
        done = true
        ticker?.cancel()
        core.finish(now: MonotonicClock.nanoseconds())
        values.deallocate()
        for c in connections where c.alive { c.close() }
    }
}
