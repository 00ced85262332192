import Glibc
import KVNodeServer
import KVStorage
import RESP
import Testing

/// The node over real sockets, in-process: commands, errors, pipelining, limits and bad clients.
@Suite(.serialized) struct ServerTests {
    @Test func basicCommandsAndErrors() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        #expect(try c.command("PING").text == "PONG")
        #expect(try c.command("PING", "hi").text == "hi")
        #expect(try c.command("ECHO", "x y").text == "x y")
        #expect(try c.command("SET", "k", "v").text == "OK")
        #expect(try c.command("GET", "k").text == "v")
        #expect(try c.command("get", "missing").isNull)
        #expect(try c.command("SET", "k", "w", "NX").isNull)
        #expect(try c.command("SET", "k2", "w", "XX").isNull)
        #expect(try c.command("SET", "k", "w", "XX").text == "OK")
        #expect(try c.command("EXISTS", "k", "k", "missing").integer == 2)
        #expect(try c.command("MSET", "a", "1", "b", "2").text == "OK")
        let mget = try c.command("MGET", "a", "missing", "b")
        guard case .array(let items?) = mget else { Issue.record("MGET: \(mget)"); return }
        #expect(items.count == 3 && items[0].text == "1" && items[1].isNull && items[2].text == "2")
        #expect(try c.command("DEL", "a", "b", "missing").integer == 2)
        #expect(try c.command("DBSIZE").integer == 1)
        #expect(try c.command("STRLEN", "k").integer == 1)
        #expect(try c.command("TYPE", "k").text == "string")
        #expect(try c.command("TTL", "k").integer == -1)
        #expect(try c.command("TTL", "missing").integer == -2)
        #expect(try c.command("SET", "t", "v", "EX", "100").text == "OK")
        let ttl = try c.command("PTTL", "t").integer ?? 0
        #expect(ttl > 99_000 && ttl <= 100_000)
        #expect(try c.command("SET", "t", "v", "EX", "0").text?.hasPrefix("ERR invalid expire time") == true)
        #expect(try c.command("SET", "t", "v", "EX", "abc").text?.hasPrefix("ERR value is not an integer") == true)
        #expect(try c.command("SET", "t", "v", "BOGUS").text == "ERR syntax error")
        #expect(try c.command("SET", "t", "v", "NX", "XX").text == "ERR syntax error")
        #expect(try c.command("GET").text == "ERR wrong number of arguments for 'get' command")
        let unknown = try c.command("FOO", "bar", "baz").text ?? ""
        #expect(unknown == "ERR unknown command 'FOO', with args beginning with: 'bar' 'baz'")
        #expect(try c.command("SELECT", "0").text == "OK")
        #expect(try c.command("SELECT", "3").text == "ERR DB index is out of range")
        #expect(try c.command("FLUSHALL").text == "OK")
        #expect(try c.command("DBSIZE").integer == 0)
        #expect(try c.command("QUIT").text == "OK")
        #expect(c.readsEOF())
        try await server.stop()
    }

    @Test func helloSwitchesToRESP3() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        let hello = try c.command("HELLO", "3")
        guard case .map(let pairs) = hello else { Issue.record("HELLO 3 should reply a map: \(hello)"); return }
        #expect(pairs.count == 7)
        // Under RESP3 a missing key is the null type, not a null bulk string.
        #expect(try c.command("GET", "nothing") == .null)
        let config = try c.command("CONFIG", "GET", "appendonly")
        guard case .map(let cfg) = config else { Issue.record("CONFIG GET under RESP3: \(config)"); return }
        #expect(cfg.count == 1)
        #expect(try c.command("HELLO", "4").text == "NOPROTO unsupported protocol version")
        try await server.stop()
    }

    @Test func configGetForRedisBenchmark() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        let reply = try c.command("CONFIG", "GET", "save")
        guard case .array(let items?) = reply else { Issue.record("\(reply)"); return }
        #expect(items.map(\.text) == ["save", ""])
        let all = try c.command("CONFIG", "GET", "*max*")
        guard case .array(let many?) = all else { Issue.record("\(all)"); return }
        #expect(many.compactMap(\.text).contains("maxclients"))
        #expect(try c.command("CONFIG", "SET", "save", "").text?.hasPrefix("ERR CONFIG SET is not supported") == true)
        try await server.stop()
    }

    @Test func commandIntrospection() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        let count = try c.command("COMMAND", "COUNT").integer ?? 0
        #expect(count >= 20)
        let info = try c.command("COMMAND", "INFO", "get", "nope")
        guard case .array(let entries?) = info, entries.count == 2 else { Issue.record("\(info)"); return }
        guard case .array(let get?) = entries[0] else { Issue.record("\(entries[0])"); return }
        #expect(get[0].text == "get" && get[1].integer == 2)
        #expect(entries[1].isNull)
        try await server.stop()
    }

    @Test func authenticationIsRequiredWhenConfigured() async throws {
        let (server, port, dir) = try await startNode { $0.requirePassword = "pw" }
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        #expect(try c.command("GET", "k").text == "NOAUTH Authentication required.")
        #expect(try c.command("AUTH", "nope").text?.hasPrefix("WRONGPASS") == true)
        #expect(try c.command("AUTH", "someone", "pw").text?.hasPrefix("WRONGPASS") == true)
        #expect(try c.command("HELLO", "3").text?.hasPrefix("NOAUTH") == true)
        #expect(try c.command("AUTH", "pw").text == "OK")
        #expect(try c.command("SET", "k", "v").text == "OK")
        let c2 = try BlockingClient(port: port)
        guard case .map = try c2.command("HELLO", "3", "AUTH", "default", "pw") else {
            Issue.record("HELLO with AUTH should authenticate"); return
        }
        #expect(try c2.command("GET", "k").text == "v")
        try await server.stop()
    }

    @Test func pipelinedCommandsAnswerInOrder() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        var batch: [UInt8] = []
        for i in 0..<2000 { batch += c.encode(["SET", "key\(i)", "value\(i)"]) }
        for i in 0..<2000 { batch += c.encode(["GET", "key\(i)"]) }
        try c.send(batch)
        for _ in 0..<2000 { #expect(try c.readReply().text == "OK") }
        for i in 0..<2000 { #expect(try c.readReply().text == "value\(i)") }
        try await server.stop()
    }

    @Test func inlineCommandsWork() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        try c.send("SET inline \"a b\"\r\nGET inline\r\n")
        #expect(try c.readReply().text == "OK")
        #expect(try c.readReply().text == "a b")
        try await server.stop()
    }

    @Test func protocolErrorsCloseOnlyThatClient() async throws {
        let (server, port, dir) = try await startNode { $0.maxBulkLength = 1024; $0.maxArguments = 8 }
        defer { dir.remove() }
        let healthy = try BlockingClient(port: port)
        #expect(try healthy.command("SET", "safe", "1").text == "OK")
        for payload in ["*2\r\n$3\r\nGET\r\n$x\r\n", "*1\r\n:1\r\n", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000\r\n", "*100\r\n"] {
            let bad = try BlockingClient(port: port)
            try bad.send(payload)
            let reply = try bad.readReply()
            #expect(reply.text?.hasPrefix("ERR Protocol error") == true, "\(payload.debugDescription) → \(reply)")
            #expect(bad.readsEOF())
        }
        // Half a frame, then the client vanishes.
        let half = try BlockingClient(port: port)
        try half.send("*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\n12345")
        _ = half
        #expect(try healthy.command("GET", "safe").text == "1")
        #expect(try healthy.command("EXISTS", "k", "half").integer == 0)
        try await server.stop()
    }

    @Test func maxClientsRefusesTheExtraConnection() async throws {
        let (server, port, dir) = try await startNode { $0.maxClients = 2 }
        defer { dir.remove() }
        let a = try BlockingClient(port: port)
        let b = try BlockingClient(port: port)
        #expect(try a.command("PING").text == "PONG")
        let extra = try BlockingClient(port: port)
        #expect(try extra.readReply().text == "ERR max number of clients reached")
        #expect(try b.command("PING").text == "PONG")
        try await server.stop()
    }

    @Test func manyIdleConnectionsDoNotStopService() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        var idle: [BlockingClient] = []
        for _ in 0..<1000 { idle.append(try BlockingClient(port: port)) }
        let active = try BlockingClient(port: port)
        #expect(try active.command("SET", "x", "y").text == "OK")
        // Connections are registered by the event loop that accepted them: on a busy machine the last
        // few may land a moment after this client's command, so wait (bounded) for all 1001.
        var info = ""
        for _ in 0..<100 {
            info = try active.command("INFO", "clients").text ?? ""
            if info.contains("connected_clients:1001") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(info.contains("connected_clients:1001"), "\(info)")
        idle.removeAll()
        try await server.stop()
    }

    @Test func alwaysFsyncAcknowledgesAfterSyncAndSurvivesRestart() async throws {
        let dir = TempDir()
        defer { dir.remove() }
        for round in 0..<2 {
            let (server, port, scratch) = try await startNode {
                $0.fsync = .always
                $0.dataDirectory = dir.path
            }
            scratch.remove()
            let c = try BlockingClient(port: port)
            if round == 0 {
                var batch: [UInt8] = []
                for i in 0..<500 { batch += c.encode(["SET", "durable\(i)", "v\(i)"]) }
                try c.send(batch)
                for _ in 0..<500 { #expect(try c.readReply().text == "OK") }
                let info = try c.command("INFO", "persistence").text ?? ""
                #expect(info.contains("appendfsync:always"))
            } else {
                #expect(try c.command("DBSIZE").integer == 500)
                #expect(try c.command("GET", "durable499").text == "v499")
            }
            try await server.stop()
        }
    }
}
