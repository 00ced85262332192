import KVWorkload
import NIOCore
import KVStorage
import NIOEmbedded
import RESP
import Testing

@testable import KVLoad

/// The RESP connection's reply path on an embedded channel: replies split at any byte, simple replies scanned
/// in place, aggregates handed to the full parser, error texts kept, every operation completed once.
@Suite("RESP connection reply handling")
struct RESPConnectionTests {
    /// A worker with one connection of pipeline depth `depth` on an embedded channel, reads only, `operations` in all;
    /// started (sending) unless `start` is false.
    static func connectedWorker(depth: Int, operations: Int64, start: Bool = true) throws -> (NIOWorker, RESPConnection, EmbeddedChannel) {
        var workload = try spec(["recordcount": "100", "readproportion": "1", "updateproportion": "0", "fieldcount": "1"])
        workload.operationCount = operations
        var plan = RunPlan(spec: workload, phase: .run, threads: 1)
        plan.intervalNanos = 3_600_000_000_000  // no interval closes (and resets the histograms) mid-test
        let loop = EmbeddedEventLoop()
        let core = WorkerCore(index: 0, plan: plan, start: MonotonicClock.nanoseconds(), collector: IntervalCollector())
        let worker = NIOWorker(loop: loop, core: core, values: RecordValues(spec: workload, pool: RecordValues.makePool(for: workload)),
                               depth: depth, timeout: 60_000_000_000, interval: plan.intervalNanos)
        let connection = RESPConnection(worker: worker, index: 0, node: 0, group: 0, depth: depth)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(connection)
        worker.connections.append(connection)
        if start {
            worker.begin()
            loop.run()
        }
        return (worker, connection, channel)
    }

    /// A second connection of `worker` (index 1, depth 4) on its own embedded channel on `loop`.
    static func addConnection(to worker: NIOWorker, loop: EmbeddedEventLoop) throws -> (RESPConnection, EmbeddedChannel) {
        let connection = RESPConnection(worker: worker, index: worker.connections.count, node: 0, group: 0, depth: 4)
        let channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(connection)
        worker.connections.append(connection)
        return (connection, channel)
    }

    /// The writes made on `channel` so far, one string each.
    static func writes(_ channel: EmbeddedChannel) throws -> [String] {
        var all: [String] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { all.append(String(buffer: buffer)) }
        return all
    }

    /// GET commands written so far.
    static func sentGets(_ channel: EmbeddedChannel) throws -> Int {
        try writes(channel).joined().components(separatedBy: "GET\r\n").count - 1
    }

    @Test func splitSimpleAndAggregateRepliesCompleteEachOperationOnce() throws {
        let (worker, connection, channel) = try Self.connectedWorker(depth: 4, operations: 100)
        #expect(try Self.sentGets(channel) == 4)
        // Six replies: a bulk string, a null, an error, an array (full parser), +OK and :0, split mid-length,
        // mid-payload, mid-error and mid-aggregate; each write completes what it holds and the worker refills.
        let stream = "$3\r\nabc\r\n$-1\r\n-ERR boom\r\n*2\r\n$1\r\nx\r\n$-1\r\n+OK\r\n:0\r\n"
        let cuts = [2, 7, 14, 20, 29, 33, stream.utf8.count]
        var from = 0
        var sent = 4
        for cut in cuts {
            let piece = Array(stream.utf8)[from..<cut]
            from = cut
            try channel.writeInbound(channel.allocator.buffer(bytes: piece))
            sent += try Self.sentGets(channel)
        }
        let h = worker.core.histograms
        #expect(h.count(.read, .ok) == 3)        // bulk, array with a value, +OK
        #expect(h.count(.read, .notFound) == 2)  // null bulk, :0
        #expect(h.count(.read, .error) == 1)
        #expect(worker.core.errorReplies == ["ERR boom": 1])
        #expect(sent == 6 + 4, "every completed slot was refilled")
        #expect(connection.count == 4 && worker.core.inFlight == 4)
        #expect(connection.cumulation == nil, "nothing left over")
    }

    @Test func replyBytesBeyondInFlightOperationsWaitForTheNextOperation() throws {
        let (worker, connection, channel) = try Self.connectedWorker(depth: 1, operations: 100)
        #expect(try Self.sentGets(channel) == 1)
        // Two replies in one read with one operation in flight: the first completes it, and the second stays
        // buffered for the operation sent next (matched on the next read), rather than completing nothing.
        try channel.writeInbound(channel.allocator.buffer(string: "+OK\r\n$-1\r\n"))
        #expect(worker.core.histograms.count(.read, .ok) == 1)
        #expect(worker.core.histograms.count(.read, .notFound) == 0)
        #expect(try Self.sentGets(channel) == 1)
        #expect(connection.count == 1 && connection.cumulation?.readableBytes == 5)
        try channel.writeInbound(channel.allocator.buffer(string: ""))
        #expect(worker.core.histograms.count(.read, .notFound) == 1)
        #expect(try Self.sentGets(channel) == 1)
        #expect(connection.cumulation == nil)
    }

    /// The worker stages for one connection at a time: each connection's commands reach its own socket, in one
    /// write per batch, and a batch for one connection writes nothing to another.
    @Test func eachConnectionGetsItsOwnCommandsInOneWritePerBatch() throws {
        let (worker, first, firstChannel) = try Self.connectedWorker(depth: 4, operations: 100, start: false)
        let (second, secondChannel) = try Self.addConnection(to: worker, loop: firstChannel.embeddedEventLoop)
        worker.begin()
        firstChannel.embeddedEventLoop.run()
        func gets(_ text: String) -> Int { text.components(separatedBy: "GET\r\n").count - 1 }
        let firstWrites = try Self.writes(firstChannel), secondWrites = try Self.writes(secondChannel)
        #expect(firstWrites.count == 1 && gets(firstWrites[0]) == 4)
        #expect(secondWrites.count == 1 && gets(secondWrites[0]) == 4)
        #expect(first.count == 4 && second.count == 4)
        // Replies on the second connection free its slots; the refill goes to it alone, again in one write.
        try secondChannel.writeInbound(secondChannel.allocator.buffer(string: "+OK\r\n$-1\r\n+OK\r\n"))
        #expect(try Self.writes(firstChannel).isEmpty)
        let refill = try Self.writes(secondChannel)
        #expect(refill.count == 1 && gets(refill[0]) == 3)
        #expect(worker.core.histograms.count(.read, .ok) == 2 && worker.core.histograms.count(.read, .notFound) == 1)
        #expect(worker.stagedFor == -1 && worker.staged.count == 0, "nothing is left staged after a pump")
    }

    /// Fails every write on its channel at once with an error, as a reset socket would (the connection then
    /// fails its operations and closes).
    final class FailingWrites: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        struct WriteFailed: Error {}
        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            promise?.fail(WriteFailed())
            context.fireErrorCaught(WriteFailed())
        }
    }

    /// A connection whose write fails while the worker is dispatching to the next connection: its operations
    /// end as errors, and the operation being dispatched still goes out with its own key (the failure does not
    /// draw further operations in the middle of it), the other connection's batch in one write.
    @Test func aWriteFailingMidDispatchLeavesTheOperationBeingSentIntact() throws {
        let (worker, first, firstChannel) = try Self.connectedWorker(depth: 4, operations: 100, start: false)
        try firstChannel.pipeline.syncOperations.addHandler(FailingWrites(), position: .first)
        let (second, secondChannel) = try Self.addConnection(to: worker, loop: firstChannel.embeddedEventLoop)
        worker.begin()
        firstChannel.embeddedEventLoop.run()
        #expect(!first.alive && first.count == 0)
        #expect(worker.core.histograms.count(.read, .error) == 4)
        let writes = try Self.writes(secondChannel)
        #expect(writes.count == 1)
        let written = writes.joined()
        // Each GET's key is the key of the operation in that pipeline slot.
        let lines = written.components(separatedBy: "\r\n")
        let sentKeys = lines.indices.filter { $0 >= 1 && lines[$0 - 1] == "GET" }.map { lines[$0 + 1] }
        let slotKeys = (0..<second.count).map { i -> String in
            let keyNumber = second.ring[second.advanced(second.head, by: i)].keyNumber
            return withUnsafeTemporaryAllocation(byteCount: worker.keyNamer.maximumLength, alignment: 1) { buffer in
                String(decoding: buffer[0..<worker.keyNamer.write(keyNumber: keyNumber, into: buffer)], as: UTF8.self)
            }
        }
        #expect(second.count == 4 && sentKeys == slotKeys)
    }

    @Test func everyOperationKindIsStagedAsItsRESPCommandAndFlushedInOneWrite() throws {
        let (worker, connection, channel) = try Self.connectedWorker(depth: 8, operations: 100, start: false)
        #expect(try Self.sentGets(channel) == 0)
        let namer = KeyNamer(prefix: "user", hashed: false)
        let key = Array("user42".utf8)
        // Larger than the staging area's first allocation, so the batch also makes it grow mid-command.
        let value = (0..<5000).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        func op(_ kind: OperationKind, scan: Int = 0) -> InFlightOperation {
            InFlightOperation(operation: Operation(kind: kind, keyNumber: 42, keyLength: key.count, scanLength: scan),
                              intended: 0, sent: 0, measured: false)
        }
        let staged = worker.staged
        worker.stagedFor = 0
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                for kind in [OperationKind.read, .update, .insert, .readModifyWrite, .delete] {
                    connection.send(op(kind), key: k, value: kind == .read || kind == .delete ? UnsafeRawBufferPointer(start: nil, count: 0) : v,
                                    keyNamer: namer, into: staged)
                }
                connection.send(op(.scan, scan: 3), key: k, value: UnsafeRawBufferPointer(start: nil, count: 0), keyNamer: namer,
                                into: staged)
            }
        }
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing is written before the flush")
        worker.flushStaged()
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "one write for the whole batch")
        var expected = ByteBuffer()
        let v = String(decoding: value, as: UTF8.self)
        expected.writeRESPCommand("GET", "user42")
        expected.writeRESPCommand("SET", "user42", v)
        expected.writeRESPCommand("SET", "user42", v)
        expected.writeRESPCommand("GET", "user42")
        expected.writeRESPCommand("SET", "user42", v)
        expected.writeRESPCommand("DEL", "user42")
        expected.writeRESPCommand("MGET", "user42", "user43", "user44")
        #expect(written == expected)
        #expect(connection.count == 6 && staged.count == 0)
    }

    /// Keys and values of changing lengths, inside and outside what the remembered bulk headers cover (2…99,999
    /// bytes), one after another on one connection: every command is exactly the plain encoder's.
    @Test func commandsStayExactAsKeyAndValueLengthsChange() throws {
        let (worker, connection, channel) = try Self.connectedWorker(depth: 64, operations: 100, start: false)
        let namer = KeyNamer(prefix: "user", hashed: false)
        let keys = ["user42", "user42", "k", "user1234567890123456789", "user42", "", "user7"].map { Array($0.utf8) }
        let valueLengths = [100, 100, 0, 1, 2, 99_999, 100_000, 100, 3]
        let staged = worker.staged
        worker.stagedFor = 0
        var expected = ByteBuffer()
        for (i, key) in keys.enumerated() {
            for (j, length) in valueLengths.enumerated() where (i + j) % 2 == 0 || length == 100 {
                let value = (0..<length).map { UInt8(ascii: "a") + UInt8(($0 + i) % 26) }
                let kind: OperationKind = j % 3 == 0 ? .read : .update
                let op = InFlightOperation(operation: Operation(kind: kind, keyNumber: 42, keyLength: key.count),
                                           intended: 0, sent: 0, measured: false)
                key.withUnsafeBytes { k in
                    value.withUnsafeBytes { v in
                        connection.send(op, key: k, value: kind == .read ? UnsafeRawBufferPointer(start: nil, count: 0) : v,
                                        keyNamer: namer, into: staged)
                    }
                }
                if kind == .read {
                    expected.writeRESPCommand("GET", String(decoding: key, as: UTF8.self))
                } else {
                    expected.writeRESPCommand("SET", String(decoding: key, as: UTF8.self), String(decoding: value, as: UTF8.self))
                }
                worker.flushStaged()
                worker.stagedFor = 0
                connection.head = 0
                connection.count = 0
            }
        }
        var written = ByteBuffer()
        while var chunk = try channel.readOutbound(as: ByteBuffer.self) { written.writeBuffer(&chunk) }
        #expect(written.readableBytes == expected.readableBytes)
        #expect(written == expected)
    }
}
