import NIOCore
import Testing

@testable import RESP

/// Golden data captured from a real redis-server 7.0.15 (Debian 12) over a socket.
@Suite("Compatibility with redis-server 7.0 (captured bytes)")
struct RedisCompatibilityTests {
    /// Replies to: HELLO 3, SET k v, GET k, GET missing, HSET h f1 a f2 b, HGETALL h, SADD s x,
    /// SMEMBERS s, ZADD z 1.5 m, ZSCORE z m, ZRANGE z 0 -1 WITHSCORES, INCR n, LPUSH l a b,
    /// LRANGE l 0 -1, SCRIPT EXISTS abc, NOSUCH, CLIENT INFO, HELLO 2, HGETALL h, ZSCORE z m,
    /// GET missing, BLPOP nolist 0.01.
    static let replies = [
        "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n",
        "$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n",
        "*0\r\n+OK\r\n$1\r\nv\r\n_\r\n:2\r\n%2\r\n$2\r\nf1\r\n$1\r\na\r\n$2\r\nf2\r\n$1\r\nb\r\n:1\r\n",
        "~1\r\n$1\r\nx\r\n:1\r\n,1.5\r\n*1\r\n*2\r\n$1\r\nm\r\n,1.5\r\n:1\r\n:2\r\n*2\r\n$1\r\nb\r\n",
        "$1\r\na\r\n*1\r\n:0\r\n-ERR unknown command 'NOSUCH', with args beginning with: \r\n=279\r\n",
        "txt:id=3 addr=127.0.0.1:49548 laddr=127.0.0.1:7493 fd=7 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=658 ",
        "qbuf-free=19816 argv-mem=10 multi-mem=0 rbs=16384 rbp=16384 obl=202 oll=1 omem=20504 tot-mem=58162 events=r cmd=client|info ",
        "user=default redir=-1 resp=3\n\r\n",
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n",
        "$2\r\nid\r\n:3\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n",
        "*0\r\n*4\r\n$2\r\nf1\r\n$1\r\na\r\n$2\r\nf2\r\n$1\r\nb\r\n$3\r\n1.5\r\n$-1\r\n*-1\r\n",
    ].joined()

    @Test func decodesEveryRealReplyAndReencodesItByteForByte() throws {
        let input = Array(Self.replies.utf8)
        let parsed = parseValues(input, chunkSizes: Array(repeating: 7, count: input.count / 7 + 1))
        #expect(parsed.error == nil)
        #expect(parsed.leftover == 0)
        #expect(parsed.values.count == 22)
        let values = parsed.values
        guard values.count == 22 else { return }
        #expect(values[1] == .simpleString("OK"))
        #expect(values[2] == .bulkString("v"))
        #expect(values[3] == .null)
        #expect(values[5] == .map([RESPMapEntry(.bulkString("f1"), .bulkString("a")), RESPMapEntry(.bulkString("f2"), .bulkString("b"))]))
        #expect(values[7] == .set([.bulkString("x")]))
        #expect(values[9] == .double(1.5))
        #expect(values[10] == .array([.array([.bulkString("m"), .double(1.5)])]))
        #expect(values[15] == .error("ERR unknown command 'NOSUCH', with args beginning with: "))
        if case .verbatimString(let format, let text) = values[16] {
            #expect(format == "txt")
            #expect(String(buffer: text).hasPrefix("id=3 addr="))
        } else {
            Issue.record("CLIENT INFO should be a verbatim string, got \(values[16])")
        }
        #expect(values[19] == .bulkString("1.5"))
        #expect(values[20] == .bulkString(nil))
        #expect(values[21] == .array(nil))

        // Our writer produces exactly Redis's bytes for the same values.
        var reencoded = ByteBuffer()
        for value in values { reencoded.writeRESPValue(value, version: .v3) }
        #expect(String(buffer: reencoded) == Self.replies)
    }

    @Test func versionedWritersMatchRedisForTheSameReplies() {
        var v3 = ByteBuffer()
        v3.writeRESPNull(.v3)
        v3.writeRESPDouble(1.5, .v3)
        v3.writeRESPMapHeader(2, .v3)
        var v2 = ByteBuffer()
        v2.writeRESPNull(.v2)
        v2.writeRESPDouble(1.5, .v2)
        v2.writeRESPMapHeader(2, .v2)
        #expect(String(buffer: v3) == "_\r\n,1.5\r\n%2\r\n")
        #expect(String(buffer: v2) == "$-1\r\n$3\r\n1.5\r\n*4\r\n")
    }

    /// Inline argument lines sent as `RPUSH t <line>` and the list Redis stored.
    @Test(arguments: [
        ("a b  c", ["a", "b", "c"]),
        ("\"a b\" c", ["a b", "c"]),
        ("'it\\'s' x", ["it's", "x"]),
        ("\"\\x41\\x4a\\x4\" \"\\n\\t\\\\\\\"\" y", ["AJx4", "\n\t\\\"", "y"]),
        ("foo\"bar baz\" q", ["foobar baz", "q"]),
        ("x'y z' w", ["xy z", "w"]),
        ("\"\" '' e", ["", "", "e"]),
        ("a\tb", ["a", "b"]),
        ("\"\\xzz\"", ["xzz"]),
        ("\"a\\qb\"", ["aqb"]),
        ("a\u{0B}b", ["a\u{0B}b"]),
        ("\\x41", ["\\x41"]),
        ("'a\\nb'", ["a\\nb"]),
        ("  lead   trail  ", ["lead", "trail"]),
    ])
    func inlineSplittingMatchesRedis(line: String, expected: [String]) {
        #expect(parseCommands("RPUSH t " + line + "\r\n").strings == [["RPUSH", "t"] + expected])
    }

    /// Malformed requests and the exact reply Redis sent before closing.
    @Test(arguments: [
        ("RPUSH t \"abc\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("RPUSH t \"a\"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("RPUSH t 'a'b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("RPUSH t \"a\\\"\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"),
        ("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
        ("*1\r\nx3\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"),
        ("*x\r\n", "-ERR Protocol error: invalid multibulk length\r\n"),
        ("*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n"),
    ])
    func protocolErrorRepliesMatchRedis(input: String, reply: String) throws {
        let error = try #require(parseCommands(input).error)
        var out = ByteBuffer()
        out.writeRESPError(error)
        #expect(String(buffer: out) == reply)
    }

    @Test func skippedFramesAndBlankLinesLikeRedis() {
        #expect(parseCommands("*0\r\n*-1\r\n*-5\r\nPING\r\n").strings == [["PING"]])
        #expect(parseCommands("\r\n\r\nPING\r\n").strings == [["PING"]])
    }
}
