import KVNodeServer
import RESP
import Testing

/// Cluster-mode commands over real sockets on a one-member cluster (N = R = W = 1): the command
/// surface, reply shapes, errors, and pipelined replies staying in order around asynchronous answers.
@Suite(.serialized) struct ClusterCommandTests {
    private func startClusterNode() async throws -> (NodeServer, Int, TempDir) {
        try await startNode { c in
            var settings = ClusterSettings(nodeID: "solo", seeds: ["127.0.0.1:0"])
            settings.config.n = 1
            settings.config.r = 1
            settings.config.w = 1
            c.cluster = settings
        }
    }

    private func array(_ v: RESPValue) -> [RESPValue]? {
        if case .array(let items?) = v { return items }
        return nil
    }

    @Test func dynamoCommandsSiblingsAndContexts() async throws {
        let (server, port, dir) = try await startClusterNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        // Two blind writes are concurrent: both stay, as siblings.
        #expect(try c.command("KV.PUT", "k", "a").bytes != nil)
        #expect(try c.command("KV.PUT", "k", "b").bytes != nil)
        let read = try #require(array(try c.command("KV.GET", "k")))
        #expect(read.count == 2)
        let values = try #require(array(read[1])).compactMap(\.text).sorted()
        #expect(values == ["a", "b"])
        #expect(try c.command("GET", "k").text == "SIBLINGS key has 2 concurrent values; use KV.GET")
        // A write carrying the read's context replaces what it saw.
        let ctx = try #require(read[0].bytes)
        let put = try c.command(bytes: [Array("KV.PUT".utf8), Array("k".utf8), Array("merged".utf8), Array("CONTEXT".utf8), ctx, Array("W".utf8), Array("1".utf8)])
        #expect(put.bytes != nil && !put.isError)
        #expect(try c.command("GET", "k").text == "merged")
        let local = try #require(array(try c.command("KV.GETLOCAL", "k")))
        #expect(try #require(array(local[1])).compactMap(\.text) == ["merged"])
        // Delete with the context: no live value remains.
        let now = try #require(array(try c.command("KV.GET", "k", "R", "1")))
        let delContext = try #require(now[0].bytes)
        let del = try c.command(bytes: [Array("KV.DEL".utf8), Array("k".utf8), Array("CONTEXT".utf8), delContext])
        #expect(del.bytes != nil && !del.isError)
        #expect(try c.command("GET", "k").isNull)
        let afterDelete = try #require(array(try c.command("KV.GET", "k")))
        #expect(array(afterDelete[1])?.isEmpty == true)
        try await server.stop()
    }

    @Test func plainCommandsAndErrors() async throws {
        let (server, port, dir) = try await startClusterNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        #expect(try c.command("SET", "a", "1").text == "OK")
        #expect(try c.command("MSET", "b", "2", "c", "3").text == "OK")
        #expect(try c.command("GET", "a").text == "1")
        let mget = try #require(array(try c.command("MGET", "a", "nope", "c")))
        #expect(mget.count == 3 && mget[0].text == "1" && mget[1].isNull && mget[2].text == "3")
        #expect(try c.command("EXISTS", "a", "b", "nope").integer == 2)
        #expect(try c.command("DEL", "a", "b").integer == 2)
        #expect(try c.command("GET", "a").isNull)
        #expect(try c.command("SET", "a", "1", "EX", "10").text?.hasPrefix("ERR SET options are not supported in cluster mode") == true)
        #expect(try c.command("SETEX", "a", "10", "v").text?.hasPrefix("ERR 'setex' is not supported in cluster mode") == true)
        #expect(try c.command("KV.PUT", "a", "1", "CONTEXT", "garbage").text?.hasPrefix("ERR invalid causal context") == true)
        #expect(try c.command("KV.GET", "a", "R", "0").text?.hasPrefix("ERR syntax error") == true)
        #expect(try c.command("KV.GET", "a", "Q", "1").text?.hasPrefix("ERR syntax error") == true)
        #expect(try c.command("KV.PUT", "a").text == "ERR wrong number of arguments for 'kv.put' command")
        let members = try #require(array(try c.command("CLUSTER.MEMBERS")))
        #expect(members.compactMap(\.text) == ["solo 127.0.0.1:0 up"])
        let ring = try #require(array(try c.command("CLUSTER.RING")))
        #expect(ring.first?.text?.hasPrefix("solo 127.0.0.1:0 tokens=") == true)
        #expect(try #require(array(try c.command("CLUSTER.RING", "somekey"))).compactMap(\.text) == ["solo 127.0.0.1:0"])
        try await Task.sleep(for: .milliseconds(250))  // the INFO snapshot refreshes every 100 ms
        let info = try #require(try c.command("INFO", "cluster").text)
        #expect(info.contains("cluster_state:ok") && info.contains("cluster_node_id:solo") && info.contains("cluster_n:1"))
        try await server.stop()
    }

    @Test func pipelinedRepliesStayInOrder() async throws {
        let (server, port, dir) = try await startClusterNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        var batch: [UInt8] = []
        for i in 0..<300 {
            batch += c.encode(["SET", "p\(i)", "v\(i)"])
            batch += c.encode(["PING", "x\(i)"])
            batch += c.encode(["GET", "p\(i)"])
            batch += c.encode(["CLUSTER.MEMBERS"])
        }
        try c.send(batch)
        for i in 0..<300 {
            #expect(try c.readReply().text == "OK")
            #expect(try c.readReply().text == "x\(i)")
            #expect(try c.readReply().text == "v\(i)")
            #expect(array(try c.readReply())?.count == 1)
        }
        try await server.stop()
    }

    @Test func standaloneNodeRefusesDynamoCommands() async throws {
        let (server, port, dir) = try await startNode()
        defer { dir.remove() }
        let c = try BlockingClient(port: port)
        #expect(try c.command("KV.GET", "k").text?.hasPrefix("ERR this node is not part of a cluster") == true)
        #expect(try c.command("CLUSTER.MEMBERS").text?.hasPrefix("ERR this node is not part of a cluster") == true)
        try await server.stop()
    }
}
