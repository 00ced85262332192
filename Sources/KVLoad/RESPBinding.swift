import KVWorkload
import NIOCore
import NIOPosix
import RESP

/// Settings of the RESP bindings (`redis`, `kvnode`).
public struct RESPBindingConfiguration: Sendable {
    /// `host:port` of each server; connection i of a worker goes to host i mod count.
    public var hosts: [String]
    /// Connections each worker thread opens.
    public var connectionsPerThread: Int
    /// Requests in flight per connection (1 = request/response).
    public var pipelineDepth: Int
    /// An operation older than this fails its connection with `timeout` outcomes.
    public var timeoutSeconds: Double

    public init(hosts: [String], connectionsPerThread: Int = 1, pipelineDepth: Int = 1, timeoutSeconds: Double = 10) {
        self.hosts = hosts
        self.connectionsPerThread = max(connectionsPerThread, 1)
        self.pipelineDepth = max(pipelineDepth, 1)
        self.timeoutSeconds = timeoutSeconds
    }

    /// Splits `host:port` (default port 6379).
    static func endpoint(_ text: String) throws(LoadError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":") else { return (text, 6379) }
        guard let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else {
            throw .binding("bad host \(text) (expected host:port)")
        }
        return (String(text[..<colon]), port)
    }
}

/// Drives RESP servers over SwiftNIO: one event loop per worker thread, each with
/// `connectionsPerThread` connections and `pipelineDepth` requests in flight per connection.
/// Mapping: read → GET, update/insert → SET of the whole record, delete → DEL, read-modify-write
/// → GET and SET pipelined (one operation, done when both replied), scan → MGET of
/// `scanLength` consecutive keynums (plain strings have no ordered scan; this reads the same
/// number of records). Null bulk / `DEL` 0 → not found, `-ERR` → error.
public enum RESPDriver {
    public static func run(plan: RunPlan, configuration: RESPBindingConfiguration, bindingName: String,
                           status: StatusLine? = nil) throws -> RunResult {
        try plan.validate()
        guard !configuration.hosts.isEmpty else { throw LoadError.binding("no hosts") }
        let endpoints = try configuration.hosts.map { host throws(LoadError) in try RESPBindingConfiguration.endpoint(host) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: plan.threads)
        defer { try? group.syncShutdownGracefully() }
        let collector = IntervalCollector()
        let pool = RecordValues.makePool(for: plan.spec)
        var workers: [NIOWorker] = []
        var loops = group.makeIterator()
        let start = MonotonicClock.nanoseconds() + 50_000_000
        let startWall = wallClockSeconds() + 0.05
        for index in 0..<plan.threads {
            let loop = loops.next()!
            let core = WorkerCore(index: index, plan: plan, start: start, collector: collector, nodeCount: endpoints.count)
            let worker = NIOWorker(loop: loop, core: core, values: RecordValues(spec: plan.spec, pool: pool),
                                   depth: configuration.pipelineDepth, timeout: UInt64(configuration.timeoutSeconds * 1e9),
                                   interval: plan.intervalNanos)
            workers.append(worker)
            for c in 0..<configuration.connectionsPerThread {
                let node = c % endpoints.count
                let (host, port) = endpoints[node]
                let channel: Channel
                do {
                    channel = try ClientBootstrap(group: loop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .connect(host: host, port: port).wait()
                } catch {
                    throw LoadError.binding("cannot connect to \(host):\(port): \(error)")
                }
                try loop.submit {
                    let handler = RESPConnection(worker: worker, index: c, node: node, depth: configuration.pipelineDepth)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    worker.connections.append(handler)
                }.wait()
            }
        }
        for worker in workers { worker.loop.execute { worker.begin() } }
        let nodeNames = configuration.hosts
        return LoadDriver.collect(plan: plan, collector: collector, clock: MonotonicClock(), start: start, startWall: startWall,
                                  bindingName: bindingName, nodeNames: nodeNames, status: status)
    }
}

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

/// One RESP connection: writes commands, parses replies in order, matches them to in-flight
/// operations (a ring of `depth` entries).
final class RESPConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned(unsafe) let worker: NIOWorker
    let index: Int
    let node: Int
    var context: ChannelHandlerContext?
    var parser = RESPValueParser()
    var cumulation: ByteBuffer?
    var out: ByteBuffer?
    var pendingFlush = false
    var alive = true
    var ring: [InFlightOperation?]
    var replies: [(remaining: Int, outcome: OperationOutcome)]
    var head = 0
    var count = 0

    init(worker: NIOWorker, index: Int, node: Int, depth: Int) {
        self.worker = worker
        self.index = index
        self.node = node
        ring = Array(repeating: nil, count: depth)
        replies = Array(repeating: (0, .ok), count: depth)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func send(_ op: InFlightOperation, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, keyNamer namer: KeyNamer) {
        guard let context else { return }
        if out == nil { out = context.channel.allocator.buffer(capacity: 4096) }
        var expected = 1
        do {
            switch op.operation.kind {
            case .read: out!.writeRESPGetCommand(key: key)
            case .update, .insert: out!.writeRESPSetCommand(key: key, value: value)
            case .readModifyWrite:
                out!.writeRESPGetCommand(key: key)
                out!.writeRESPSetCommand(key: key, value: value)
                expected = 2
            case .delete:
                out!.writeStaticString("*2\r\n$3\r\nDEL\r\n")
                out!.writeRESPBulkString(key)
            case .scan:
                out!.writeRESPArrayHeader(op.operation.scanLength + 1)
                out!.writeStaticString("$4\r\nMGET\r\n")
                withUnsafeTemporaryAllocation(byteCount: namer.maximumLength, alignment: 1) { buffer in
                    for i in 0..<Int64(op.operation.scanLength) {
                        let n = namer.write(keyNumber: op.operation.keyNumber + i, into: buffer)
                        out!.writeRESPBulkString(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    }
                }
            }
        }
        let slot = (head + count) % ring.count
        ring[slot] = op
        replies[slot] = (expected, .ok)
        count += 1
        pendingFlush = true
    }

    func flush() {
        pendingFlush = false
        guard let context, let buffer = out else { return }
        out = nil
        context.writeAndFlush(NIOAny(buffer), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if cumulation == nil {
            cumulation = incoming
        } else {
            cumulation!.writeBuffer(&incoming)
        }
        let now = MonotonicClock.nanoseconds()
        do {
            while count > 0 {
                let scanned = cumulation!.withUnsafeReadableBytes { ReplyScanner.scan($0) }
                switch scanned {
                case .reply(let outcome, let consumed):
                    cumulation!.moveReaderIndex(forwardBy: consumed)
                    handle(outcome, now: now)
                    continue
                case .incomplete:
                    break
                case .complex:
                    guard let reply = try parser.next(from: &cumulation!) else { break }
                    handle(Self.outcome(of: reply), now: now)
                    continue
                }
                break
            }
        } catch {
            fail(.error)
            return
        }
        if cumulation!.readableBytes == 0 { cumulation = nil } else if cumulation!.readerIndex > 65_536 { cumulation!.discardReadBytes() }
        worker.pump()
    }

    static func outcome(of reply: RESPValue) -> OperationOutcome {
        switch reply {
        case .error: return .error
        case .bulkString(nil), .null, .array(nil): return .notFound
        case .integer(let n): return n == 0 ? .notFound : .ok
        case .array(let items?):
            return items.contains { if case .bulkString(.some) = $0 { return true } else { return false } } ? .ok : .notFound
        default: return .ok
        }
    }

    func handle(_ reply: OperationOutcome, now: UInt64) {
        var outcome = reply
        if replies[head].remaining > 1 {
            // Read-modify-write: the GET decides found / not found, an error anywhere wins.
            replies[head].outcome = outcome
            replies[head].remaining -= 1
            return
        }
        let first = replies[head].outcome
        if first != .ok, outcome != .error { outcome = first }
        let op = ring[head]!
        ring[head] = nil
        head = (head + 1) % ring.count
        count -= 1
        worker.completed(op, outcome: outcome, node: node, connection: index, now: now)
    }

    /// Fails every in-flight operation and closes the connection.
    func fail(_ outcome: OperationOutcome) {
        guard alive else { return }
        alive = false
        let now = MonotonicClock.nanoseconds()
        while count > 0 {
            let op = ring[head]!
            ring[head] = nil
            head = (head + 1) % ring.count
            count -= 1
            worker.core.complete(op, outcome: outcome, now: now, node: node)
        }
        context?.close(promise: nil)
        worker.pump()
    }

    func checkTimeout(now: UInt64, timeout: UInt64) {
        guard count > 0, let op = ring[head], now > op.sent, now - op.sent > timeout else { return }
        fail(.timeout)
    }

    func close() {
        alive = false
        context?.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if alive { fail(.error) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(.error)
    }
}
