import Glibc
@testable import KVLoad
import KVNodeServer
import KVTLS
import KVWorkload
import NIOCore
import NIOPosix
import RESP
import Testing

/// Certificates from scripts/make-test-certs.sh (openssl), made once per test process.
enum TestPKI {
    static let directory: String = {
        let root = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let dir = TempDir("kvnode-pki").path
        let status = system("bash '/\(root)/scripts/make-test-certs.sh' '\(dir)' >/dev/null")
        precondition(status == 0, "scripts/make-test-certs.sh failed (is openssl installed? scripts/setup.sh installs it)")
        return dir
    }()

    static func path(_ name: String) -> String { "\(directory)/\(name)" }

    static func server(clientCertificates: Bool = false) throws -> TLSServer {
        try TLSServer(files: TLSFiles(certificateChain: path("node.crt"), privateKey: path("node.key"), trustRoots: path("ca.crt")),
                      requireClientCertificates: clientCertificates)
    }

    static func client(trusting ca: String = "ca.crt", certificate: String? = nil) throws -> TLSClient {
        try TLSClient(files: TLSFiles(certificateChain: certificate.map { path("\($0).crt") },
                                      privateKey: certificate.map { path("\($0).key") }, trustRoots: path(ca)),
                      verification: .full)
    }
}

@Suite("TLS on the client port", .serialized) struct TLSTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    func connect(_ port: Int, _ connector: RESPConnector) throws -> BlockingRESPClient {
        try BlockingRESPClient.connect(host: "127.0.0.1", port: port, group: group, timeout: .seconds(5), connector: connector)
    }

    @Test func clientsSpeakTLSAndAuthenticate() async throws {
        let tls = try TestPKI.server()
        let (server, port, dir) = try await startNode { $0.tls = tls; $0.requirePassword = "pw" }
        defer { dir.remove() }
        let client = try connect(port, RESPConnector(tls: try TestPKI.client(), password: "pw"))
        #expect(try client.call(["PING"]) == .simpleString(ByteBuffer(string: "PONG")))
        // A value much larger than one TLS record, and a pipelined batch.
        let big = String(repeating: "x", count: 300_000)
        #expect(try client.call(["SET", "big", big]) == .simpleString(ByteBuffer(string: "OK")))
        #expect(try client.call(["GET", "big"]) == .bulkString(ByteBuffer(string: big)))
        let replies = try client.callAll((0..<200).map { ["SET", "k\($0)", "v\($0)"] })
        #expect(replies.allSatisfy { $0 == .simpleString(ByteBuffer(string: "OK")) })
        #expect(try client.call(["GET", "k199"]) == .bulkString(ByteBuffer(string: "v199")))
        #expect(try client.call(["INFO", "server"]).text?.contains("tls:yes\r\n") == true)
        client.close()

        // The password still applies inside TLS.
        #expect(throws: LoadError.self) { try connect(port, RESPConnector(tls: try TestPKI.client(), password: "wrong")) }
        let noPassword = try connect(port, RESPConnector(tls: try TestPKI.client()))
        guard case .error(let refused) = try noPassword.call(["GET", "k1"]) else { Issue.record("GET without AUTH"); return }
        #expect(String(buffer: refused).hasPrefix("NOAUTH"))
        noPassword.close()
        try await server.stop()
    }

    @Test func plaintextClientsAndUntrustedCertificatesAreRefused() async throws {
        let tls = try TestPKI.server()
        let (server, port, dir) = try await startNode { $0.tls = tls }
        defer { dir.remove() }
        // Plain RESP on a TLS port: not a TLS ClientHello, so the node closes without answering.
        let plain = try BlockingClient(port: port)
        try plain.send("*1\r\n$4\r\nPING\r\n")
        #expect(plain.readsEOF())
        // A client that trusts another CA refuses the node's certificate.
        do {
            _ = try connect(port, RESPConnector(tls: try TestPKI.client(trusting: "rogue-ca.crt")))
            Issue.record("a certificate from an untrusted CA was accepted")
        } catch {
            #expect("\(error)".contains("CERTIFICATE_VERIFY_FAILED"))
        }
        // The node goes on serving TLS clients.
        let client = try connect(port, RESPConnector(tls: try TestPKI.client()))
        #expect(try client.call(["PING"]) == .simpleString(ByteBuffer(string: "PONG")))
        client.close()
        try await server.stop()
    }

    @Test func clientCertificatesWhenRequired() async throws {
        let tls = try TestPKI.server(clientCertificates: true)
        let (server, port, dir) = try await startNode { $0.tls = tls }
        defer { dir.remove() }
        // Without a certificate, or with one from another CA, the first exchange fails (in TLS 1.3 the
        // server's verdict on the client certificate arrives after the client's side of the handshake).
        for certificate in [nil, "rogue"] as [String?] {
            #expect(throws: (any Error).self, "client certificate \(certificate ?? "none")") {
                let client = try connect(port, RESPConnector(tls: try TestPKI.client(certificate: certificate)))
                defer { client.close() }
                _ = try client.call(["PING"])
            }
        }
        let client = try connect(port, RESPConnector(tls: try TestPKI.client(certificate: "client")))
        #expect(try client.call(["PING"]) == .simpleString(ByteBuffer(string: "PONG")))
        client.close()
        try await server.stop()
    }

    /// kvbench's measured connections go through the same TLS handshake and AUTH as its chores.
    @Test func kvbenchRunsAWorkloadOverTLSWithAPassword() async throws {
        let tls = try TestPKI.server()
        let (server, port, dir) = try await startNode { $0.tls = tls; $0.requirePassword = "pw" }
        defer { dir.remove() }
        var properties = WorkloadProperties()
        try properties.load(text: "recordcount=200\noperationcount=2000\nreadproportion=0.5\nupdateproportion=0.5\nseed=3\n",
                            fileName: "tls")
        let spec = try WorkloadSpec(properties: properties)
        var config = RESPBindingConfiguration(hosts: ["127.0.0.1:\(port)"], connectionsPerThread: 3, pipelineDepth: 4)
        config.connector = RESPConnector(tls: try TestPKI.client(), password: "pw")
        let load = try RESPDriver.run(plan: RunPlan(spec: spec, phase: .load, threads: 2), configuration: config, bindingName: "redis")
        #expect(load.operations == 200 && load.errors() == 0)
        let run = try RESPDriver.run(plan: RunPlan(spec: spec, phase: .run, threads: 2), configuration: config, bindingName: "redis")
        #expect(run.operations == 2000)
        #expect(run.errors() == 0)
        #expect(run.totals.count(.read, .ok) > 0)
        config.connector.password = "wrong"
        #expect(throws: LoadError.self) {
            try RESPDriver.run(plan: RunPlan(spec: spec, phase: .run, threads: 1), configuration: config, bindingName: "redis")
        }
        try await server.stop()
    }

    @Test func badSettingsAreClearErrors() throws {
        #expect(throws: TLSSetupError.self) {
            try TLSServer(files: TLSFiles(certificateChain: TestPKI.path("node.crt")), requireClientCertificates: false)
        }
        do {
            _ = try TLSServer(files: TLSFiles(certificateChain: "/nonexistent.crt", privateKey: TestPKI.path("node.key")),
                              requireClientCertificates: false, role: "--tls-cert")
            Issue.record("a missing certificate file was accepted")
        } catch {
            #expect(error.description.hasPrefix("--tls-cert: cannot load the certificate chain /nonexistent.crt"))
        }
        #expect(throws: TLSSetupError.self) {
            try TLSServer(files: TLSFiles(certificateChain: TestPKI.path("node.crt"), privateKey: TestPKI.path("node.key")),
                          requireClientCertificates: true)
        }
    }
}
