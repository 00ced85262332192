import KVTLS
import NIOCore
import NIOPosix
import RESP

/// How kvbench opens a connection to a RESP server: TCP, then a TLS handshake when `tls` is set, then
/// `AUTH` when a password is set. Every connection of a run (discovery, the measured connections,
/// probes) goes through the same connector, so a run against a secured server needs no other change.
public struct RESPConnector: Sendable {
    /// TLS settings (nil: plain TCP).
    public var tls: TLSClient?
    /// ACL user for `AUTH user password` (nil: `AUTH password`, the default user).
    public var username: String?
    /// Password sent with `AUTH` on every new connection (nil: no AUTH).
    public var password: String?

    public init(tls: TLSClient? = nil, username: String? = nil, password: String? = nil) {
        self.tls = tls
        self.username = username
        self.password = password
    }

    /// Plain TCP, no AUTH.
    public static let plain = RESPConnector()

    /// Connects within `timeout` and completes the TLS handshake (a certificate that does not verify fails
    /// here, naming why). The channel has no RESP handler yet.
    func channel(host: String, port: Int, group: EventLoopGroup, timeout: TimeAmount) throws -> Channel {
        let channel = try ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port).wait()
        guard let tls else { return channel }
        let loop = channel.eventLoop
        let limit = loop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { limit.cancel() }
        do {
            // Added to the connected channel, the TLS handler starts its handshake at once.
            try loop.flatSubmit {
                do {
                    return try tls.addHandlerAwaitingHandshake(to: channel, host: host)
                } catch {
                    return loop.makeFailedFuture(error)
                }
            }.wait()
        } catch {
            channel.close(promise: nil)
            throw LoadError.binding("TLS handshake with \(host):\(port) failed: \(error)")
        }
        return channel
    }

    /// The `AUTH` command for this connector's credentials; nil when there is no password.
    var authCommand: [String]? {
        guard let password else { return nil }
        if let username { return ["AUTH", username, password] }
        return ["AUTH", password]
    }
}
