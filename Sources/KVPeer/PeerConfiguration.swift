import KVTLS
import NIOCore

/// A peer's listening endpoint.
public struct PeerAddress: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Settings of a `PeerTransport`.
public struct PeerTransportConfiguration: Sendable {
    /// The shared cluster secret; nil: no authentication (and peers that demand it are refused).
    public var secret: [UInt8]? = nil
    /// Outbound connections kept to each dialed peer.
    public var connectionsPerPeer: Int = 2
    /// Largest frame accepted or sent (type byte plus payload).
    public var maxFrameBytes: Int = 520 << 20
    /// Bytes queued (not yet written to the socket) per connection beyond which `send` drops and returns false.
    public var maxQueuedBytesPerConnection: Int = 64 << 20
    public var reconnectInitialDelay: TimeAmount = .milliseconds(50)
    public var reconnectMaxDelay: TimeAmount = .seconds(2)
    public var connectTimeout: TimeAmount = .seconds(1)
    public var handshakeTimeout: TimeAmount = .seconds(3)
    /// Local address outgoing peer connections bind to (nil: the system chooses). kvnode sets it to the
    /// address it listens on, so a peer's traffic carries its own source address (firewall rules, and
    /// partitions in tests of several nodes on 127.0.0.x, can then tell the nodes apart).
    public var localAddress: String? = nil
    /// TLS on every peer link (nil: plain TCP). The shared-secret handshake runs inside it either way.
    public var tls: PeerTLS? = nil

    public init() {}
}

/// TLS on peer links: every node presents its certificate, both when it accepts and when it dials, and
/// checks the other side's against the cluster's CA (mutual TLS; names are not checked, since peers are
/// dialed by address and identified by their chain and then by node id and secret).
public struct PeerTLS: Sendable {
    public var server: TLSServer
    public var client: TLSClient

    /// `files` needs a certificate, its key and the CA certificates (`role` names the setting in errors).
    public init(files: TLSFiles, role: String = "peer TLS") throws(TLSSetupError) {
        guard files.trustRoots != nil else {
            throw TLSSetupError("\(role): peers check each other's certificates: give the CA certificates they chain to")
        }
        server = try TLSServer(files: files, requireClientCertificates: true, role: role)
        client = try TLSClient(files: files, verification: .chainOnly, role: role)
    }
}

/// Counters for INFO.
public struct PeerTransportStats: Sendable, Equatable {
    public var framesIn = 0
    public var framesOut = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var messagesIn = 0
    public var messagesOut = 0
    /// TCP connections opened (dialed and accepted).
    public var connectionsOpened = 0
    /// Connections whose handshake succeeded.
    public var connectionsEstablished = 0
    /// Dial attempts that failed to connect.
    public var connectFailures = 0
    /// Refused or timed-out handshakes, by reason.
    public var handshakeFailures = HandshakeFailureCounts()
    /// Invalid frames (oversize, empty, unknown type) after the handshake.
    public var framingErrors = 0
    /// MESSAGE payloads that did not decode.
    public var decodeErrors = 0
    /// `send` calls that returned false (no connection up, queue full, or message too large).
    public var droppedSends = 0

    public init() {}

    /// The counters as `INFO` fields (`peer_…` names, in a fixed order).
    public var infoFields: [(name: String, value: Int)] {
        [
            ("peer_frames_in", framesIn), ("peer_frames_out", framesOut),
            ("peer_bytes_in", bytesIn), ("peer_bytes_out", bytesOut),
            ("peer_messages_in", messagesIn), ("peer_messages_out", messagesOut),
            ("peer_connections_opened", connectionsOpened), ("peer_connections_established", connectionsEstablished),
            ("peer_connect_failures", connectFailures),
            ("peer_handshake_failures_auth", handshakeFailures.auth),
            ("peer_handshake_failures_version", handshakeFailures.version),
            ("peer_handshake_failures_timeout", handshakeFailures.timeout),
            ("peer_handshake_failures_malformed", handshakeFailures.malformed),
            ("peer_handshake_failures_identity", handshakeFailures.identity),
            ("peer_handshake_failures_transport", handshakeFailures.transport),
            ("peer_framing_errors", framingErrors), ("peer_decode_errors", decodeErrors),
            ("peer_dropped_sends", droppedSends),
        ]
    }

    /// Handshake failures per `PeerHandshakeFailure`.
    public struct HandshakeFailureCounts: Sendable, Equatable {
        public var auth = 0
        public var version = 0
        public var timeout = 0
        public var malformed = 0
        public var identity = 0
        /// Connections that failed with an I/O or TLS error (a certificate that does not verify) before
        /// the handshake finished.
        public var transport = 0

        public init() {}

        public var total: Int { auth + version + timeout + malformed + identity + transport }

        public mutating func count(_ failure: PeerHandshakeFailure) {
            switch failure {
            case .auth: auth += 1
            case .version: version += 1
            case .timeout: timeout += 1
            case .malformed: malformed += 1
            case .identity: identity += 1
            }
        }
    }
}

/// Reconnect delays: exponential from the initial delay, capped, with jitter (pure: the caller supplies
/// the random fraction).
public enum PeerBackoff {
    /// The delay before reconnect attempt `attempt` (0 = first retry): `min(max, initial · 2^attempt)`,
    /// scaled into [½, 1] of that by `unitRandom` ∈ [0, 1].
    public static func delay(attempt: Int, initial: TimeAmount, max: TimeAmount, unitRandom: Double) -> TimeAmount {
        let cap = Swift.max(initial.nanoseconds, max.nanoseconds)
        var base = Swift.max(initial.nanoseconds, 1)
        var n = 0
        while n < attempt, base < cap {
            base = base > cap / 2 ? cap : base * 2
            n += 1
        }
        base = Swift.min(base, cap)
        let fraction = 0.5 + 0.5 * Swift.min(Swift.max(unitRandom, 0), 1)
        return .nanoseconds(Int64(Double(base) * fraction))
    }
}
