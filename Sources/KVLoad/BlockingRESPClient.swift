import NIOCore
import NIOPosix
import RESP

/// A request/response RESP client for start-up chores (cluster discovery): one command at a time,
/// waiting for its reply. Not for the measured path.
final class BlockingRESPClient: Sendable {
    private let channel: Channel
    private let handler: ReplyCollector
    let timeoutSeconds: Int64

    private init(channel: Channel, handler: ReplyCollector, timeoutSeconds: Int64) {
        self.channel = channel
        self.handler = handler
        self.timeoutSeconds = timeoutSeconds
    }

    static func connect(host: String, port: Int, group: EventLoopGroup, timeoutSeconds: Int64 = 5) throws -> BlockingRESPClient {
        let channel = try ClientBootstrap(group: group)
            .connectTimeout(.seconds(timeoutSeconds))
            .connect(host: host, port: port).wait()
        let handler = ReplyCollector()
        try channel.eventLoop.submit { try channel.pipeline.syncOperations.addHandler(handler) }.wait()
        return BlockingRESPClient(channel: channel, handler: handler, timeoutSeconds: timeoutSeconds)
    }

    /// Sends `arguments` as one command and waits for its reply.
    func call(_ arguments: [String]) throws -> RESPValue {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: RESPValue.self)
        let handler = self.handler
        let channel = self.channel
        loop.execute {
            handler.waiting.append(promise)
            var buffer = channel.allocator.buffer(capacity: 64)
            buffer.writeRESPCommand(arguments)
            channel.writeAndFlush(buffer, promise: nil)
        }
        let seconds = timeoutSeconds
        let timeout = loop.scheduleTask(in: .seconds(seconds)) {
            guard let i = handler.waiting.firstIndex(where: { $0.futureResult === promise.futureResult }) else { return }
            handler.waiting.remove(at: i)
            promise.fail(LoadError.binding("no reply to \(arguments.joined(separator: " ")) within \(seconds) s"))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        return try promise.futureResult.wait()
    }

    func close() { channel.close(promise: nil) }
}

/// Parses replies and completes the oldest waiting promise with each. Confined to its channel's loop.
final class ReplyCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    var waiting: [EventLoopPromise<RESPValue>] = []
    private var parser = RESPValueParser()
    private var buffer = ByteBuffer()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while !waiting.isEmpty, let value = try parser.next(from: &buffer) {
                waiting.removeFirst().succeed(value)
            }
        } catch {
            failAll(LoadError.binding("bad reply: \(error)"))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(LoadError.binding("connection closed"))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(LoadError.binding("connection error: \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        let pending = waiting
        waiting.removeAll()
        for p in pending { p.fail(error) }
    }
}
