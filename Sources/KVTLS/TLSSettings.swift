import NIOCore
#if TLS
import NIOSSL
import NIOTLS
#endif

/// PEM files that make up a TLS identity and what it trusts, as named on a command line.
public struct TLSFiles: Sendable, Equatable {
    /// Certificate chain, leaf first (PEM).
    public var certificateChain: String?
    /// The leaf certificate's private key (PEM).
    public var privateKey: String?
    /// CA certificates that the other side's certificate must chain to (PEM file or directory).
    public var trustRoots: String?

    public init(certificateChain: String? = nil, privateKey: String? = nil, trustRoots: String? = nil) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.trustRoots = trustRoots
    }

#if TLS
    /// The certificate chain and key, loaded; throws naming the file when one is missing or unreadable.
    func identity(for role: String) throws(TLSSetupError) -> (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource)? {
        switch (certificateChain, privateKey) {
        case (nil, nil):
            return nil
        case (nil, _?), (_?, nil):
            throw TLSSetupError("\(role): a certificate and its private key go together (give both)")
        case (let chainPath?, let keyPath?):
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(chainPath)
            } catch {
                throw TLSSetupError("\(role): cannot load the certificate chain \(chainPath): \(error)")
            }
            guard !chain.isEmpty else { throw TLSSetupError("\(role): \(chainPath) holds no PEM certificate") }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            } catch {
                throw TLSSetupError("\(role): cannot load the private key \(keyPath): \(error)")
            }
            return (chain.map { .certificate($0) }, .privateKey(key))
        }
    }

    /// The trust roots, checked to load; nil: none given.
    func roots(for role: String) throws(TLSSetupError) -> NIOSSLTrustRoots? {
        guard let trustRoots else { return nil }
        do {
            _ = try NIOSSLCertificate.fromPEMFile(trustRoots)
        } catch {
            throw TLSSetupError("\(role): cannot load the CA certificates \(trustRoots): \(error)")
        }
        return .file(trustRoots)
    }
#endif
}

/// A TLS configuration problem found at startup (a missing file, a key without its certificate).
public struct TLSSetupError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }

    /// This binary was built with the package trait `TLS` off.
    static func notBuilt(_ role: String) -> TLSSetupError {
        TLSSetupError("\(role): this binary was built without TLS (package trait TLS off); build with the default traits")
    }
}

/// TLS for the accepting side of a connection: built once from its files, then one handler per
/// accepted channel. TLS 1.2 or later.
public struct TLSServer: Sendable {
    #if TLS
    private let context: NIOSSLContext
    #endif
    /// Whether clients must present a certificate that chains to the trust roots (mutual TLS).
    public let requiresClientCertificates: Bool

    /// `role` names the setting in errors (for example "--tls-cert"). Client certificates are required
    /// (and checked against `files.trustRoots`, which must then be given) when `requireClientCertificates`.
    public init(files: TLSFiles, requireClientCertificates: Bool, role: String = "TLS") throws(TLSSetupError) {
        #if !TLS
        throw TLSSetupError.notBuilt(role)
        #else
        guard let identity = try files.identity(for: role) else {
            throw TLSSetupError("\(role): a server needs a certificate and a private key")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: identity.chain, privateKey: identity.key)
        configuration.minimumTLSVersion = .tlsv12
        if requireClientCertificates {
            guard let roots = try files.roots(for: role) else {
                throw TLSSetupError("\(role): checking client certificates needs the CA certificates they chain to")
            }
            configuration.trustRoots = roots
            // Clients are not named by a host: the chain to our CA is what identifies them.
            configuration.certificateVerification = .noHostnameVerification
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("\(role): \(error)")
        }
        requiresClientCertificates = requireClientCertificates
        #endif
    }

    /// Puts the TLS handler first in `channel`'s pipeline (call on its event loop, before the protocol handler).
    public func addHandler(to channel: Channel) throws {
        #if TLS
        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        #endif
    }
}

/// TLS for the dialing side: built once, then one handler per connection.
public struct TLSClient: Sendable {
    /// How the server's certificate is checked.
    public enum Verification: String, Sendable, CaseIterable {
        /// It chains to the trust roots and names the host dialed (a DNS name, or an IP address SAN).
        case full
        /// It chains to the trust roots; any name (cluster peers, addressed by IP, identified by the chain).
        case chainOnly = "chain-only"
        /// Not checked at all: encryption without authentication (testing only, like redis-cli --insecure).
        case none
    }

    #if TLS
    private let context: NIOSSLContext
    #endif
    public let verification: Verification

    /// Trust roots default to the system's CA bundle when `files.trustRoots` is nil; a client
    /// certificate is presented when `files` has one.
    public init(files: TLSFiles, verification: Verification, role: String = "TLS") throws(TLSSetupError) {
        #if !TLS
        throw TLSSetupError.notBuilt(role)
        #else
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let identity = try files.identity(for: role) {
            configuration.certificateChain = identity.chain
            configuration.privateKey = identity.key
        }
        if let roots = try files.roots(for: role) { configuration.trustRoots = roots }
        switch verification {
        case .full: configuration.certificateVerification = .fullVerification
        case .chainOnly: configuration.certificateVerification = .noHostnameVerification
        case .none: configuration.certificateVerification = .none
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError("\(role): \(error)")
        }
        self.verification = verification
        #endif
    }

    /// Puts the TLS handler first in `channel`'s pipeline (call on its event loop). `host` is sent as the
    /// server name (SNI) and checked against the certificate unless it is an IP address, which is checked
    /// against the certificate's IP address entries instead.
    public func addHandler(to channel: Channel, host: String) throws {
        #if TLS
        let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
        let handler = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
        try channel.pipeline.syncOperations.addHandler(handler)
        #endif
    }

    /// Like `addHandler`, and the returned future completes when the handshake has (or fails with its
    /// error, say a certificate that does not verify), so a caller can report it before sending anything.
    public func addHandlerAwaitingHandshake(to channel: Channel, host: String) throws -> EventLoopFuture<Void> {
        try addHandler(to: channel, host: host)
        let waiter = HandshakeWaiter(promise: channel.eventLoop.makePromise())
        try channel.pipeline.syncOperations.addHandler(waiter)
        return waiter.promise.futureResult
    }
}

/// Completes its promise at the TLS handshake's end (or its failure), then leaves the pipeline.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let promise: EventLoopPromise<Void>
    private var done = false

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        #if TLS
        if case .handshakeCompleted = event as? TLSUserEvent, !done {
            done = true
            promise.succeed(())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
        #endif
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(with: error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(with: ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish(with: ChannelError.ioOnClosedChannel)
    }

    private func finish(with error: Error) {
        guard !done else { return }
        done = true
        promise.fail(error)
    }
}
