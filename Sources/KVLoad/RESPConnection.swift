import KVWorkload
import NIOCore
import KVStorage
import RESP

/// One pipeline slot of a connection: what completing its operation needs, and the replies it still awaits
/// (two for a read-modify-write, whose GET decides found / not found). 32 bytes, so a connection's slots take
/// half the cache lines a whole `InFlightOperation` per slot took (the ring is written at send and read at
/// the reply, with every other connection's traffic in between).
struct PendingReply {
    var keyNumber: Int64
    var intended: UInt64
    var sent: UInt64
    var kind: OperationKind
    var measured: Bool
    var remaining: UInt8
    var outcome: OperationOutcome

    @inline(__always)
    init(_ op: InFlightOperation, remaining: UInt8) {
        keyNumber = op.operation.keyNumber
        intended = op.intended
        sent = op.sent
        kind = op.operation.kind
        measured = op.measured
        self.remaining = remaining
        outcome = .ok
    }

    /// The operation as the worker core completes it: kind, keynum, times and whether it is measured (the
    /// fields a completion reads; key length, scan length and fields are not kept).
    @inline(__always)
    var operation: InFlightOperation {
        InFlightOperation(operation: Operation(kind: kind, keyNumber: keyNumber, keyLength: 0), intended: intended,
                          sent: sent, measured: measured)
    }
}

/// One RESP connection: writes commands, parses replies in order, matches them to in-flight
/// operations (a ring of `depth` entries).
final class RESPConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The worker owns its connections; hot calls go through `_withUnsafeGuaranteedRef`, which (unlike a
    /// call on an `unowned(unsafe)` reference) needs no retain and release around each call.
    let workerRef: Unmanaged<NIOWorker>
    var worker: NIOWorker { workerRef.takeUnretainedValue() }
    let index: Int
    /// Member (cluster) or host index: where the per-node counts go.
    let node: Int
    /// Slot group in the worker (the member under cluster routing, else 0).
    let group: Int
    var context: ChannelHandlerContext?
    var parser = RESPValueParser()
    var cumulation: ByteBuffer?
    var alive = true
    /// The in-flight operations, oldest at `head`: fixed storage owned by the connection, so the per-reply
    /// bookkeeping has no copy-on-write check, no Optional and no division.
    let ring: UnsafeMutablePointer<PendingReply>
    let depth: Int
    var head = 0
    var count = 0
    /// Bulk headers of the last key and value lengths this connection sent (`BulkHeaderMemo`).
    var keyHeader = BulkHeaderMemo()
    var valueHeader = BulkHeaderMemo()

    init(worker: NIOWorker, index: Int, node: Int, group: Int, depth: Int) {
        self.workerRef = Unmanaged.passUnretained(worker)
        self.index = index
        self.node = node
        self.group = group
        self.depth = depth
        ring = .allocate(capacity: depth)
        let idle = InFlightOperation(operation: Operation(kind: .read, keyNumber: 0, keyLength: 0),
                                     intended: 0, sent: 0, measured: false)
        ring.initialize(repeating: PendingReply(idle, remaining: 0), count: depth)
    }

    deinit {
        ring.deinitialize(count: depth)
        ring.deallocate()
    }

    /// The ring index `offset` slots after `index`.
    @inline(__always)
    func advanced(_ index: Int, by offset: Int) -> Int {
        let i = index + offset
        return i >= depth ? i - depth : i
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Stages `op`'s command(s) in `staged` (the worker's staging area, which holds only this connection's
    /// commands until the worker writes them: `NIOWorker.flushStaged`) and takes a pipeline slot for it.
    func send(_ op: InFlightOperation, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, keyNamer namer: KeyNamer,
              into staged: ByteSink) {
        guard context != nil else { return }
        var expected: UInt8 = 1
        switch op.operation.kind {
        case .read:
            stage(RESPEncoding.getHeader, key, into: staged)
        case .update, .insert:
            stage(RESPEncoding.setHeader, key, value, into: staged)
        case .readModifyWrite:
            stage(RESPEncoding.getHeader, key, into: staged)
            stage(RESPEncoding.setHeader, key, value, into: staged)
            expected = 2
        case .delete:
            stage(RESPEncoding.delHeader, key, into: staged)
        case .scan:
            let keys = op.operation.scanLength
            let header = RESPEncoding.arrayHeaderLength(keys + 1)
            RESPEncoding.storeArrayHeader(keys + 1, at: staged.reserve(header))
            Self.stage("$4\r\nMGET\r\n", into: staged)
            withUnsafeTemporaryAllocation(byteCount: namer.maximumLength, alignment: 1) { buffer in
                for i in 0..<Int64(keys) {
                    let n = namer.write(keyNumber: op.operation.keyNumber + i, into: buffer)
                    let key = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                    let length = RESPEncoding.bulkStringLength(n)
                    RESPEncoding.storeBulkString(key, at: staged.reserve(length))
                }
            }
        }
        precondition(count < depth, "more operations than pipeline slots")
        ring[advanced(head, by: count)] = PendingReply(op, remaining: expected)
        count += 1
    }

    /// Stages `head` (a literal command head, or a whole literal command).
    @inline(__always)
    static func stage(_ head: StaticString, into staged: ByteSink) {
        staged.reserve(head.utf8CodeUnitCount).copyMemory(from: head.utf8Start, byteCount: head.utf8CodeUnitCount)
    }

    /// Stages `head` followed by the bulk string `key`, whose header comes from `keyHeader` when its length allows.
    @inline(__always)
    func stage(_ head: StaticString, _ key: UnsafeRawBufferPointer, into staged: ByteSink) {
        guard BulkHeaderMemo.covers(key.count) else {
            RESPEncoding.storeCommand(head, key, at: staged.reserve(RESPEncoding.commandLength(head, key.count)))
            return
        }
        let h = head.utf8CodeUnitCount
        let at = staged.reserve(h &+ keyHeader.bulkStringLength(key.count))
        RESPEncoding.copy(head.utf8Start, count: h, to: at)
        keyHeader.storeBulkString(key, at: at + h)
    }

    /// Stages `head` followed by the bulk strings `key` and `value`, with remembered headers when both lengths
    /// allow.
    @inline(__always)
    func stage(_ head: StaticString, _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, into staged: ByteSink) {
        guard BulkHeaderMemo.covers(key.count), BulkHeaderMemo.covers(value.count) else {
            let length = RESPEncoding.commandLength(head, key.count, value.count)
            RESPEncoding.storeCommand(head, key, value, at: staged.reserve(length))
            return
        }
        let h = head.utf8CodeUnitCount
        let k = keyHeader.bulkStringLength(key.count)
        let at = staged.reserve(h &+ k &+ valueHeader.bulkStringLength(value.count))
        RESPEncoding.copy(head.utf8Start, count: h, to: at)
        keyHeader.storeBulkString(key, at: at + h)
        valueHeader.storeBulkString(value, at: at + h + k)
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
                // Every simple reply the buffer holds, in one pass over its bytes; the reader index moves once.
                var complex = false
                let consumed = cumulation!.withUnsafeReadableBytes { bytes in scanSimpleReplies(bytes, now: now, complex: &complex) }
                cumulation!.moveReaderIndex(forwardBy: consumed)
                guard complex, count > 0 else { break }
                guard let reply = try parser.next(from: &cumulation!) else { break }
                if case .error(let b) = reply { worker.core.noteErrorReply(String(buffer: b)) }
                handle(Self.outcome(of: reply), now: now)
            }
        } catch {
            fail(.error)
            return
        }
        if cumulation!.readableBytes == 0 { cumulation = nil } else if cumulation!.readerIndex > 65_536 { cumulation!.discardReadBytes() }
        workerRef._withUnsafeGuaranteedRef { $0.pump() }
    }

    /// Completes in-flight operations with the simple replies (`ReplyScanner`) at the start of `bytes`, while
    /// any are in flight, and returns the bytes they took. Stops at an incomplete reply, or at one that needs
    /// the full parser (`complex` set).
    @inline(__always)
    func scanSimpleReplies(_ bytes: UnsafeRawBufferPointer, now: UInt64, complex: inout Bool) -> Int {
        var offset = 0
        while count > 0 {
            switch ReplyScanner.scan(UnsafeRawBufferPointer(rebasing: bytes[offset...])) {
            case .reply(let outcome, let length):
                if outcome == .error, length > 3 {
                    worker.core.noteErrorReply(String(decoding: bytes[(offset + 1)..<(offset + length - 2)], as: UTF8.self))
                }
                offset += length
                handle(outcome, now: now)
            case .incomplete:
                return offset
            case .complex:
                complex = true
                return offset
            }
        }
        return offset
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
        let slot = ring + head
        if slot.pointee.remaining > 1 {
            // Read-modify-write: the GET decides found / not found, an error anywhere wins.
            slot.pointee.outcome = outcome
            slot.pointee.remaining -= 1
            return
        }
        let first = slot.pointee.outcome
        if first != .ok, outcome != .error { outcome = first }
        let reply = slot.pointee
        head = advanced(head, by: 1)
        count -= 1
        workerRef._withUnsafeGuaranteedRef { $0.completed(reply, outcome: outcome, node: self.node, connection: self.index, now: now) }
    }

    /// Fails every in-flight operation and closes the connection.
    func fail(_ outcome: OperationOutcome) {
        guard alive else { return }
        alive = false
        worker.connectionDied(group: group)
        let now = MonotonicClock.nanoseconds()
        while count > 0 {
            let op = ring[head].operation
            head = advanced(head, by: 1)
            count -= 1
            worker.core.complete(op, outcome: outcome, now: now, node: node)
        }
        context?.close(promise: nil)
        worker.pump()
    }

    func checkTimeout(now: UInt64, timeout: UInt64) {
        guard count > 0 else { return }
        let op = ring[head].operation
        guard now > op.sent, now - op.sent > timeout else { return }
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
