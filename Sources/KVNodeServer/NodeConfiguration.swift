import KVAntiEntropy
import KVCluster
import KVMembership
import KVPeer
import KVStorage
import KVTLS
import Logging
import NIOCore

/// Everything a `kvnode` process is told at start: where to listen, where to keep data, how durable
/// writes are, and the limits that protect it from its clients.
public struct NodeConfiguration: Sendable {
    /// Address to bind. Loopback by default; binding elsewhere without a password logs a warning.
    public var host: String = "127.0.0.1"
    /// TCP port for clients (0 = pick a free one; the bound port is logged and returned by `NodeServer.start`).
    public var port: Int = 7000
    /// Data directory for the log segments and hint files.
    public var dataDirectory: String = "./kvnode-data"
    /// When a write is acknowledged: after fsync (`always`, group-committed), fsync once a second, or never.
    public var fsync: FsyncPolicy = .everysec
    /// Clients must `AUTH` with this password before any other command (nil = no password).
    public var requirePassword: String?
    /// TLS on the client port (nil: plain TCP). When set, every client connection must speak TLS.
    public var tls: TLSServer?
    /// Connections beyond this are refused with `-ERR max number of clients reached`.
    public var maxClients: Int = 10_000
    /// Event-loop threads serving clients.
    public var threads: Int = NIOCore.System.coreCount
    /// Largest bulk string a client may send (Redis's proto-max-bulk-len).
    public var maxBulkLength: Int = 512 * 1024 * 1024
    /// Most arguments in one command.
    public var maxArguments: Int = 1024 * 1024
    /// Largest inline command line.
    public var maxInlineLength: Int = 64 * 1024
    /// Reply bytes queued for one client before the node stops reading from it until the client catches up.
    public var maxPendingReplyBytes: Int = 64 * 1024 * 1024
    /// Commands that add data get `-OOM` once the dataset's memory reaches this many bytes (nil = no limit).
    public var maxMemoryBytes: Int?
    /// Index shards of the storage engine.
    public var storageShards: Int = 16
    /// Segment size at which the log rolls to a new file.
    public var segmentSizeLimit: Int = 64 << 20
    /// Dead bytes in closed segments before a background merge starts (see `StorageConfiguration`).
    public var mergeMinDeadBytes: Int = 512 << 20
    /// Wall clock in ms since the epoch (injectable so tests control expiry).
    public var clock: @Sendable () -> Int64 = StorageConfiguration.wallClockMillis
    /// Log level for the node's logger.
    public var logLevel: Logger.Level = .info
    /// Cluster mode when set: this node's id, the static membership and the peer settings.
    public var cluster: ClusterSettings?

    public init() {}

    /// True when the node listens on something other than loopback.
    public var bindsBeyondLoopback: Bool {
        !(host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127."))
    }
}


/// What makes a node a cluster member: its id, the seed list (client addresses of every member, the
/// static membership), the peer port convention, the shared secret, and the cluster-wide N/R/W.
public struct ClusterSettings: Sendable {
    public var nodeID: String
    /// `host:port` client addresses of all members (this node's own included or not).
    public var seeds: [String]
    /// Client addresses of running members to join through (`--join`); empty for a static cluster.
    public var join: [String] = []
    /// Address this node's peers use to reach its client port (default: `host:port` of the node).
    public var advertisedAddress: String?
    /// A member's peer port is its client port plus this (Redis Cluster's bus convention); same on every node.
    public var peerPortOffset: Int = 10_000
    /// Shared secret peers prove with HMAC challenge-response (never sent); nil = peers unauthenticated.
    public var secret: String?
    /// TLS on peer links, both directions, with certificates checked against the cluster CA (nil: plain TCP).
    public var peerTLS: PeerTLS?
    /// Outbound connections kept per peer.
    public var connectionsPerPeer: Int = 2
    /// N, R, W, timeouts, hints, LWW mode.
    public var config = ClusterConfig()
    /// SWIM failure detection. kvnode's defaults (probe every 700 ms, 350 ms probe timeout, suspicion
    /// 2-3 s) measured with `kvbench simulate-membership --seeds 10000 --probe-interval-ms 700` (5 nodes, 1 %
    /// loss, pauses up to 2 s): crash detected p50 3.2 s, p99 4.9 s; 0 false downs. With a 1.8 s minimum one
    /// seed in 10,000 declared a 2 s pause down (a refutation lost).
    public var membership: MembershipConfig = {
        var m = MembershipConfig()
        m.probeInterval = 700
        m.probeTimeout = 350
        m.suspicionMinTimeout = 2000
        return m
    }()
    /// Merkle-tree anti-entropy (periodic rounds, `KV.REPAIR`); nil turns it off.
    public var antiEntropy: AntiEntropyConfig? = AntiEntropyConfig()

    public init(nodeID: String, seeds: [String]) {
        self.nodeID = nodeID
        self.seeds = seeds
        // Real links carry far more than the simulator's: hand off up to 1024 hints per 250 ms tick.
        config.handoffBatch = 1024
        // TCP neither duplicates nor replays frames and nothing resends a stamp request, so a replica only
        // needs to recognise a duplicate arriving right behind the original: remember the last 4 per key.
        config.rememberedStampsPerKey = 4
    }

    /// Splits `host:port`; nil when malformed.
    public static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port), colon > text.startIndex else { return nil }
        return (String(text[..<colon]), port)
    }
}
