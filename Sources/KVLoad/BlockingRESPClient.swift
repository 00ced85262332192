import NIOCore
import NIOPosix
import RESP

/// A request/response RESP client for chores (cluster discovery, a scenario's probes of its nodes):
/// one command at a time, waiting for its reply. Not for the measured path. A call that times out
/// closes the connection.
public final class BlockingRESPClient: Sendable {
    private let channel: Channel
    private let handler: ReplyCollector
    let timeout: TimeAmount

    private init(channel: Channel, handler: ReplyCollector, timeout: TimeAmount) {
        self.channel = channel
        self.handler = handler
        self.timeout = timeout
    }

    /// Connects within `timeout` through `connector` (TLS and AUTH when it has them); every call then
    /// waits at most `timeout` for its reply. A refused AUTH throws, quoting the server's error.
    public static func connect(host: String, port: Int, group: EventLoopGroup, timeout: TimeAmount = .seconds(5),
                               connector: RESPConnector = .plain) throws -> BlockingRESPClient {
        let channel = try connector.channel(host: host, port: port, group: group, timeout: timeout)
        let handler = ReplyCollector()
        do {
            try channel.eventLoop.submit { try channel.pipeline.syncOperations.addHandler(handler) }.wait()
        } catch {
            channel.close(promise: nil)
            throw error
        }
        let client = BlockingRESPClient(channel: channel, handler: handler, timeout: timeout)
        if let auth = connector.authCommand {
            let reply: RESPValue
            do {
                reply = try client.call(auth)
            } catch {
                client.close()
                throw error
            }
            if case .error(let message) = reply {
                client.close()
                throw LoadError.binding("\(host):\(port) refused AUTH: \(String(buffer: message))")
            }
        }
        return client
    }

    /// Hands the connection over (after connecting and authenticating) to a caller's own handler: removes
    /// this client's reply handler and returns the channel. Call with no command outstanding.
    public func detach() throws -> Channel {
        let channel = self.channel
        let handler = self.handler
        try channel.pipeline.removeHandler(handler).wait()
        return channel
    }

    /// False once the connection closed (a timed-out call closes it).
    public var isActive: Bool { channel.isActive }

    /// Sends `arguments` as one command and waits for its reply.
    public func call(_ arguments: [String]) throws -> RESPValue {
        try call(describedAs: arguments.joined(separator: " ")) { $0.writeRESPCommand(arguments) }
    }

    /// Sends binary `arguments` (an opaque causal context, say) as one command and waits for its reply.
    public func call(bytes arguments: [ByteBuffer]) throws -> RESPValue {
        try call(describedAs: arguments.first.map { String(buffer: $0) } ?? "") { $0.writeRESPCommand(arguments) }
    }

    private func call(describedAs what: String, _ encode: @escaping @Sendable (inout ByteBuffer) -> Void) throws -> RESPValue {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: RESPValue.self)
        let handler = self.handler
        let channel = self.channel
        loop.execute {
            handler.waiting.append(promise)
            var buffer = channel.allocator.buffer(capacity: 64)
            encode(&buffer)
            channel.writeAndFlush(buffer, promise: nil)
        }
        let limit = self.timeout
        let timeout = loop.scheduleTask(in: limit) {
            guard let i = handler.waiting.firstIndex(where: { $0.futureResult === promise.futureResult }) else { return }
            handler.waiting.remove(at: i)
            promise.fail(LoadError.binding("no reply to \(what) within \(limit.nanoseconds / 1_000_000) ms"))
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        return try promise.futureResult.wait()
    }

    /// Sends `commands` pipelined (one write) and waits for all their replies, in order.
    public func callAll(_ commands: [[String]]) throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let loop = channel.eventLoop
        let handler = self.handler
        let channel = self.channel
        let promises = commands.map { _ in loop.makePromise(of: RESPValue.self) }
        loop.execute {
            handler.waiting.append(contentsOf: promises)
            var buffer = channel.allocator.buffer(capacity: 64 * commands.count)
            for command in commands { buffer.writeRESPCommand(command) }
            channel.writeAndFlush(buffer, promise: nil)
        }
        let limit = self.timeout
        let timeout = loop.scheduleTask(in: limit) {
            let ours = Set(promises.map { ObjectIdentifier($0.futureResult) })
            let unanswered = handler.waiting.filter { ours.contains(ObjectIdentifier($0.futureResult)) }
            handler.waiting.removeAll { ours.contains(ObjectIdentifier($0.futureResult)) }
            for p in unanswered { p.fail(LoadError.binding("no reply to \(commands.count) pipelined commands within \(limit.nanoseconds / 1_000_000) ms")) }
            channel.close(promise: nil)
        }
        defer { timeout.cancel() }
        return try promises.map { try $0.futureResult.wait() }
    }

    public func close() { channel.close(promise: nil) }
}

/// Parses replies and completes the oldest waiting promise with each. Confined to its channel's loop.
final class ReplyCollector: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
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
