import KVCluster
import Logging
import NIOCore

/// One peer connection (dialed or accepted): framing, the handshake, then MESSAGE frames both ways.
/// Lives on the transport's loop; reports to its transport, which it does not keep alive.
final class PeerConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase { case idle, handshaking, established, closed }

    weak var owner: PeerTransport?
    /// The dial slot this connection serves; nil for an accepted connection.
    let slot: PeerDialSlot?
    private(set) var phase = Phase.idle
    /// The peer's HELLO, once the handshake is done.
    private(set) var remote: PeerHello?
    /// In the transport's list of connections to flush.
    var isDirty = false

    private var handshake: PeerHandshake
    private var decoder = PeerFrameDecoder(maxFrameBytes: PeerFrameDecoder.handshakeMaxFrameBytes)
    private let maxFrameBytes: Int
    private let maxQueuedBytes: Int
    private let handshakeTimeout: TimeAmount
    private var logger: Logger
    private var context: ChannelHandlerContext?
    private var timeout: Scheduled<Void>?
    /// Frames queued by `enqueue` and not yet handed to the channel.
    private var pending: ByteBuffer
    /// Bytes handed to the channel and not yet written to the socket.
    private var inFlightBytes = 0

    init(owner: PeerTransport, slot: PeerDialSlot?, handshake: PeerHandshake, configuration: PeerTransportConfiguration,
         logger: Logger) {
        self.owner = owner
        self.slot = slot
        self.handshake = handshake
        self.maxFrameBytes = configuration.maxFrameBytes
        self.maxQueuedBytes = configuration.maxQueuedBytesPerConnection
        self.handshakeTimeout = configuration.handshakeTimeout
        self.logger = logger
        self.pending = ByteBuffer()
    }

    var nodeID: NodeID? { remote?.nodeID }

    /// Closes the channel (whatever the phase); completes once closed.
    func close() -> EventLoopFuture<Void>? {
        guard phase != .closed, let context else { return nil }
        return context.channel.close()
    }

    // MARK: Sending (after the handshake)

    /// Appends one MESSAGE frame to the pending batch; false when not established or the queue is full.
    func enqueue(_ payload: [UInt8]) -> Bool {
        guard phase == .established,
              pending.readableBytes + inFlightBytes + PeerFraming.headerBytes + payload.count <= maxQueuedBytes
        else { return false }
        PeerFraming.write(.message, payload: payload, into: &pending)
        return true
    }

    /// Hands the pending batch to the channel and flushes it.
    func flushPending() {
        guard phase == .established, let context, pending.readableBytes > 0 else { return }
        let count = pending.readableBytes
        let batch = pending
        pending = context.channel.allocator.buffer(capacity: 0)
        inFlightBytes += count
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in inFlightBytes -= count }
        context.writeAndFlush(wrapOutboundOut(batch), promise: promise)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { begin(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        begin(context)
        context.fireChannelActive()
    }

    private func begin(_ context: ChannelHandlerContext) {
        guard phase == .idle else { return }
        phase = .handshaking
        if let address = context.remoteAddress { logger[metadataKey: "peer-address"] = "\(address)" }
        guard let owner, owner.connectionOpened(self) else {
            phase = .closed
            context.close(promise: nil)
            return
        }
        timeout = context.eventLoop.assumeIsolated().scheduleTask(in: handshakeTimeout) { [self] in
            guard phase == .handshaking, let context = self.context else { return }
            refuse(PeerHandshakeError(.timeout, "handshake did not finish within \(handshakeTimeout)"),
                   sending: true, context: context)
        }
        send(handshake.start(), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        owner?.stats.bytesIn += bytes.readableBytes
        decoder.append(bytes)
        while phase == .handshaking || phase == .established {
            let frame: PeerFrame?
            do throws(PeerFrameError) {
                frame = try decoder.next()
            } catch {
                if phase == .handshaking {
                    refuse(PeerHandshakeError(.malformed, error.description), sending: true, context: context)
                } else {
                    owner?.stats.framingErrors += 1
                    logger.warning("closing peer connection: invalid frame", metadata: ["reason": "\(error)"])
                    close(context)
                }
                return
            }
            guard let frame else { return }
            owner?.stats.framesIn += 1
            if phase == .handshaking {
                handshakeFrame(frame, context: context)
            } else {
                establishedFrame(frame, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let was = phase
        phase = .closed
        timeout?.cancel()
        timeout = nil
        if was == .handshaking || was == .established {
            logger.debug("peer connection closed", metadata: ["node": "\(remote?.nodeID ?? "?")"])
            owner?.connectionClosed(self, wasEstablished: was == .established)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if phase == .handshaking || phase == .idle { owner?.stats.handshakeFailures.transport += 1 }
        logger.info("closing peer connection after an I/O error", metadata: ["error": "\(error)"])
        close(context)
    }

    // MARK: Frames

    private func handshakeFrame(_ frame: PeerFrame, context: ChannelHandlerContext) {
        let step = handshake.receive(frame)
        switch step.outcome {
        case .pending:
            send(step, context: context)
        case let .established(hello):
            send(step, context: context)
            phase = .established
            remote = hello
            logger[metadataKey: "node"] = "\(hello.nodeID)"
            timeout?.cancel()
            timeout = nil
            decoder.maxFrameBytes = maxFrameBytes
            owner?.connectionEstablished(self, hello: hello)
        case let .refused(error):
            send(step, context: context)
            refuse(error, sending: false, context: context)
        }
    }

    private func establishedFrame(_ frame: PeerFrame, context: ChannelHandlerContext) {
        guard frame.type == .message else {
            owner?.stats.framingErrors += 1
            let detail = frame.type == .error ? "\(PeerHandshakeError.decode(frame.payload))" : "unexpected \(frame.type) frame"
            logger.warning("closing peer connection", metadata: ["reason": "\(detail)"])
            close(context)
            return
        }
        let message: PeerMessage
        do {
            message = try ClusterCoding.decodePeerMessage(Array(frame.payload.readableBytesView))
        } catch {
            owner?.stats.decodeErrors += 1
            logger.warning("closing peer connection: undecodable message", metadata: ["error": "\(error)"])
            close(context)
            return
        }
        guard let node = remote?.nodeID else { return }
        owner?.deliver(message, from: node)
    }

    /// Ends a failed handshake: counts and logs the reason, optionally tells the peer, closes.
    private func refuse(_ error: PeerHandshakeError, sending: Bool, context: ChannelHandlerContext) {
        owner?.stats.handshakeFailures.count(error.failure)
        // A dial slot retrying against the same misconfigured peer logs the first refusal only at warning.
        let level: Logger.Level = (slot?.attempt ?? 0) > 0 ? .debug : .warning
        logger.log(level: level, "peer handshake refused", metadata: ["reason": "\(error)"])
        if sending {
            var buffer = context.channel.allocator.buffer(capacity: 64)
            PeerFraming.write(.error, payload: error.encode(), into: &buffer)
            owner?.stats.framesOut += 1
            owner?.stats.bytesOut += buffer.readableBytes
            context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        }
        close(context)
    }

    private func send(_ step: PeerHandshake.Step, context: ChannelHandlerContext) {
        guard !step.send.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: 256)
        for (type, payload) in step.send { PeerFraming.write(type, payload: payload, into: &buffer) }
        owner?.stats.framesOut += step.send.count
        owner?.stats.bytesOut += buffer.readableBytes
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func close(_ context: ChannelHandlerContext) {
        guard phase != .closed else { return }
        let was = phase
        phase = .closed
        timeout?.cancel()
        timeout = nil
        if was != .idle { owner?.connectionClosed(self, wasEstablished: was == .established) }
        context.close(promise: nil)
    }
}
