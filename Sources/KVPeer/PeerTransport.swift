import KVCluster
import Logging
import NIOCore
import NIOPosix

/// What the transport tells its owner (the cluster shell). Called on the transport's loop.
public protocol PeerTransportDelegate: AnyObject {
    /// The first outbound connection to this peer finished its handshake (also after a reconnect).
    func peerUp(_ node: NodeID, clientAddress: String, dialed: PeerAddress)
    /// The last outbound connection to this peer was lost (only after a peerUp).
    func peerDown(_ node: NodeID)
    /// A message arrived from an authenticated peer (on any of its connections, inbound or outbound).
    func peerMessage(_ message: PeerMessage, from node: NodeID)
    /// An inbound connection finished its handshake: the peer's id and the client address it announced
    /// (a node that joined after this one started is learned this way, then dialed back).
    func peerAccepted(_ node: NodeID, clientAddress: String)
}

extension PeerTransportDelegate {
    public func peerAccepted(_ node: NodeID, clientAddress: String) {}
}

/// One of the `connectionsPerPeer` outbound connections kept to a dialed address.
final class PeerDialSlot {
    let address: PeerAddress
    /// The connection currently serving the slot (connecting, handshaking or established).
    var connection: PeerConnection?
    /// Failed attempts since the last established connection (drives the backoff).
    var attempt = 0
    var reconnect: Scheduled<Void>?

    init(address: PeerAddress) { self.address = address }
}

/// Which of a peer's connections a message prefers. Request traffic keeps to one connection, so a
/// flush writes one frame batch per peer (one syscall on each side, in order); bulk traffic (anti-entropy,
/// handoff, rebalancing transfers) takes another, so a large frame never queues a request behind it —
/// the split Cassandra makes between its small-, large- and urgent-message connections.
enum PeerLane {
    case interactive
    case bulk

    init(_ message: PeerMessage) {
        switch message {
        case .antiEntropy, .handoff, .handoffAck, .transfer, .transferAck: self = .bulk
        case .stampPut, .stamped, .replicate, .replicated, .get, .got, .repair, .reapTombstones, .membership:
            self = .interactive
        }
    }

    /// Index of the preferred connection among `count`: the first for requests, the last for bulk.
    func preferred(of count: Int) -> Int { self == .interactive ? 0 : count - 1 }
}

/// The node-to-node network of kvnode: accepts peers, keeps authenticated outbound connections to the
/// dialed ones (reconnecting with backoff), and carries `PeerMessage`s as binary frames. Everything — calls,
/// callbacks, channels — runs on one event loop, so it needs no locks. Wire format: PeerFraming.swift.
public final class PeerTransport {
    public let loop: any EventLoop
    public let nodeID: NodeID
    public let clientAddress: String
    public let configuration: PeerTransportConfiguration
    public weak var delegate: (any PeerTransportDelegate)?

    /// Counters for INFO.
    public internal(set) var stats = PeerTransportStats()

    private let logger: Logger
    private var servers: [any Channel] = []
    private var slots: [PeerAddress: [PeerDialSlot]] = [:]
    /// Each peer's established outbound connections, oldest first.
    private var routes: [NodeID: [PeerConnection]] = [:]
    private var live: [ObjectIdentifier: PeerConnection] = [:]
    private var dirty: [PeerConnection] = []
    private var flushing: [PeerConnection] = []
    private var isClosed = false
    /// The message encoded last and its bytes: a coordinator sends the same `replicate` (or `get`) to
    /// each replica in a row, and it is encoded once. Dropped at `flush()`.
    private var lastEncoded: (message: PeerMessage, payload: [UInt8])?

    public init(loop: any EventLoop, nodeID: NodeID, clientAddress: String, configuration: PeerTransportConfiguration,
                logger: Logger) {
        self.loop = loop
        self.nodeID = nodeID
        self.clientAddress = clientAddress
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "node-id"] = "\(nodeID)"
        self.logger = logger
    }

    /// Node ids with at least one live outbound connection.
    public var connectedPeers: [NodeID] { Array(routes.keys) }

    /// Starts accepting peers (ServerBootstrap on `loop` only); returns the bound port (port 0 = any free one).
    public func listen(host: String, port: Int) -> EventLoopFuture<Int> {
        loop.preconditionInEventLoop()
        let bound = NIOLoopBound(self, eventLoop: loop)
        return ServerBootstrap(group: loop)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let transport = bound.value
                    try transport.configuration.tls?.server.addHandler(to: channel)
                    try channel.pipeline.syncOperations.addHandler(transport.makeConnection(slot: nil))
                }
            }
            .bind(host: host, port: port)
            .assumeIsolated()
            .map { channel in
                let transport = bound.value
                if transport.isClosed {
                    channel.close(promise: nil)
                } else {
                    transport.servers.append(channel)
                    transport.logger.info("listening for peers", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
                }
                return channel.localAddress?.port ?? port
            }
            .nonisolated()
    }

    /// Keeps `connectionsPerPeer` authenticated outbound connections to `address`, reconnecting with
    /// exponential backoff (with jitter) forever, until `close()`. Dialing the same address twice is a no-op.
    public func dial(_ address: PeerAddress) {
        loop.preconditionInEventLoop()
        guard !isClosed, slots[address] == nil else { return }
        let group = (0..<max(1, configuration.connectionsPerPeer)).map { _ in PeerDialSlot(address: address) }
        slots[address] = group
        for slot in group { connect(slot) }
    }

    /// Queues a message on the peer's outbound connection for its lane (`PeerLane`), or on another one
    /// when that one's queue is full; false when none is up or every queue is full (the caller's quorum
    /// logic copes). Not flushed until `flush()`.
    @discardableResult
    public func send(_ message: PeerMessage, to node: NodeID) -> Bool {
        loop.assertInEventLoop()
        guard let connections = routes[node], !connections.isEmpty else {
            stats.droppedSends += 1
            return false
        }
        let payload: [UInt8]
        if !Self.fansOut(message) {
            payload = ClusterCoding.encode(message)
        } else if lastEncoded?.message == message {
            payload = lastEncoded!.payload
        } else {
            payload = ClusterCoding.encode(message)
            lastEncoded = (message, payload)
        }
        if payload.count + 1 <= configuration.maxFrameBytes {
            let count = connections.count
            let first = PeerLane(message).preferred(of: count)
            for i in 0..<count {
                let connection = connections[(first + i) % count]
                guard connection.enqueue(payload) else { continue }
                if !connection.isDirty {
                    connection.isDirty = true
                    dirty.append(connection)
                }
                stats.messagesOut += 1
                stats.framesOut += 1
                stats.bytesOut += payload.count + PeerFraming.headerBytes
                return true
            }
        } else {
            logger.error("peer message too large to send", metadata: ["bytes": "\(payload.count)", "node": "\(node)"])
        }
        stats.droppedSends += 1
        return false
    }

    /// Messages a coordinator sends to several replicas in a row (worth keeping encoded); answers go
    /// to one node, and comparing them with the last message would only cost copies.
    private static func fansOut(_ message: PeerMessage) -> Bool {
        switch message {
        case .replicate, .get, .repair, .reapTombstones, .membership: return true
        case .stampPut, .stamped, .replicated, .got, .handoff, .handoffAck, .transfer, .transferAck, .antiEntropy:
            return false
        }
    }

    /// Flushes every connection that has queued frames (the shell calls it once per batch of effects).
    public func flush() {
        loop.assertInEventLoop()
        lastEncoded = nil
        guard !dirty.isEmpty else { return }
        swap(&dirty, &flushing)
        for connection in flushing {
            connection.isDirty = false
            connection.flushPending()
        }
        flushing.removeAll(keepingCapacity: true)
    }

    /// Closes the listener and every connection; stops reconnecting.
    public func close() -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        isClosed = true
        for group in slots.values {
            for slot in group {
                slot.reconnect?.cancel()
                slot.reconnect = nil
            }
        }
        var futures: [EventLoopFuture<Void>] = servers.map { $0.close() }
        servers.removeAll()
        for connection in live.values {
            if let f = connection.close() { futures.append(f) }
        }
        return EventLoopFuture.andAllComplete(futures, on: loop)
    }

    // MARK: Dialing

    private func connect(_ slot: PeerDialSlot) {
        guard !isClosed else { return }
        let bound = NIOLoopBound((self, slot), eventLoop: loop)
        var bootstrap = ClientBootstrap(group: loop)
        if let local = configuration.localAddress, let address = try? SocketAddress(ipAddress: local, port: 0) {
            bootstrap = bootstrap.bind(to: address)
        }
        bootstrap
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let (transport, slot) = bound.value
                    let connection = transport.makeConnection(slot: slot)
                    slot.connection = connection
                    try transport.configuration.tls?.client.addHandler(to: channel, host: slot.address.host)
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
            .connect(host: slot.address.host, port: slot.address.port)
            .assumeIsolated()
            .whenFailure { error in
                let (transport, slot) = bound.value
                transport.stats.connectFailures += 1
                transport.logger.debug("peer connect failed", metadata: ["address": "\(slot.address)", "error": "\(error)"])
                slot.connection = nil
                transport.scheduleReconnect(slot)
            }
    }

    private func scheduleReconnect(_ slot: PeerDialSlot) {
        guard !isClosed, slot.reconnect == nil, slot.connection == nil else { return }
        let delay = PeerBackoff.delay(attempt: slot.attempt, initial: configuration.reconnectInitialDelay,
                                      max: configuration.reconnectMaxDelay, unitRandom: Double.random(in: 0...1))
        slot.attempt += 1
        slot.reconnect = loop.assumeIsolated().scheduleTask(in: delay) { [self] in
            slot.reconnect = nil
            connect(slot)
        }
    }

    // MARK: Connection callbacks

    func makeConnection(slot: PeerDialSlot?) -> PeerConnection {
        var rng = SystemRandomNumberGenerator()
        var nonce: [UInt8] = []
        nonce.reserveCapacity(PeerHello.nonceBytes)
        for _ in 0..<(PeerHello.nonceBytes / 8) {
            withUnsafeBytes(of: rng.next() as UInt64) { nonce += $0 }
        }
        let handshake = PeerHandshake(role: slot == nil ? .acceptor : .dialer, nodeID: nodeID, clientAddress: clientAddress,
                                      secret: configuration.secret, nonce: nonce)
        var connectionLogger = logger
        connectionLogger[metadataKey: "peer-role"] = slot == nil ? "accepted" : "dialed"
        return PeerConnection(owner: self, slot: slot, handshake: handshake, configuration: configuration,
                              logger: connectionLogger)
    }

    /// A connection became active; false: the transport is closed, refuse it.
    func connectionOpened(_ connection: PeerConnection) -> Bool {
        guard !isClosed else { return false }
        live[ObjectIdentifier(connection)] = connection
        stats.connectionsOpened += 1
        return true
    }

    func connectionEstablished(_ connection: PeerConnection, hello: PeerHello) {
        stats.connectionsEstablished += 1
        guard let slot = connection.slot else {
            logger.debug("accepted peer connection", metadata: ["node": "\(hello.nodeID)"])
            delegate?.peerAccepted(hello.nodeID, clientAddress: hello.clientAddress)
            return
        }
        slot.attempt = 0
        routes[hello.nodeID, default: []].append(connection)
        if routes[hello.nodeID]?.count == 1 {
            logger.info("peer up", metadata: ["node": "\(hello.nodeID)", "address": "\(slot.address)"])
            delegate?.peerUp(hello.nodeID, clientAddress: hello.clientAddress, dialed: slot.address)
        }
    }

    func connectionClosed(_ connection: PeerConnection, wasEstablished: Bool) {
        live[ObjectIdentifier(connection)] = nil
        guard let slot = connection.slot else { return }
        if wasEstablished, let node = connection.nodeID, var connections = routes[node] {
            connections.removeAll { $0 === connection }
            routes[node] = connections.isEmpty ? nil : connections
            if connections.isEmpty && !isClosed {
                logger.info("peer down", metadata: ["node": "\(node)"])
                delegate?.peerDown(node)
            }
        }
        if slot.connection === connection {
            slot.connection = nil
            scheduleReconnect(slot)
        }
    }

    func deliver(_ message: PeerMessage, from node: NodeID) {
        stats.messagesIn += 1
        delegate?.peerMessage(message, from: node)
    }
}
