import Foundation
import KVAntiEntropy
import KVCluster
import KVClusterShell
import KVLoad
import KVStorage
import Logging
import NIOCore
import NIOPosix

/// A whole Dynamo cluster inside this process: `nodes` `ClusterShell`s — the same shells, cores and
/// storage engines `kvnode` runs — each on its own event loop, with one storage engine per node under
/// `directory`, joined by an in-memory peer link instead of TCP. It is what `kvbench`'s default
/// `embedded` binding drives: quorums, version vectors, replication and anti-entropy all run, only
/// the sockets are gone.
///
/// Members are static (every node is a seed of the others); gossip and failure detection still run
/// over the in-memory link. Thread-safe: each shell is only touched on its own loop.
public final class InProcessCluster: @unchecked Sendable {
    /// Node ids, `n1`…`nN`, in index order.
    public let ids: [NodeID]
    /// The replication settings every node runs with.
    public let config: ClusterConfig
    /// The shells, by index (touch one only on its `loop`).
    public let shells: [ClusterShell]
    /// Where the nodes' data lives (`n1/`, `n2/`…).
    public var directory: String { data.path }
    private let data: DataDirectory
    private let group: MultiThreadedEventLoopGroup
    private let engines: [StorageEngine]
    private var placement: Placement?
    private let indexOf: [NodeID: Int]
    /// The peer links (each shell holds its own weakly).
    private var links: [InProcessLink] = []

    /// Opens (or creates) the nodes' stores under `directory` (nil: a new temporary directory, removed by
    /// `shutdown`), starts every shell and waits until each coordinates. `config` nil: the cluster defaults
    /// fitted to `nodes` (`defaultConfig(nodes:)`).
    public init(nodes: Int, directory: String? = nil, fsync: FsyncPolicy = .no, config: ClusterConfig? = nil,
                antiEntropy: AntiEntropyConfig? = AntiEntropyConfig(), logLevel: Logger.Level = .warning) throws {
        precondition(nodes >= 1, "a cluster needs a node")
        let config = config ?? Self.defaultConfig(nodes: nodes)
        self.config = config
        data = DataDirectory(directory, temporaryPrefix: "kvbench-cluster")
        ids = (1...nodes).map { "n\($0)" }
        indexOf = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let addresses = ids.map(Self.address)
        group = MultiThreadedEventLoopGroup(numberOfThreads: nodes)
        var logger = Logger(label: "kvbench.embedded")
        logger.logLevel = logLevel
        var engines: [StorageEngine] = []
        var shells: [ClusterShell] = []
        do {
            for id in ids {
                let nodeDirectory = "\(data.path)/\(id)"
                try FileManager.default.createDirectory(atPath: nodeDirectory, withIntermediateDirectories: true)
                var storage = StorageConfiguration(directory: nodeDirectory)
                storage.fsync = fsync
                let engine = try StorageEngine(configuration: storage, logger: logger)
                engines.append(engine)
                let store = StorageLocalStore(engine: engine, logger: logger)
                shells.append(ClusterShell(loop: group.next(), self: ClusterMember(id: id, clientAddress: Self.address(id)),
                                           seeds: addresses, config: config, store: store, logger: logger,
                                           antiEntropy: antiEntropy))
            }
        } catch {
            for engine in engines { try? engine.close() }
            try? group.syncShutdownGracefully()
            throw error
        }
        self.engines = engines
        self.shells = shells
        let byID = Dictionary(uniqueKeysWithValues: shells.map { ($0.nodeID, $0) })
        links = shells.map { InProcessLink(from: $0, peers: byID) }
        for (shell, link) in zip(shells, links) { shell.link = link }
        let all = shells
        do {
            for shell in all {
                try shell.loop.submit {
                    shell.start()
                    for other in all where other !== shell { shell.peerUp(other.nodeID, seedAddress: Self.address(other.nodeID)) }
                }.wait()
            }
            try waitUntilReady()
        } catch {
            try? shutdown()
            throw error
        }
    }

    /// The cluster defaults (N=3, R=W=2) with N cut to the number of nodes and R, W to N.
    public static func defaultConfig(nodes: Int) -> ClusterConfig {
        var config = ClusterConfig()
        config.n = min(config.n, nodes)
        config.r = min(config.r, config.n)
        config.w = min(config.w, config.n)
        return config
    }

    /// A node's name in the membership (it has no socket: the address only identifies it).
    static func address(_ id: NodeID) -> String { "in-process:\(id)" }

    private func waitUntilReady() throws {
        let deadline = Date().addingTimeInterval(30)
        while true {
            let placements = try shells.map { shell in try shell.loop.submit { shell.placement }.wait() }
            if placements.allSatisfy({ $0 != nil }) {
                placement = placements[0]
                return
            }
            if Date() > deadline { throw InProcessClusterError.notReady(ids) }
            usleep(5_000)
        }
    }

    /// Index (in `ids`) of the first replica of `key`: the node that should coordinate it.
    public func owner(of key: [UInt8]) -> Int {
        guard let placement, let first = placement.primaries(for: key).first, let i = indexOf[first] else { return 0 }
        return i
    }

    /// Runs `requests` on node `index` and returns its answers (blocks the calling thread; never call it
    /// on one of the cluster's loops).
    public func call(_ requests: [ClientRequest], on index: Int, waiter: Waiter) -> [ClusterAnswer] {
        let shell = shells[index]
        shell.submit(requests, on: shell.loop) { answers in waiter.put(answers) }
        return waiter.take()
    }

    /// Stops every shell, closes the engines, stops the loops and, for a temporary directory, removes it.
    public func shutdown() throws {
        for shell in shells { try shell.loop.submit { shell.stop() }.wait() }
        var firstError: Error?
        for engine in engines {
            do { try engine.close() } catch { if firstError == nil { firstError = error } }
        }
        try group.syncShutdownGracefully()
        data.removeIfTemporary()
        if let firstError { throw firstError }
    }

    /// Hands one call's answers from a cluster loop to the thread that waits for them.
    public final class Waiter: @unchecked Sendable {
        private let condition = NSCondition()
        private var answers: [ClusterAnswer]?

        public init() {}

        func put(_ answers: [ClusterAnswer]) {
            condition.lock()
            self.answers = answers
            condition.signal()
            condition.unlock()
        }

        func take() -> [ClusterAnswer] {
            condition.lock()
            defer { condition.unlock() }
            while answers == nil { condition.wait() }
            let result = answers!
            answers = nil
            return result
        }
    }
}

/// Why an in-process cluster did not start.
public enum InProcessClusterError: Error, CustomStringConvertible {
    case notReady([NodeID])

    public var description: String {
        switch self {
        case .notReady(let ids): return "the in-process cluster (\(ids.joined(separator: ", "))) did not become ready within 30 s"
        }
    }
}

/// One node's peer link in an `InProcessCluster`: messages to a peer are gathered on the sender's loop
/// and handed to the receiver's loop as one task per flush (so nothing is handled re-entrantly, and a
/// round of messages costs one cross-thread hop per peer, as one write per peer does over TCP). Like the
/// TCP transport it sends only when the shell flushes, which the shell does after every round of sends.
/// Confined to the sending shell's loop.
final class InProcessLink: ClusterPeerLink, @unchecked Sendable {
    private let from: NodeID
    private let peers: [NodeID: ClusterShell]
    private var outbox: [NodeID: [PeerMessage]] = [:]

    init(from shell: ClusterShell, peers: [NodeID: ClusterShell]) {
        from = shell.nodeID
        self.peers = peers.filter { $0.key != shell.nodeID }
    }

    func send(_ message: PeerMessage, to node: NodeID) -> Bool {
        guard peers[node] != nil else { return false }
        outbox[node, default: []].append(message)
        return true
    }

    func flush() {
        guard !outbox.isEmpty else { return }
        let batches = outbox
        outbox.removeAll(keepingCapacity: true)
        for (node, messages) in batches {
            guard let peer = peers[node] else { continue }
            let from = self.from
            peer.loop.execute { for m in messages { peer.peerMessage(m, from: from) } }
        }
    }
}
