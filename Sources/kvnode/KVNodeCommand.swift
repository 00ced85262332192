import ArgumentParser
import KVNodeServer
import KVPeer
import KVStorage
import KVTLS
import Logging
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `kvnode`: the KVBench reference store node. Speaks RESP, so redis-cli, redis-benchmark and any
/// Redis client can use it.
@main
struct KVNodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvnode",
        abstract: "The KVBench reference key-value store node (RESP protocol, durable log-structured storage).",
        discussion: """
        Listens on 127.0.0.1 unless --host says otherwise. Data lives in --data-dir as append-only log \
        segments; a restart replays them (using hint files written by merges). SIGTERM or SIGINT stop the \
        node gracefully: it stops accepting, writes and syncs everything pending, then exits.

        Example:
          kvnode --port 7000 --data-dir /var/lib/kvnode --fsync always --requirepass secret
        """
    )

    @Option(help: "Address to listen on. Binding beyond loopback without --requirepass logs a warning.")
    var host = "127.0.0.1"

    @Option(help: "TCP port for clients (0 picks a free port; it is logged).")
    var port = 7000

    @Option(name: .customLong("data-dir"), help: "Directory for the log segments and hint files (created if missing).")
    var dataDir = "./kvnode-data"

    @Option(help: ArgumentHelp("When writes are acknowledged: always (after fsync, group-committed), everysec (fsync once a second), no (never fsync; the OS decides).", valueName: "always|everysec|no"))
    var fsync: String = "everysec"

    @Option(help: "Password clients must give with AUTH (or HELLO ... AUTH) before other commands.")
    var requirepass: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("TLS on the client port: this node's certificate chain (PEM, leaf first). With --tls-key every client must use TLS.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA certificates (PEM) that client certificates (--tls-auth-clients) and peer certificates (--tls-peers) must chain to.", valueName: "file"))
    var tlsCA: String?

    @Flag(name: .customLong("tls-auth-clients"), help: "TLS: clients must also present a certificate signed by --tls-ca (mutual TLS; --requirepass still applies).")
    var tlsAuthClients = false

    @Flag(name: .customLong("tls-peers"), help: "Cluster: peer links use TLS too, with --tls-cert/--tls-key as this node's identity both ways and peers checked against --tls-ca. The --cluster-secret handshake runs inside it.")
    var tlsPeers = false

    @Option(name: .customLong("max-clients"), help: "Connections beyond this are refused with an error.")
    var maxClients = 10_000

    @Option(help: "Event-loop threads serving clients (default: number of cores).")
    var threads: Int?

    @Option(name: .customLong("max-bulk-len"), help: "Largest bulk string (value, key or argument) a client may send, in bytes.")
    var maxBulkLen = 512 * 1024 * 1024

    @Option(name: .customLong("max-args"), help: "Most arguments a single command may carry.")
    var maxArgs = 1024 * 1024

    @Option(name: .customLong("maxmemory"), help: ArgumentHelp("Refuse writes (-OOM) once the dataset's memory (INFO memory used_memory_dataset) reaches this; reads and deletes keep working. 0 = no limit.", valueName: "bytes|512kb|100mb|2gb"))
    var maxmemory: String = "0"

    @Option(name: .customLong("segment-size"), help: "Log segment size in bytes before rolling to a new file.")
    var segmentSize = 64 << 20

    @Option(name: .customLong("merge-min-dead-bytes"), help: ArgumentHelp("A background merge starts once closed segments hold this many dead bytes (and more than half of them are dead).", valueName: "bytes|512kb|100mb"))
    var mergeMinDeadBytes: String = "512mb"

    @Option(name: .customLong("log-level"), help: ArgumentHelp("Log verbosity.", valueName: "trace|debug|info|notice|warning|error|critical"))
    var logLevel: String = "info"

    @Option(name: .customLong("node-id"), help: "This node's id in a cluster (required with --seeds; stable across restarts).")
    var nodeID: String?

    @Option(help: ArgumentHelp("Cluster mode: client addresses of every member, this node included. Every member must be given the same list.", valueName: "host:port,host:port,..."))
    var seeds: String?

    @Option(help: ArgumentHelp("Cluster: join a running cluster through any of these members (instead of, or besides, --seeds). The node joins with SWIM and its share of the ring streams to it in the background.", valueName: "host:port,..."))
    var join: String?

    @Option(name: .customLong("rebalance-rate"), help: ArgumentHelp("Cluster: rebalancing bandwidth cap per node, value bytes per second streamed to new owners (0: no cap beyond 1024 keys per 250 ms).", valueName: "bytes"))
    var rebalanceRate = 32 << 20

    @Option(name: .customLong("probe-interval-ms"), help: "Cluster: SWIM protocol period (one probe per period; the direct-ack timeout is half of it). Every member should use the same value. (default: 700)")
    var probeIntervalMs: Int?

    @Option(name: .customLong("advertise"), help: ArgumentHelp("Cluster: this node's client address as written in --seeds (default: --host:--port; set it when binding 0.0.0.0).", valueName: "host:port"))
    var advertise: String?

    @Option(name: .customLong("peer-port-offset"), help: "A member's peer port is its client port plus this (same on every member).")
    var peerPortOffset = 10_000

    @Option(name: .customLong("cluster-secret"), help: "Shared secret members prove to each other (challenge-response; never sent).")
    var clusterSecret: String?

    @Option(name: .customLong("replicas"), help: "Cluster: replicas per key (N).")
    var replicas = 3

    @Option(name: .customLong("read-quorum"), help: "Cluster: default read quorum (R); KV.GET ... R n overrides it.")
    var readQuorum = 2

    @Option(name: .customLong("write-quorum"), help: "Cluster: default write quorum (W); KV.PUT ... W n overrides it.")
    var writeQuorum = 2

    @Option(name: .customLong("request-timeout-ms"), help: "Cluster: a request that has not reached its quorum by then fails with a reply naming how many replicas answered.")
    var requestTimeoutMs = 1_000

    @Flag(name: .customLong("read-repair-before-reply"), help: "Cluster: repair stale replicas as soon as the read quorum answered, before replying (default: after the reply).")
    var readRepairBeforeReply = false

    @Flag(name: .customLong("no-hinted-handoff"), help: "Cluster: no hints — a write to a down replica is simply missed (anti-entropy or read repair fixes it later). For experiments.")
    var noHintedHandoff = false

    @Flag(name: .customLong("no-anti-entropy"), help: "Cluster: keep no Merkle trees and run no anti-entropy (saves a digest per write).")
    var noAntiEntropy = false

    @Option(name: .customLong("anti-entropy-interval-ms"), help: "Cluster: period of the background anti-entropy rounds (KV.REPAIR runs one at once).")
    var antiEntropyIntervalMs = 60_000

    @Option(name: .customLong("anti-entropy-rate"), help: "Cluster: most bytes per second anti-entropy may send.")
    var antiEntropyRate = 4 << 20

    @Flag(name: .customLong("last-write-wins"), help: "Cluster: keep only the newest write (by timestamp) instead of siblings. Concurrent writes are silently lost.")
    var lastWriteWins = false

    func validate() throws {
        guard FsyncPolicy(rawValue: fsync) != nil else {
            throw ValidationError("--fsync must be one of always, everysec, no (got '\(fsync)')")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard maxClients > 0 else { throw ValidationError("--max-clients must be positive") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        guard maxBulkLen > 0, maxArgs > 0 else { throw ValidationError("limits must be positive") }
        guard segmentSize >= 4096 else { throw ValidationError("--segment-size must be at least 4096") }
        guard MemorySize.parse(mergeMinDeadBytes) != nil else {
            throw ValidationError("--merge-min-dead-bytes: '\(mergeMinDeadBytes)' is not a size (bytes, or with kb/mb/gb)")
        }
        if seeds != nil || join != nil {
            guard let nodeID, !nodeID.isEmpty, nodeID.utf8.count <= 255, !nodeID.contains(" ") else {
                throw ValidationError("--seeds and --join need --node-id (1-255 bytes, no spaces)")
            }
            for (flag, list) in [("--seeds", seeds), ("--join", join)] {
                for s in (list ?? "").split(separator: ",") where ClusterSettings.parseAddress(String(s)) == nil {
                    throw ValidationError("\(flag): '\(s)' is not host:port")
                }
            }
            guard rebalanceRate >= 0 else { throw ValidationError("--rebalance-rate must be >= 0") }
            if let p = probeIntervalMs, !(100...60_000).contains(p) {
                throw ValidationError("--probe-interval-ms must be 100...60000")
            }
            guard (1...64).contains(replicas), (1...replicas).contains(readQuorum), (1...replicas).contains(writeQuorum) else {
                throw ValidationError("need 1 <= --read-quorum, --write-quorum <= --replicas <= 64")
            }
            guard port > 0, port + peerPortOffset <= 65535, peerPortOffset > 0 else {
                throw ValidationError("cluster mode needs a fixed --port with --port + --peer-port-offset <= 65535")
            }
            guard requestTimeoutMs > 0 else { throw ValidationError("--request-timeout-ms must be positive") }
            guard antiEntropyIntervalMs > 0, antiEntropyRate > 0 else {
                throw ValidationError("--anti-entropy-interval-ms and --anti-entropy-rate must be positive")
            }
            if let advertise, ClusterSettings.parseAddress(advertise) == nil {
                throw ValidationError("--advertise: '\(advertise)' is not host:port")
            }
        } else if nodeID != nil {
            throw ValidationError("--node-id needs --seeds (the members' client addresses) or --join")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if tlsAuthClients, tlsCert == nil || tlsCA == nil {
            throw ValidationError("--tls-auth-clients needs --tls-cert, --tls-key and --tls-ca")
        }
        if tlsPeers {
            guard seeds != nil || join != nil else { throw ValidationError("--tls-peers is for cluster members (--seeds or --join)") }
            guard tlsCert != nil, tlsCA != nil else { throw ValidationError("--tls-peers needs --tls-cert, --tls-key and --tls-ca") }
        }
        guard MemorySize.parse(maxmemory) != nil else {
            throw ValidationError("--maxmemory must be bytes or a size like 512kb, 100mb, 2gb (got '\(maxmemory)')")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "kvnode")
        raiseOpenFileLimit(logger: logger)

        var config = NodeConfiguration()
        config.host = host
        config.port = port
        config.dataDirectory = dataDir
        config.fsync = FsyncPolicy(rawValue: fsync) ?? .everysec
        config.requirePassword = requirepass
        let tlsFiles = TLSFiles(certificateChain: tlsCert, privateKey: tlsKey, trustRoots: tlsCA)
        do {
            if tlsCert != nil {
                config.tls = try TLSServer(files: tlsFiles, requireClientCertificates: tlsAuthClients, role: "--tls-cert")
            }
        } catch {
            logger.critical("could not start: \(error)")
            throw ExitCode(1)
        }
        config.maxClients = maxClients
        if let threads { config.threads = threads }
        config.maxBulkLength = maxBulkLen
        config.maxArguments = maxArgs
        config.segmentSizeLimit = segmentSize
        config.mergeMinDeadBytes = MemorySize.parse(mergeMinDeadBytes)!
        if let bytes = MemorySize.parse(maxmemory), bytes > 0 { config.maxMemoryBytes = bytes }
        config.logLevel = level
        if seeds != nil || join != nil, let nodeID {
            let me = advertise ?? "\(host):\(port)"
            var cluster = ClusterSettings(nodeID: nodeID, seeds: seeds?.split(separator: ",").map(String.init) ?? [me])
            cluster.join = join?.split(separator: ",").map(String.init) ?? []
            if rebalanceRate > 0 {
                cluster.config.rebalanceBytesPerTick = max(1, rebalanceRate / 1000 * Int(cluster.config.handoffInterval))
            }
            if let p = probeIntervalMs {
                cluster.membership.probeInterval = UInt64(p)
                cluster.membership.probeTimeout = UInt64(p / 2)
            }
            cluster.peerPortOffset = peerPortOffset
            cluster.advertisedAddress = advertise
            cluster.secret = clusterSecret
            if tlsPeers {
                do {
                    cluster.peerTLS = try PeerTLS(files: tlsFiles, role: "--tls-peers")
                } catch {
                    logger.critical("could not start: \(error)")
                    throw ExitCode(1)
                }
            }
            cluster.config.n = replicas
            cluster.config.r = readQuorum
            cluster.config.w = writeQuorum
            cluster.config.requestTimeout = UInt64(requestTimeoutMs)
            cluster.config.lastWriteWins = lastWriteWins
            cluster.config.repairBeforeReply = readRepairBeforeReply
            if noHintedHandoff {
                cluster.config.hintCapacity = 0
                cluster.config.coordinatorHints = false
            }
            if noAntiEntropy {
                cluster.antiEntropy = nil
            } else {
                cluster.antiEntropy?.interval = UInt64(antiEntropyIntervalMs)
                cluster.antiEntropy?.bytesPerSecond = antiEntropyRate
            }
            config.cluster = cluster
        }

        let server = NodeServer(configuration: config, logger: logger)
        do {
            try await server.start()
        } catch {
            logger.critical("could not start: \(error)")
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            services: [server],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }

    /// Lifts the soft open-file limit to the hard limit so many clients can connect (as Redis does).
    private func raiseOpenFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return }
        let wanted = min(limit.rlim_max, rlim_t(maxClients + 128))
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            if setrlimit(RLIMIT_NOFILE_VALUE, &limit) != 0 {
                logger.warning("could not raise the open-file limit to \(wanted)")
            }
        }
    }
}

#if canImport(Glibc)
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#endif
