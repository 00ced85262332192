import Glibc
import KVAntiEntropy
import KVCluster
import KVClusterShell
import KVStorage
import Logging
import NIOCore
import NIOPosix

/// Several cluster shells on one event loop, joined by an in-memory network that delivers each
/// message as a separate loop task (so nothing is handled re-entrantly). Storage is real: one
/// engine per node in a temporary directory.
final class ShellCluster: @unchecked Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    var loop: EventLoop { group.any() }
    let root: String
    let ids: [NodeID]
    let fsync: FsyncPolicy
    let config: ClusterConfig
    private(set) var shells: [NodeID: ClusterShell] = [:]
    private(set) var engines: [NodeID: StorageEngine] = [:]
    private var links: [NodeID: Link] = [:]
    /// Nodes cut off from everyone (messages to and from them are dropped).
    var isolated: Set<NodeID> = []

    final class Link: ClusterPeerLink {
        let from: NodeID
        unowned let net: ShellCluster
        init(from: NodeID, net: ShellCluster) {
            self.from = from
            self.net = net
        }

        func send(_ message: PeerMessage, to node: NodeID) -> Bool {
            guard !net.isolated.contains(from), !net.isolated.contains(node), net.shells[node] != nil else { return false }
            let from = self.from
            net.loop.execute { [net] in net.shells[node]?.peerMessage(message, from: from) }
            return true
        }

        func flush() {}
    }

    let antiEntropy: AntiEntropyConfig

    init(nodes: Int, fsync: FsyncPolicy = .no, config: ClusterConfig = ClusterConfig(),
         antiEntropy: AntiEntropyConfig = AntiEntropyConfig()) throws {
        self.antiEntropy = antiEntropy
        var template = Array("/tmp/kvshell-test.XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        root = String(cString: p!)
        ids = (1...nodes).map { "n\($0)" }
        self.fsync = fsync
        self.config = config
        for id in ids { try open(id) }
        try loop.submit {
            for id in self.ids { self.shells[id]!.start() }
            for a in self.ids { for b in self.ids where a != b { self.shells[a]!.peerUp(b, seedAddress: self.address(b)) } }
        }.wait()
    }

    func address(_ id: NodeID) -> String { "127.0.0.1:\(9000 + Int(id.dropFirst())!)" }

    /// Opens (or reopens) a node's engine and builds its shell (not started).
    private func open(_ id: NodeID) throws {
        var sc = StorageConfiguration(directory: "\(root)/\(id)")
        sc.fsync = fsync
        let engine = try StorageEngine(configuration: sc, logger: Logger(label: "test"))
        engines[id] = engine
        let store = StorageLocalStore(engine: engine, logger: Logger(label: "test"))
        let shell = ClusterShell(loop: loop, self: ClusterMember(id: id, clientAddress: address(id)),
                                 seeds: ids.map(address), config: config, store: store, logger: Logger(label: "test"),
                                 antiEntropy: antiEntropy)
        let link = Link(from: id, net: self)
        links[id] = link
        shell.link = link
        shells[id] = shell
    }

    /// Crashes a node (its shell and engine are dropped without a graceful stop, peers see it go down),
    /// then, when `restart`, opens it again from its data directory.
    func crash(_ id: NodeID) throws {
        try loop.submit {
            self.shells[id]!.stop()
            self.shells[id] = nil
            for other in self.ids where other != id { self.shells[other]?.peerDown(id) }
        }.wait()
        try engines[id]!.close()
    }

    func restart(_ id: NodeID) throws {
        try open(id)
        try loop.submit {
            self.shells[id]!.start()
            for other in self.ids where other != id && self.shells[other] != nil {
                self.shells[id]!.peerUp(other, seedAddress: self.address(other))
                self.shells[other]!.peerUp(id, seedAddress: self.address(id))
            }
        }.wait()
    }

    func ask(_ id: NodeID, _ request: ClientRequest) async -> ClusterAnswer {
        let shell = shells[id]!
        return await withCheckedContinuation { c in
            shell.submit([request], on: shell.loop) { c.resume(returning: $0[0]) }
        }
    }

    func onLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) throws -> T {
        try loop.submit(body).wait()
    }

    func shutdown() throws {
        try loop.submit { for s in self.shells.values { s.stop() } }.wait()
        for e in engines.values { try? e.close() }
        try group.syncShutdownGracefully()
        _ = system("rm -rf '\(root)'")
    }
}
