import KVCluster
import KVClusterShell
import KVStorage
import Logging
import NIOCore

/// The cluster half of a node process: the shell that drives the `ClusterNode`, the durable store it
/// uses, and (once wired) the peer transport, all on one event loop.
final class ClusterRuntime: @unchecked Sendable {
    let settings: ClusterSettings
    let shell: ClusterShell
    let loop: EventLoop
    let logger: Logger

    init(settings: ClusterSettings, configuration: NodeConfiguration, engine: StorageEngine, loop: EventLoop,
         logger: Logger) {
        self.settings = settings
        self.loop = loop
        self.logger = logger
        let advertised = settings.advertisedAddress ?? "\(configuration.host):\(configuration.port)"
        let store = StorageLocalStore(engine: engine, logger: logger)
        shell = ClusterShell(loop: loop, self: ClusterMember(id: settings.nodeID, clientAddress: advertised),
                             seeds: settings.seeds, config: settings.config, store: store, logger: logger)
    }

    /// Starts the shell (and the peer transport).
    func start() async throws {
        let shell = self.shell
        try await loop.submit { shell.start() }.get()
    }

    func stop() async throws {
        let shell = self.shell
        try await loop.submit { shell.stop() }.get()
    }
}
