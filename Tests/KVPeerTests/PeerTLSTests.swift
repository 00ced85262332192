import Glibc
import KVCluster
import KVPeer
import KVTLS
import NIOCore
import Testing

/// Peer links over mutual TLS (certificates from scripts/make-test-certs.sh).
@Suite(.timeLimit(.minutes(2))) struct PeerTLSTests {
    static let pki: String = {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        var template = Array("/tmp/kvpeer-pki.XXXXXX".utf8CString)
        let dir = String(cString: template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!)
        let status = system("bash '/\(root)/scripts/make-test-certs.sh' '\(dir)' >/dev/null")
        precondition(status == 0, "scripts/make-test-certs.sh failed (is openssl installed? scripts/setup.sh installs it)")
        return dir
    }()

    static func configuration(certificate: String = "node", ca: String = "ca", secret: String? = "cluster-key") throws -> PeerTransportConfiguration {
        var c = TestNode.fastConfiguration(secret: secret)
        c.tls = try PeerTLS(files: TLSFiles(certificateChain: "\(pki)/\(certificate).crt", privateKey: "\(pki)/\(certificate).key",
                                            trustRoots: "\(pki)/\(ca).crt"))
        return c
    }

    @Test func tlsPeersConnectAndExchangeMessages() async throws {
        try await withLoop { loop in
            let a = try await TestNode(loop: loop, id: "a", configuration: try Self.configuration())
            let b = try await TestNode(loop: loop, id: "b", configuration: try Self.configuration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await a.waitUntil("a sees b up") { _, r in !r.ups.isEmpty }
            let payload = [UInt8](repeating: 7, count: 200_000)
            try await a.run { t, _ in
                t.send(.replicate(request: 1, key: payload, object: PeerTransportTests.set, hintFor: nil), to: "b")
                t.send(.get(request: 42, key: [1]), to: "b")
                t.flush()
            }
            try await b.waitUntil("messages") { _, r in r.messages.count == 2 }
            // Two connections per peer: the two messages may arrive in either order.
            let received = try await b.run { _, r in r.messages }
            let big = PeerMessage.replicate(request: 1, key: payload, object: PeerTransportTests.set, hintFor: nil)
            #expect(received.contains { $0 == big }, "the 200 KB message arrived intact")
            #expect(received.contains { $0 == .get(request: 42, key: [1]) })
            try await a.close()
            try await b.close()
        }
    }

    /// A dialer with a certificate from another CA, and a dialer without TLS: the TLS node lets neither in.
    @Test(arguments: ["rogue certificate", "plain TCP"])
    func untrustedOrPlainPeersAreRefused(dialer: String) async throws {
        try await withLoop { loop in
            let dialerConfiguration = dialer == "plain TCP"
                ? TestNode.fastConfiguration(secret: "cluster-key")
                : try Self.configuration(certificate: "rogue", ca: "ca")
            let a = try await TestNode(loop: loop, id: "a", configuration: dialerConfiguration)
            let b = try await TestNode(loop: loop, id: "b", configuration: try Self.configuration())
            let bAddress = b.address
            try await a.run { t, _ in t.dial(bAddress) }
            try await b.waitUntil("b counts failed handshakes") { t, _ in t.stats.handshakeFailures.total >= 2 }
            let sent = try await a.run { t, _ in t.send(.get(request: 1, key: [1]), to: "b") }
            #expect(sent == false)
            let aEvents = try await a.run { _, r in r.events }
            let bEvents = try await b.run { _, r in r.events }
            #expect(aEvents.isEmpty)
            #expect(bEvents.isEmpty)
            let established = try await b.run { t, _ in t.stats.connectionsEstablished }
            #expect(established == 0)
            try await a.close()
            try await b.close()
        }
    }
}
