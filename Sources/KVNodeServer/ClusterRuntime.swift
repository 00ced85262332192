import KVCluster
import KVClusterShell
import KVPeer
import KVStorage
import Logging
import NIOCore

/// The cluster half of a node process: the shell that drives the `ClusterNode`, the durable store it
/// uses, and the peer transport, all on one event loop. It listens for peers on the client port plus
/// the peer-port offset and dials every other seed at the same offset; the transport's events become
/// the shell's membership and failure-detector input.
final class ClusterRuntime: @unchecked Sendable {
    let settings: ClusterSettings
    let shell: ClusterShell
    let loop: EventLoop
    let logger: Logger
    private let transport: PeerTransport
    private let clientHost: String
    private let clientPort: Int
    /// Seed client address for each dialed peer address.
    private var seedForPeer: [PeerAddress: String] = [:]
    /// A flush is queued to run once the loop has handled the current round of I/O.
    private var flushQueued = false
    /// Publishes the transport's counters for INFO.
    private var statsTask: RepeatedTask?

    init(settings: ClusterSettings, configuration: NodeConfiguration, engine: StorageEngine, loop: EventLoop,
         logger: Logger) {
        self.settings = settings
        self.loop = loop
        self.logger = logger
        clientHost = configuration.host
        clientPort = configuration.port
        let advertised = settings.advertisedAddress ?? "\(configuration.host):\(configuration.port)"
        let store = StorageLocalStore(engine: engine, logger: logger)
        shell = ClusterShell(loop: loop, self: ClusterMember(id: settings.nodeID, clientAddress: advertised),
                             seeds: settings.seeds, config: settings.config, store: store, logger: logger,
                             antiEntropy: settings.antiEntropy, membership: settings.membership)
        shell.joinTargets = settings.join
        var peerConfig = PeerTransportConfiguration()
        peerConfig.secret = settings.secret.map { Array($0.utf8) }
        peerConfig.connectionsPerPeer = settings.connectionsPerPeer
        peerConfig.tls = settings.peerTLS
        peerConfig.maxFrameBytes = configuration.maxBulkLength + (2 << 20)
        // Outgoing peer connections leave from the address the node listens on (unless it listens on all).
        if !["0.0.0.0", "::", "localhost"].contains(configuration.host) { peerConfig.localAddress = configuration.host }
        transport = PeerTransport(loop: loop, nodeID: settings.nodeID, clientAddress: advertised,
                                  configuration: peerConfig, logger: logger)
    }

    /// Listens for peers, dials the other seeds, and starts the shell.
    func start() async throws {
        try await loop.submit { self.wire() }.get()
        if clientPort > 0 {
            let peerPort = clientPort + settings.peerPortOffset
            let bound = try await loop.flatSubmit { self.transport.listen(host: self.clientHost, port: peerPort) }.get()
            logger.info("listening for peers", metadata: ["host": "\(clientHost)", "port": "\(bound)",
                                                          "authenticated": "\(settings.secret != nil)",
                                                          "tls": "\(settings.peerTLS != nil)"])
        }
        try await loop.submit {
            for (peer, _) in self.seedForPeer { self.transport.dial(peer) }
            self.shell.start()
        }.get()
    }

    private func wire() {
        transport.delegate = self
        shell.link = self
        let me = "\(clientHost):\(clientPort)"
        for seed in settings.seeds where seed != (settings.advertisedAddress ?? me) {
            guard let (host, port) = ClusterSettings.parseAddress(seed) else { continue }
            seedForPeer[PeerAddress(host: host, port: port + settings.peerPortOffset)] = seed
        }
    }

    func stop() async throws {
        try await loop.flatSubmit {
            self.statsTask?.cancel()
            self.shell.stop()
            return self.transport.close()
        }.get()
    }

    /// Copies the peer transport's counters into `context.peerStats` now and every 250 ms (on the loop,
    /// where the transport lives), so `INFO` reads them without touching the transport.
    func publishPeerStats(to context: NodeContext) {
        loop.execute {
            context.peerStats.withLock { $0 = self.transport.stats }
            self.statsTask = self.loop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { _ in
                context.peerStats.withLock { $0 = self.transport.stats }
            }
        }
    }
}

extension ClusterRuntime: PeerTransportDelegate, ClusterPeerLink {
    func peerUp(_ node: NodeID, clientAddress: String, dialed: PeerAddress) {
        guard let seed = seedForPeer[dialed] else {
            logger.warning("peer \(node) at \(dialed) is not one of the seeds")
            return
        }
        logger.debug("peer up", metadata: ["peer": "\(node)", "address": "\(seed)"])
        shell.peerUp(node, seedAddress: seed)
    }

    func peerDown(_ node: NodeID) {
        logger.warning("peer down", metadata: ["peer": "\(node)"])
        shell.peerDown(node)
    }

    func peerAccepted(_ node: NodeID, clientAddress: String) {
        shell.peerIntroduced(node, clientAddress: clientAddress)
    }

    /// Dials a member learned while running (a join target, a member that joined, one gossiped about).
    func connect(clientAddress: String) {
        guard let (host, port) = ClusterSettings.parseAddress(clientAddress),
              clientAddress != (settings.advertisedAddress ?? "\(clientHost):\(clientPort)") else { return }
        let peer = PeerAddress(host: host, port: port + settings.peerPortOffset)
        guard seedForPeer[peer] == nil else { return }
        seedForPeer[peer] = clientAddress
        transport.dial(peer)
    }

    func peerMessage(_ message: PeerMessage, from node: NodeID) {
        shell.peerMessage(message, from: node)
    }

    func send(_ message: PeerMessage, to node: NodeID) -> Bool {
        transport.send(message, to: node)
    }

    /// Defers the flush to the end of the loop's current round: every message the round produced (for
    /// all the client requests and peer frames read in it) leaves in one write per connection.
    func flush() {
        guard !flushQueued else { return }
        flushQueued = true
        loop.execute {
            self.flushQueued = false
            self.transport.flush()
        }
    }
}
