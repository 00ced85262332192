import KVWorkload
import NIOCore
import RESP

/// One RESP connection: writes commands, parses replies in order, matches them to in-flight
/// operations (a ring of `depth` entries).
final class RESPConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    unowned(unsafe) let worker: NIOWorker
    let index: Int
    /// Member (cluster) or host index: where the per-node counts go.
    let node: Int
    /// Slot group in the worker (the member under cluster routing, else 0).
    let group: Int
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

    init(worker: NIOWorker, index: Int, node: Int, group: Int, depth: Int) {
        self.worker = worker
        self.index = index
        self.node = node
        self.group = group
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
                    if outcome == .error, consumed > 3, let text = cumulation!.getString(at: cumulation!.readerIndex + 1, length: consumed - 3) {
                        worker.core.noteErrorReply(text)
                    }
                    cumulation!.moveReaderIndex(forwardBy: consumed)
                    handle(outcome, now: now)
                    continue
                case .incomplete:
                    break
                case .complex:
                    guard let reply = try parser.next(from: &cumulation!) else { break }
                    if case .error(let b) = reply { worker.core.noteErrorReply(String(buffer: b)) }
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
        worker.connectionDied(group: group)
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
