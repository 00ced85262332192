import NIOCore
import Testing

@testable import RESP

/// One value of every type (and the tricky corners of each).
let sampleValues: [RESPValue] = [
    .simpleString("OK"), .simpleString(""), .error("ERR wrong type"),
    .integer(0), .integer(-42), .integer(.max), .integer(.min),
    .bulkString("hello"), .bulkString(""), .bulkString(ByteBuffer(bytes: [0, 13, 10, 255])), .bulkString(nil),
    .array([]), .array(nil), .array([.integer(1), .bulkString("two"), .array([.simpleString("three")])]),
    .null, .double(1.5), .double(-0.1), .double(1e300), .double(.infinity), .double(-.infinity), .double(3),
    .boolean(true), .boolean(false),
    .bigNumber(ByteBuffer(string: "3492890328409238509324850943850943825024385")),
    .bigNumber(ByteBuffer(string: "-1")),
    .verbatimString(format: "txt", ByteBuffer(string: "Some string")),
    .verbatimString(format: "mkd", ByteBuffer(string: "")),
    .map([]), .map([RESPMapEntry(.simpleString("k"), .array([.integer(1)])), RESPMapEntry(.integer(2), .null)]),
    .set([.bulkString("a"), .bulkString("b")]), .push([.bulkString("message"), .bulkString("chan"), .bulkString("hi")]),
]

/// The RESP2 types: they round-trip exactly under v2.
let resp2Values: [RESPValue] = sampleValues.filter {
    switch $0 {
    case .simpleString, .error, .integer, .bulkString, .array: return true
    default: return false
    }
}

private func encode(_ values: [RESPValue], _ version: RESPVersion) -> [UInt8] {
    var buffer = ByteBuffer()
    for value in values { buffer.writeRESPValue(value, version: version) }
    return Array(buffer.readableBytesView)
}

@Suite("RESPValueParser and round trips")
struct ValueParserTests {
    @Test func everyTypeRoundTripsUnderRESP3() {
        for value in sampleValues {
            let parsed = parseValues(encode([value], .v3))
            #expect(parsed.error == nil)
            #expect(parsed.values == [value], "\(value)")
            #expect(parsed.leftover == 0)
        }
    }

    @Test func resp2TypesRoundTripUnderRESP2() {
        let parsed = parseValues(encode(resp2Values, .v2))
        #expect(parsed.values == resp2Values)
    }

    @Test func resp3TypesDecodeAsTheirRESP2FallbacksUnderRESP2() {
        let values: [RESPValue] = [.null, .double(2.5), .boolean(true), .map([RESPMapEntry(.bulkString("k"), .integer(1))]), .set([.integer(1)]),
            .verbatimString(format: "txt", ByteBuffer(string: "v"))]
        let parsed = parseValues(encode(values, .v2))
        #expect(parsed.values == [.bulkString(nil), .bulkString("2.5"), .integer(1), .array([.bulkString("k"), .integer(1)]), .array([.integer(1)]),
            .bulkString("v")])
    }

    @Test func byteByByteFeedingEqualsOneShot() {
        let input = encode(sampleValues, .v3)
        let oneShot = parseValues(input)
        let byteByByte = parseValues(input, chunkSizes: Array(repeating: 1, count: input.count))
        #expect(oneShot.values == sampleValues)
        #expect(byteByByte.values == sampleValues)
        #expect(byteByByte.error == nil)
    }

    @Test func attributesAreSkipped() {
        let parsed = parseValues("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n*2\r\n:2\r\n|1\r\n+ttl\r\n:3\r\n:3\r\n")
        #expect(parsed.values == [.array([.integer(2), .integer(3)])])
        #expect(parsed.leftover == 0)
    }

    @Test func blobErrorsDecodeAsErrors() {
        #expect(parseValues("!21\r\nSYNTAX invalid syntax\r\n").values == [.error("SYNTAX invalid syntax")])
    }

    @Test func waitsForALargeBulkWithoutReparsing() throws {
        var parser = RESPValueParser()
        var buffer = bytes("$10\r\n01234")
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString("5678")
        #expect(try parser.next(from: &buffer) == nil)
        buffer.writeString("9\r\n+OK\r\n")
        #expect(try parser.next(from: &buffer) == .bulkString("0123456789"))
        #expect(try parser.next(from: &buffer) == .simpleString("OK"))
        #expect(try parser.next(from: &buffer) == nil)
    }

    @Test(arguments: [
        ("?x\r\n", "Protocol error: invalid type byte '?'"),
        (":12a\r\n", "Protocol error: invalid integer"),
        (":\r\n", "Protocol error: invalid integer"),
        (",abc\r\n", "Protocol error: invalid double"),
        ("#x\r\n", "Protocol error: invalid boolean"),
        ("#tt\r\n", "Protocol error: invalid boolean"),
        ("_x\r\n", "Protocol error: invalid null"),
        ("(12x\r\n", "Protocol error: invalid big number"),
        ("$-2\r\n", "Protocol error: invalid bulk length"),
        ("$abc\r\n", "Protocol error: invalid bulk length"),
        ("!-1\r\n", "Protocol error: invalid bulk length"),
        ("$3\r\nabcd\r\n", "Protocol error: expected CRLF"),
        ("=3\r\ntxt\r\n", "Protocol error: invalid verbatim string"),
        ("=5\r\ntxtxy\r\n", "Protocol error: invalid verbatim string"),
        ("*-2\r\n", "Protocol error: invalid multibulk length"),
        ("%-1\r\n", "Protocol error: invalid multibulk length"),
        ("*x\r\n", "Protocol error: invalid multibulk length"),
        ("$?\r\n", "Protocol error: streamed RESP3 types are not supported"),
        ("*?\r\n", "Protocol error: streamed RESP3 types are not supported"),
        ("+OK\rX", "Protocol error: expected CRLF"),
    ])
    func malformedRepliesFail(input: String, message: String) {
        #expect(parseValues(input).error?.message == message)
        let bytes = Array(input.utf8)
        #expect(parseValues(bytes, chunkSizes: Array(repeating: 1, count: bytes.count)).error?.message == message)
    }

    @Test func nestingDepthIsBounded() {
        let limits = RESPLimits(maxNestingDepth: 3)
        #expect(parseValues(String(repeating: "*1\r\n", count: 3) + ":1\r\n", limits: limits).values
            == [.array([.array([.array([.integer(1)])])])])
        #expect(parseValues(String(repeating: "*1\r\n", count: 4) + ":1\r\n", limits: limits).error == .tooDeepNesting)
        // Default 32; a hostile 100 000-deep nesting fails fast instead of overflowing the stack.
        #expect(parseValues(String(repeating: "*1\r\n", count: 100_000)).error == .tooDeepNesting)
        #expect(parseValues(String(repeating: "%1\r\n", count: 33)).error == .tooDeepNesting)
    }

    @Test func aggregateAndBulkLimits() {
        let limits = RESPLimits(maxBulkLength: 4, maxArrayLength: 2)
        #expect(parseValues("$5\r\n", limits: limits).error == .invalidBulkLength)
        #expect(parseValues("*3\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseValues("%3\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseValues("*2\r\n$4\r\nabcd\r\n:1\r\n", limits: limits).values == [.array([.bulkString("abcd"), .integer(1)])])
    }

    @Test func overlongSimpleLineFails() {
        let limits = RESPLimits(maxInlineLength: 8)
        #expect(parseValues("+" + String(repeating: "a", count: 9), limits: limits).error == .tooBigSimpleLine)
        #expect(parseValues("+" + String(repeating: "a", count: 8) + "\r\n", limits: limits).values.count == 1)
    }

    @Test func extremeLimitsNeitherOverflowNorExhaustTheStack() {
        let limits = RESPLimits(maxBulkLength: .max, maxArrayLength: .max, maxInlineLength: .max, maxNestingDepth: .max)
        #expect(parseValues("$9223372036854775807\r\n", limits: limits).error == .invalidBulkLength)
        #expect(parseValues("$4294967295\r\nab", limits: limits).error == nil)  // allowed, waits for bytes
        #expect(parseValues("%9223372036854775807\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseValues("+OK", limits: limits).error == nil)
        // The depth cap is 1024 levels whatever the setting.
        let deep = parseValues(String(repeating: "*1\r\n", count: 1024) + ":1\r\n", limits: limits)
        #expect(deep.error == nil && deep.values.count == 1)
        #expect(parseValues(String(repeating: "*1\r\n", count: 1025) + ":1\r\n", limits: limits).error == .tooDeepNesting)
        #expect(parseCommands("*1\r\n$9223372036854775807\r\n", limits: limits).error == .invalidBulkLength)
        #expect(parseCommands("*9223372036854775807\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseCommands("PING\r\n", limits: limits).strings == [["PING"]])
    }
}
