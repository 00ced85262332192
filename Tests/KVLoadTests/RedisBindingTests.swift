import Foundation
@testable import KVLoad
import KVWorkload
import Testing

@Suite("RESP binding against redis-server")
struct RedisBindingTests {
    static let redisPath = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A port free now, below Linux's ephemeral range (32768 on), where other tests' outgoing connections cannot
    /// take it before redis-server binds it.
    func freePort() -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000...32_000)
            if ClusterBindingTests.isFree(port) { return port }
        }
        return Int.random(in: 20_000...32_000)
    }

    @Test func loadThenRunAgainstRedis() throws {
        guard let path = Self.redisPath else {
            print("SKIPPED: redis-server not installed")
            return
        }
        let port = freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: path)
        server.arguments = ["--port", "\(port)", "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        // Foundation's waitUntilExit can hang here; signal the server and let the OS reap it.
        defer { kill(server.processIdentifier, SIGKILL) }
        Thread.sleep(forTimeInterval: 0.3)
        let base = ["recordcount": "300", "operationcount": "3000", "readproportion": "0.4", "updateproportion": "0.3",
                    "deleteproportion": "0.1", "readmodifywriteproportion": "0.1", "scanproportion": "0.1", "maxscanlength": "5",
                    "fieldcount": "2", "fieldlength": "20", "seed": "5"]
        let config = RESPBindingConfiguration(hosts: ["127.0.0.1:\(port)"], connectionsPerThread: 4, pipelineDepth: 8)
        let load = try RESPDriver.run(plan: RunPlan(spec: try spec(base), phase: .load, threads: 2), configuration: config, bindingName: "redis")
        #expect(load.totals.count(.insert, .ok) == 300)
        let run = try RESPDriver.run(plan: RunPlan(spec: try spec(base), phase: .run, threads: 2), configuration: config, bindingName: "redis")
        #expect(run.operations == 3000)
        #expect(run.errors() == 0)
        #expect(run.totals.count(.read, .ok) > 0)
        #expect(run.totals.count(.scan, .ok) > 0)
        // Deletes remove records, so some later reads miss: both outcomes are reported.
        #expect(run.totals.count(.delete, .ok) > 0)
        #expect(run.nodeOperations == [3000])
    }

    @Test func unreachableServerIsAClearError() throws {
        let config = RESPBindingConfiguration(hosts: ["127.0.0.1:1"])
        let s = try spec(["recordcount": "10", "operationcount": "10"])
        #expect(throws: LoadError.self) { try RESPDriver.run(plan: RunPlan(spec: s, phase: .run), configuration: config, bindingName: "redis") }
    }
}

@Suite("Reply scanner")
struct ReplyScannerTests {
    func scan(_ text: String) -> ReplyScanner.Result {
        Array(text.utf8).withUnsafeBytes { ReplyScanner.scan($0) }
    }

    @Test func classifiesSimpleReplies() {
        #expect(scan("+OK\r\n") == .reply(.ok, consumed: 5))
        #expect(scan("-ERR no\r\n+OK\r\n") == .reply(.error, consumed: 9))
        #expect(scan(":0\r\n") == .reply(.notFound, consumed: 4))
        #expect(scan(":1\r\n") == .reply(.ok, consumed: 4))
        #expect(scan("$-1\r\n") == .reply(.notFound, consumed: 5))
        #expect(scan("$3\r\nabc\r\n$") == .reply(.ok, consumed: 9))
        #expect(scan("_\r\n") == .reply(.notFound, consumed: 3))
        // `+OK\r\n` has its own fast path: only that exact reply takes it.
        #expect(scan("+OK\r\n+OK\r\n") == .reply(.ok, consumed: 5))
        #expect(scan("+OKAY\r\n") == .reply(.ok, consumed: 7))
        #expect(scan("+OK\rX\r\n") == .reply(.ok, consumed: 7))
        #expect(scan("+QUEUED\r\n") == .reply(.ok, consumed: 9))
    }

    @Test func waitsForMoreBytesAndDelegatesAggregates() {
        #expect(scan("") == .incomplete)
        #expect(scan("+OK\r") == .incomplete)
        #expect(scan("$5\r\nab") == .incomplete)
        #expect(scan("$12") == .incomplete)
        #expect(scan("*2\r\n$1\r\na\r\n$-1\r\n") == .complex)
        #expect(scan("$1x\r\n") == .complex)
        #expect(scan("$") == .incomplete)
        #expect(scan("$-") == .incomplete)
        #expect(scan(":12345") == .incomplete)
        // A length too large to be real stops being accumulated and is handed to the full parser (which rejects it).
        #expect(scan("$99999999999999999999\r\n") == .complex)
    }

    @Test func bulkRepliesOfEveryLengthWidthAreSkippedWhole() {
        for length in [0, 9, 10, 100, 1000, 65_536] {
            let reply = "$\(length)\r\n" + String(repeating: "v", count: length) + "\r\n"
            #expect(scan(reply + "+OK\r\n") == .reply(.ok, consumed: reply.utf8.count))
            #expect(scan(String(reply.dropLast())) == .incomplete)
        }
    }
}
