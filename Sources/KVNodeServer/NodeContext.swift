import KVClusterShell
import KVPeer
import KVStorage
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The state every connection of a node shares: configuration, storage engine, statistics and the
/// process facts `INFO` reports. Immutable apart from atomics and the engine's own synchronisation.
public final class NodeContext: Sendable {
    public let configuration: NodeConfiguration
    public let engine: StorageEngine
    public let stats: NodeStats
    public let logger: Logger
    /// The cluster shell in cluster mode (`--seeds`); nil for a standalone node.
    public let cluster: ClusterShell?
    /// The peer transport's counters as last published by its loop (cluster mode), for `INFO cluster`.
    public let peerStats = Mutex(PeerTransportStats())
    public let startedAtMillis: Int64
    public let runID: String
    /// Port actually bound (differs from the configured one when that was 0).
    public let boundPort = Atomic<Int>(0)
    /// `--maxmemory`: whether commands that add data are refused.
    public let memoryLimit: MemoryLimit
    let lastSaveMillis = Atomic<Int64>(0)

    public init(configuration: NodeConfiguration, engine: StorageEngine, logger: Logger, cluster: ClusterShell? = nil) {
        self.configuration = configuration
        self.cluster = cluster
        self.engine = engine
        self.stats = NodeStats(shardCount: configuration.threads)
        self.logger = logger
        memoryLimit = MemoryLimit(maxBytes: configuration.maxMemoryBytes) { [engine] in
            let s = engine.stats()
            return s.keyBytes + s.valueBytes + s.indexBytes
        }
        let now = StorageConfiguration.wallClockMillis()
        startedAtMillis = now
        lastSaveMillis.store(now, ordering: .relaxed)
        var rng = SystemRandomNumberGenerator()
        runID = (0..<40).map { _ in String(UInt8.random(in: 0..<16, using: &rng), radix: 16) }.joined()
    }

    /// Compares a presented password with the configured one in time independent of where they differ.
    func passwordMatches(_ presented: [UInt8]) -> Bool {
        guard let expected = configuration.requirePassword else { return false }
        let e = Array(expected.utf8)
        var diff = UInt8(truncatingIfNeeded: e.count ^ presented.count)
        for i in 0..<max(e.count, presented.count) {
            let a = i < e.count ? e[i] : 0
            let b = i < presented.count ? presented[i] : 0
            diff |= a ^ b
        }
        return diff == 0
    }
}

/// Wall-clock time at microsecond resolution, for TIME (milliseconds come from
/// `StorageConfiguration.wallClockMillis`, the clock the storage engine uses).
public enum Clock {
    public static func nowMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }
}
