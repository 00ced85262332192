import KVCluster
import KVPeer
import Logging
import NIOCore
import NIOPosix
import Testing

/// What a transport told its delegate, in order.
enum Recorded: Sendable, Equatable {
    case up(NodeID, clientAddress: String, dialed: PeerAddress)
    case down(NodeID)
    case message(PeerMessage, from: NodeID)
}

/// The delegate of a test transport: records every callback (on the loop).
final class Recorder: PeerTransportDelegate {
    var events: [Recorded] = []
    func peerUp(_ node: NodeID, clientAddress: String, dialed: PeerAddress) {
        events.append(.up(node, clientAddress: clientAddress, dialed: dialed))
    }
    func peerDown(_ node: NodeID) { events.append(.down(node)) }
    func peerMessage(_ message: PeerMessage, from node: NodeID) { events.append(.message(message, from: node)) }

    var ups: [Recorded] { events.filter { if case .up = $0 { true } else { false } } }
    var downs: Int { events.count { if case .down = $0 { true } else { false } } }
    var messages: [PeerMessage] { events.compactMap { if case let .message(m, _) = $0 { m } else { nil } } }
}

/// A transport on a test loop, driven from async test code through `run`.
final class TestNode: Sendable {
    let loop: any EventLoop
    let id: NodeID
    private let state: NIOLoopBound<(PeerTransport, Recorder)>
    let port: Int

    var address: PeerAddress { PeerAddress(host: "127.0.0.1", port: port) }

    static let quiet = Logger(label: "kvpeer-test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func fastConfiguration(secret: String? = nil) -> PeerTransportConfiguration {
        var c = PeerTransportConfiguration()
        c.secret = secret.map { Array($0.utf8) }
        c.reconnectInitialDelay = .milliseconds(10)
        c.reconnectMaxDelay = .milliseconds(100)
        // Long: on a loaded machine a test task can wait seconds for a thread between connecting and sending,
        // and a handshake timeout then would refuse what the test meant to send (the timeout has its own test).
        c.handshakeTimeout = .seconds(60)
        return c
    }

    init(loop: any EventLoop, id: NodeID, configuration: PeerTransportConfiguration, port: Int = 0) async throws {
        self.loop = loop
        self.id = id
        let (state, bound) = try await loop.flatSubmit {
            let transport = PeerTransport(loop: loop, nodeID: id, clientAddress: "\(id).client:6379",
                                          configuration: configuration, logger: TestNode.quiet)
            let recorder = Recorder()
            transport.delegate = recorder
            let state = NIOLoopBound((transport, recorder), eventLoop: loop)
            return transport.listen(host: "127.0.0.1", port: port).map { (state, $0) }
        }.get()
        self.state = state
        self.port = bound
    }

    /// Runs `body` on the loop with the transport and its recorder.
    func run<T: Sendable>(_ body: @escaping @Sendable (PeerTransport, Recorder) throws -> T) async throws -> T {
        try await loop.submit { [state] in try body(state.value.0, state.value.1) }.get()
    }

    func close() async throws {
        try await loop.flatSubmit { [state] in state.value.0.close() }.get()
    }

    /// Polls until `condition` holds (a liveness bound, not a timing assertion: it fails only if the
    /// condition never becomes true within a generous 20 s).
    func waitUntil(_ what: String, _ condition: @escaping @Sendable (PeerTransport, Recorder) -> Bool) async throws {
        for _ in 0..<2000 {
            if try await run(condition) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("\(id): never happened: \(what)")
        throw CancellationError()
    }
}

/// A raw TCP client: sends bytes, collects what comes back until the server closes the connection.
final class RawCollector: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private var received = ByteBuffer()
    private let done: EventLoopPromise<ByteBuffer>

    init(done: EventLoopPromise<ByteBuffer>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(received)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Connects to `port`, writes `bytes`, and returns everything received once the server has closed.
func rawExchange(loop: any EventLoop, port: Int, bytes: ByteBuffer) async throws -> ByteBuffer {
    let done = loop.makePromise(of: ByteBuffer.self)
    let channel = try await ClientBootstrap(group: loop)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RawCollector(done: done))
            }
        }
        .connect(host: "127.0.0.1", port: port).get()
    // The server may already have closed the connection (e.g. a handshake timeout on a loaded machine):
    // what it sent before closing is what the test checks, so a failed write is not an error here.
    if bytes.readableBytes > 0 { try? await channel.writeAndFlush(bytes) }
    return try await done.futureResult.get()
}

/// Decodes every frame in `bytes`.
func frames(in bytes: ByteBuffer) throws -> [PeerFrame] {
    var decoder = PeerFrameDecoder(maxFrameBytes: 1 << 20)
    decoder.append(bytes)
    var out: [PeerFrame] = []
    while let frame = try decoder.next() { out.append(frame) }
    return out
}

/// A one-thread event loop group shut down when the test ends.
func withLoop(_ body: (any EventLoop) async throws -> Void) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    do {
        try await body(group.next())
    } catch {
        try? await group.shutdownGracefully()
        throw error
    }
    try await group.shutdownGracefully()
}
