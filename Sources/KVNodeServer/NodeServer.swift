import KVClusterShell
import KVStorage
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A `kvnode` process's server: opens the storage engine (running recovery), listens for RESP clients
/// on SwiftNIO event loops, and on graceful shutdown stops accepting, drains and syncs the log, and
/// closes every connection. Runs as a ServiceLifecycle `Service`.
public final class NodeServer: Service, Sendable {
    public let configuration: NodeConfiguration
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var group: MultiThreadedEventLoopGroup?
        var serverChannel: Channel?
        var context: NodeContext?
        var cluster: ClusterRuntime?
        var children: [ObjectIdentifier: Channel] = [:]
        var stopped = false
    }

    public init(configuration: NodeConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Opens storage and binds; returns the bound port. Separate from `run()` so tests can start a node
    /// in-process and learn its port.
    @discardableResult
    public func start() async throws -> Int {
        var storageConfig = StorageConfiguration(directory: configuration.dataDirectory)
        storageConfig.fsync = configuration.fsync
        storageConfig.shardCount = configuration.storageShards
        storageConfig.segmentSizeLimit = configuration.segmentSizeLimit
        storageConfig.mergeMinDeadBytes = configuration.mergeMinDeadBytes
        storageConfig.maxValueBytes = configuration.maxBulkLength
        if configuration.cluster != nil {
            // A stored object is the value plus its version metadata (and possibly siblings).
            storageConfig.maxValueBytes = configuration.maxBulkLength + (1 << 20)
        }
        storageConfig.clock = configuration.clock
        let logger = self.logger
        storageConfig.onFatalError = { error in
            // A failed fsync or write means acknowledged durability can no longer be promised.
            logger.critical("fatal storage error, exiting: \(error)")
            exit(70)
        }
        let engine = try StorageEngine(configuration: storageConfig, logger: logger)
        let report = engine.recoveryReport
        logger.info("storage opened", metadata: [
            "dir": "\(configuration.dataDirectory)", "keys": "\(report.keysLoaded)",
            "records": "\(report.recordsReplayed)", "hints": "\(report.hintFilesUsed)",
            "truncated_tails": "\(report.truncatedTails.count)", "corrupt": "\(report.corruptRecords.count)",
            "ms": "\(report.durationNanos / 1_000_000)",
        ])
        for corrupt in report.corruptRecords {
            logger.error("corrupt record in log: \(corrupt)")
        }
        for tail in report.truncatedTails {
            logger.warning("truncated torn tail: \(tail)")
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        let cluster = configuration.cluster.map { settings in
            ClusterRuntime(settings: settings, configuration: configuration, engine: engine,
                           loop: group.any(), logger: logger)
        }
        let context = NodeContext(configuration: configuration, engine: engine, logger: logger, cluster: cluster?.shell)
        cluster?.publishPeerStats(to: context)
        var loopIndex: [ObjectIdentifier: Int] = [:]
        var notifiers: [DurabilityNotifier] = []
        var flushers: [ReplyFlusher] = []
        for (i, loop) in group.makeIterator().enumerated() {
            loopIndex[ObjectIdentifier(loop)] = i
            notifiers.append(DurabilityNotifier(loop: loop, engine: engine))
            flushers.append(ReplyFlusher(loop: loop))
        }
        let shardForLoop = loopIndex
        let notifierForLoop = notifiers
        let flusherForLoop = flushers
        let tls = configuration.tls
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelOption(.allocator, value: ByteBufferAllocator())
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let shard = shardForLoop[ObjectIdentifier(channel.eventLoop)] ?? 0
                    try tls?.addHandler(to: channel)
                    let handler = ConnectionHandler(
                        context: context, statsShard: shard, notifier: notifierForLoop[shard], flusher: flusherForLoop[shard],
                        remoteAddress: channel.remoteAddress?.description ?? "?",
                        allocator: channel.allocator)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self?.track(channel)
                }
            }
        var bound: Channel?
        do {
            bound = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
            try await cluster?.start()
        } catch {
            try? await cluster?.stop()
            try? await bound?.close()
            try? await group.shutdownGracefully()
            try? engine.close()
            throw error
        }
        guard let channel = bound else { throw ChannelError.ioOnClosedChannel }
        let port = channel.localAddress?.port ?? configuration.port
        context.boundPort.store(port, ordering: .relaxed)
        state.withLock {
            $0.group = group
            $0.serverChannel = channel
            $0.context = context
            $0.cluster = cluster
        }
        if configuration.bindsBeyondLoopback && configuration.requirePassword == nil {
            logger.warning("listening on \(configuration.host) without a password: anyone who can reach this address can read and write every key (use --requirepass)")
        }
        let allocator = AllocatorInfo.read()
        logger.info("ready to accept connections", metadata: [
            "host": "\(configuration.host)", "port": "\(port)", "fsync": "\(configuration.fsync.rawValue)",
            "threads": "\(configuration.threads)", "tls": "\(configuration.tls != nil)", "allocator": "\(allocator.name)",
            "jemalloc_is_malloc": "\(allocator.isProcessAllocator)",
        ])
        return port
    }

    private func track(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { s -> Bool in
            guard !s.stopped else { return false }
            s.children[id] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.children.removeValue(forKey: id) }
        }
    }

    /// The node's shared context once started (for in-process tests and tools).
    public var context: NodeContext? { state.withLock { $0.context } }

    /// Runs until graceful shutdown (SIGTERM/SIGINT through ServiceLifecycle), then stops.
    public func run() async throws {
        if context == nil { try await start() }
        try? await gracefulShutdown()
        try await stop()
    }

    /// Stops accepting, closes the log (draining pending writes and fsyncing them), then closes clients.
    public func stop() async throws {
        let (channel, group, context, children, cluster) = state.withLock { s in
            s.stopped = true
            defer { s.serverChannel = nil; s.group = nil; s.cluster = nil }
            return (s.serverChannel, s.group, s.context, Array(s.children.values), s.cluster)
        }
        guard let group else { return }
        try? await channel?.close()
        try? await cluster?.stop()
        if let context {
            do {
                try context.engine.close()
                logger.info("storage flushed and synced")
            } catch {
                logger.error("closing storage failed: \(error)")
            }
        }
        for child in children {
            try? await child.close()
        }
        try await group.shutdownGracefully()
        logger.info("stopped")
    }
}

#if canImport(Glibc)
import Glibc
#endif
