import DequeModule
import KVStorage
import NIOCore
import RESP

/// One client connection: parses pipelined commands from whatever bytes arrive, runs them through the
/// executor, and writes the replies in order. Replies to writes that must wait for fsync (policy
/// `always`) are held, together with every later reply, until the storage engine says they may go;
/// many connections' writes share one fsync (group commit). Reading pauses while too many reply bytes
/// are waiting or the socket is not writable, so a slow or greedy client cannot exhaust memory.
/// Written replies go out at the end of the event loop's tick, with every other connection's
/// (`ReplyFlusher`).
final class ConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler, ReplyFlusher.Flushable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = Never
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let context: NodeContext
    private let executor: CommandExecutor
    private let notifier: DurabilityNotifier
    private let flusher: ReplyFlusher
    /// Set while this connection waits in `flusher` for the end of the tick (then `flushContext` is its
    /// context: written replies go out in `flushNow`).
    private var flushContext: ChannelHandlerContext?
    private var parser: RESPCommandParser
    private var session: ClientSession
    private var cumulation: ByteBuffer?
    private var out: ByteBuffer
    /// The newest write in the current batch whose reply has to wait for durability.
    private var batchTicket: DurabilityTicket?
    /// Batches of replies waiting, in order, for their ticket to be acknowledgeable (nil = no wait of their
    /// own) or for the cluster shell to answer (`awaitingCluster`).
    private var held = Deque<HeldReplies>()
    /// Position of `held.first` in the sequence of all held batches (cluster answers find their slot by it).
    private var heldHead: UInt64 = 0
    private var heldBytes = 0
    /// Cluster calls in flight; reading pauses at `maxClusterCallsInFlight`.
    private var clusterCalls = 0
    private static let maxClusterCallsInFlight = 1024

    private struct HeldReplies {
        var ticket: DurabilityTicket?
        var replies: ByteBuffer
        var awaitingCluster = false
    }
    private var closeAfterFlush = false
    private var closed = false
    private var readPaused = false
    private var readRequested = false
    private var registered = false

    init(context: NodeContext, statsShard: Int, notifier: DurabilityNotifier, flusher: ReplyFlusher,
         remoteAddress: String, allocator: ByteBufferAllocator) {
        self.context = context
        self.notifier = notifier
        self.flusher = flusher
        self.executor = CommandExecutor(context: context, statsShard: statsShard)
        let c = context.configuration
        self.parser = RESPCommandParser(limits: RESPLimits(
            maxBulkLength: c.maxBulkLength, maxArrayLength: c.maxArguments, maxInlineLength: c.maxInlineLength))
        let id = context.stats.nextClientID.wrappingAdd(1, ordering: .relaxed).oldValue
        self.session = ClientSession(id: id, authenticated: c.requirePassword == nil,
                                     remoteAddress: remoteAddress, connectedAtMillis: StorageConfiguration.wallClockMillis())
        self.out = allocator.buffer(capacity: 1024)
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        let stats = self.context.stats
        stats.connectionsReceived.bump()
        let now = stats.connectedClients.wrappingAdd(1, ordering: .relaxed).newValue
        registered = true
        if now > self.context.configuration.maxClients {
            stats.rejectedConnections.bump()
            out.writeRESPError("ERR max number of clients reached")
            closeAfterFlush = true
            flushReplies(context: context)
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        if registered {
            self.context.stats.connectedClients.wrappingSubtract(1, ordering: .relaxed)
            registered = false
        }
        held.removeAll()
        heldBytes = 0
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        executor.stats.netInputBytes.bump(incoming.readableBytes)
        guard !closeAfterFlush, !closed else { return }
        if var c = cumulation {
            cumulation = nil  // keep the buffer uniquely referenced while appending
            c.writeBuffer(&incoming)
            process(&c, context: context)
            cumulation = c
        } else {
            process(&incoming, context: context)
            cumulation = incoming
        }
        if let c = cumulation {
            if c.readableBytes == 0 {
                cumulation = nil
            } else if c.readerIndex > 64 * 1024 {
                var copy = c
                copy.discardReadBytes()
                cumulation = copy
            }
        }
    }

    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        while !closeAfterFlush {
            let command: RESPCommand?
            do {
                command = try parser.next(from: &buffer)
            } catch {
                executor.stats.protocolErrors.bump()
                out.writeRESPError("ERR \(error.message)")
                closeAfterFlush = true
                return
            }
            guard let command else { return }
            switch executor.execute(command, session: &session, out: &out) {
            case .replied:
                break
            case .awaitDurability(let ticket):
                batchTicket = ticket
            case .close:
                closeAfterFlush = true
            case .awaitCluster(let call):
                startClusterCall(call, context: context)
            }
            if out.readableBytes + heldBytes > self.context.configuration.maxPendingReplyBytes
                || clusterCalls >= Self.maxClusterCallsInFlight {
                // Stop parsing this batch: the rest stays in the cumulation until replies drain.
                endBatch(context: context)
                pauseReading()
                return
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        endBatch(context: context)
        flushAtEndOfTick(context: context)
    }

    /// Registers this connection's written replies for the loop's end-of-tick flush (`ReplyFlusher`).
    private func flushAtEndOfTick(context: ChannelHandlerContext) {
        guard flushContext == nil else { return }
        flushContext = context
        flusher.enqueue(self)
    }

    func flushNow() {
        guard let context = flushContext else { return }
        flushContext = nil
        guard !closed else { return }
        context.flush()
        // Usually the socket took the bytes synchronously and NIO has let go of the buffer: clearing it
        // then reuses its storage instead of allocating a new one for the next batch.
        if out.readableBytes == 0 { out.clear() }
    }

    /// Closes the current batch of replies: sends it now, or holds it behind a pending fsync.
    private func endBatch(context: ChannelHandlerContext) {
        guard out.readableBytes > 0 || closeAfterFlush else { return }
        if let ticket = batchTicket, !self.context.engine.isAcknowledgeable(ticket) {
            hold(ticket: ticket, context: context)
        } else if !held.isEmpty {
            hold(ticket: nil, context: context)
            // The head may already be ready (a cluster answer that arrived while this batch was parsed).
            drainHeld(context: context)
        } else {
            flushReplies(context: context)
        }
        batchTicket = nil
    }

    private func hold(ticket: DurabilityTicket?, context: ChannelHandlerContext) {
        let batch = out
        out = context.channel.allocator.buffer(capacity: 1024)
        held.append(HeldReplies(ticket: ticket, replies: batch))
        heldBytes += batch.readableBytes
        guard let ticket else { return }
        notifier.wait(for: ticket) { [self] result in
            durabilityResolved(result, context: context)
        }
    }

    private func durabilityResolved(_ result: Result<Void, StorageError>, context: ChannelHandlerContext) {
        guard !closed else { return }
        if case .failure(let error) = result {
            // The writes behind these replies are not durable: never acknowledge them.
            self.context.logger.error("closing client \(session.id): write not durable: \(error)")
            held.removeAll()
            heldBytes = 0
            closed = true
            context.close(promise: nil)
            return
        }
        drainHeld(context: context)
    }

    /// Sends held batches from the front while they are ready, in order.
    private func drainHeld(context: ChannelHandlerContext) {
        var wrote = false
        while let first = held.first {
            if first.awaitingCluster { break }
            if let t = first.ticket, !self.context.engine.isAcknowledgeable(t) { break }
            held.removeFirst()
            heldHead &+= 1
            heldBytes -= first.replies.readableBytes
            write(first.replies, context: context)
            wrote = true
        }
        if wrote { flushAtEndOfTick(context: context) }
        if held.isEmpty && closeAfterFlush {
            close(context: context)
        }
        resumeReadingIfPossible(context: context)
    }

    // MARK: Cluster replies

    /// Closes the current batch, reserves the next place in the reply order for the cluster's answer,
    /// and starts the call.
    private func startClusterCall(_ call: ClusterCall, context: ChannelHandlerContext) {
        guard let shell = self.context.cluster else { return }
        if out.readableBytes > 0 || batchTicket != nil {
            hold(ticket: batchTicket, context: context)
            batchTicket = nil
        }
        let slot = heldHead &+ UInt64(held.count)
        held.append(HeldReplies(ticket: nil, replies: ByteBuffer(), awaitingCluster: true))
        clusterCalls += 1
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        call.start(shell: shell, caller: context.eventLoop, version: session.protocolVersion,
                   allocator: context.channel.allocator) { reply in
            let (handler, context) = bound.value
            handler.clusterAnswered(slot: slot, reply: reply, context: context)
        }
    }

    private func clusterAnswered(slot: UInt64, reply: ByteBuffer, context: ChannelHandlerContext) {
        clusterCalls -= 1
        guard !closed, slot >= heldHead else { return }
        let index = Int(slot &- heldHead)
        guard index < held.count, held[index].awaitingCluster else { return }
        held[index].replies = reply
        held[index].awaitingCluster = false
        heldBytes += reply.readableBytes
        drainHeld(context: context)
    }

    private func flushReplies(context: ChannelHandlerContext) {
        if out.readableBytes > 0 {
            write(out, context: context)
            out.moveReaderIndex(to: out.writerIndex)
        }
        if closeAfterFlush && held.isEmpty {
            context.flush()
            close(context: context)
        }
    }

    private func write(_ buffer: ByteBuffer, context: ChannelHandlerContext) {
        executor.stats.netOutputBytes.bump(buffer.readableBytes)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func close(context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        context.close(promise: nil)
    }

    // MARK: Back-pressure

    private func pauseReading() {
        readPaused = true
    }

    private func resumeReadingIfPossible(context: ChannelHandlerContext) {
        guard readPaused, context.channel.isWritable,
              heldBytes < self.context.configuration.maxPendingReplyBytes / 2,
              clusterCalls < Self.maxClusterCallsInFlight / 2 else { return }
        readPaused = false
        // Parse what is already buffered before asking the socket for more.
        if var c = cumulation {
            cumulation = nil
            process(&c, context: context)
            cumulation = c.readableBytes > 0 ? c : nil
            endBatch(context: context)
            context.flush()
        }
        if readRequested && !readPaused {
            readRequested = false
            context.read()
        }
    }

    func read(context: ChannelHandlerContext) {
        if readPaused || !context.channel.isWritable {
            readPaused = true
            readRequested = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            resumeReadingIfPossible(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Connection resets and the like: drop the client, keep serving the others.
        close(context: context)
    }
}
