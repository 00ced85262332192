import NIOCore
import Testing

@testable import RESP

@Suite("RESPCommandParser: multibulk")
struct CommandParserTests {
    @Test func parsesASingleMultibulkCommand() {
        let result = parseCommands("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        #expect(result.strings == [["SET", "key", "value"]])
        #expect(result.error == nil)
        #expect(result.leftover == 0)
    }

    @Test func returnsNilUntilTheCommandIsCompleteAndConsumesNothing() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*2\r\n$3\r\nGET\r\n$3\r\nke")
        #expect(try parser.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 19)
        buffer.writeString("y\r\n")
        let command = try #require(try parser.next(from: &buffer))
        #expect(command.arguments.map(text) == ["GET", "key"])
        #expect(buffer.readableBytes == 0)
        #expect(try parser.next(from: &buffer) == nil)
    }

    @Test func argumentsAreSlicesOfTheReadBuffer() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        let command = try #require(try parser.next(from: &buffer))
        // Same storage: reading the frame through the slice sees the original bytes at their offsets.
        #expect(command.frame.storagePointerIntegerValue() == buffer.storagePointerIntegerValue())
    }

    @Test func binarySafeArgumentsWithCRLFInside() {
        let result = parseCommands("*2\r\n$4\r\na\r\nb\r\n$0\r\n\r\n")
        #expect(result.strings == [["a\r\nb", ""]])
    }

    @Test func parsesManyArgumentsBeyondInlineStorage() {
        let args = (0..<20).map { "arg\($0)" }
        var buffer = ByteBuffer()
        buffer.writeRESPCommand(args)
        let result = parseCommands(Array(buffer.readableBytesView))
        #expect(result.strings == [args])
    }

    @Test func pipelineOfThousandsOfCommandsInOneBuffer() {
        var buffer = ByteBuffer()
        for i in 0..<5000 {
            if i % 2 == 0 {
                buffer.writeRESPCommand("SET", "key:\(i)", "value-\(i)")
            } else {
                buffer.writeString("GET key:\(i)\r\n")
            }
        }
        let result = parseCommands(Array(buffer.readableBytesView))
        #expect(result.error == nil)
        #expect(result.commands.count == 5000)
        #expect(result.strings[4998] == ["SET", "key:4998", "value-4998"])
        #expect(result.strings[4999] == ["GET", "key:4999"])
    }

    @Test func byteByByteFeedingEqualsOneShot() {
        let input = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\n0123456789\r\n*0\r\nPING\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n".utf8)
        let oneShot = parseCommands(input)
        let byteByByte = parseCommands(input, chunkSizes: Array(repeating: 1, count: input.count), discardEvery: 3)
        #expect(oneShot == byteByByte)
        #expect(oneShot.strings == [["SET", "k", "0123456789"], ["PING"], ["PING"]])
    }

    @Test func emptyAndNegativeMultibulkAreSkipped() {
        #expect(parseCommands("*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n").strings == [["PING"]])
    }

    @Test func commandNameAndCaseInsensitiveArguments() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*4\r\n$3\r\nsEt\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nnx\r\n")
        let command = try #require(try parser.next(from: &buffer))
        #expect(command.count == 4)
        #expect(command.name == CommandName("SET"))
        #expect(command.name != CommandName("GET"))
        #expect(command.name?.description == "SET")
        #expect(command.argument(0, equalsUppercased: "SET"))
        #expect(command.argument(3, equalsUppercased: "NX"))
        #expect(!command.argument(3, equalsUppercased: "XX"))
        #expect(!command.argument(3, equalsUppercased: "NXX"))
        #expect(!command.argument(9, equalsUppercased: "NX"))
        #expect(text(command[2]) == "v")
    }

    @Test func commandNamesAreDistinctHashKeys() {
        let table: [CommandName: Int] = [CommandName("GET"): 1, CommandName("GETSET"): 2, CommandName("georadiusbymember_ro"): 3]
        #expect(table[CommandName("get")] == 1)
        #expect(table[CommandName("GETSET")] == 2)
        #expect(table[CommandName("GEORADIUSBYMEMBER_RO")] == 3)
        #expect(table[CommandName("GETS")] == nil)
        let tooLong = Array("X".utf8) + Array(repeating: UInt8(ascii: "Y"), count: 24)
        #expect(tooLong.withUnsafeBytes { CommandName(bytes: $0) } == nil)
    }

    @Test func commandBuiltFromStringsEqualsParsedOne() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        let parsed = try #require(try parser.next(from: &buffer))
        #expect(parsed == RESPCommand(["GET", "k"]))
        #expect(parsed != RESPCommand(["GET", "j"]))
    }
}

@Suite("RESPCommandParser: malformed input and limits")
struct CommandParserErrorTests {
    @Test(arguments: [
        ("*1\r\n$-1\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$abc\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$99999999999999999999999\r\n", "Protocol error: invalid bulk length"),
        ("*1\r\n$3\rx", "Protocol error: invalid bulk length"),
        ("*x\r\n", "Protocol error: invalid multibulk length"),
        ("*\r\n", "Protocol error: invalid multibulk length"),
        ("*99999999999999999999\r\n", "Protocol error: invalid multibulk length"),
        ("*1\r\nx3\r\nfoo\r\n", "Protocol error: expected '$', got 'x'"),
        ("*2\r\n$3\r\nGET\r\n:1\r\n", "Protocol error: expected '$', got ':'"),
        ("*1\r\n$3\r\nfooXY", "Protocol error: expected CRLF"),
        ("SET \"a\r\n", "Protocol error: unbalanced quotes in request"),
    ])
    func malformedInputGivesTheRedisError(input: String, message: String) {
        let result = parseCommands(input)
        #expect(result.error?.message == message)
        // Any split gives the same error.
        let bytes = Array(input.utf8)
        #expect(parseCommands(bytes, chunkSizes: Array(repeating: 1, count: bytes.count)).error?.message == message)
    }

    @Test func unprintableBytesAreEscapedInTheMessage() {
        #expect(parseCommands("*1\r\n\u{1}").error?.message == "Protocol error: expected '$', got '\\x01'")
    }

    @Test func bulkOverTheLimitFailsBeforeThePayloadArrives() throws {
        var parser = RESPCommandParser(limits: RESPLimits(maxBulkLength: 1024))
        var ok = bytes("*1\r\n$1024\r\n")
        #expect(try parser.next(from: &ok) == nil)
        var parser2 = RESPCommandParser(limits: RESPLimits(maxBulkLength: 1024))
        var tooBig = bytes("*1\r\n$1025\r\n")
        #expect(throws: RESPProtocolError.invalidBulkLength) { try parser2.next(from: &tooBig) }
        // Default limit is Redis's 512 MB.
        #expect(parseCommands("*1\r\n$536870913\r\n").error == .invalidBulkLength)
        #expect(parseCommands("*1\r\n$536870912\r\n").error == nil)
    }

    @Test func tooManyArgumentsFailsImmediately() {
        let limits = RESPLimits(maxArrayLength: 3)
        #expect(parseCommands("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n", limits: limits).commands.count == 1)
        #expect(parseCommands("*4\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseCommands("*1048577\r\n").error == .invalidMultibulkLength)
        #expect(parseCommands("a b c d\r\n", limits: limits).error == .invalidMultibulkLength)
        #expect(parseCommands("a 'b' c d\r\n", limits: limits).error == .invalidMultibulkLength)
    }

    @Test func hugeAnnouncedArrayDoesNotPreallocate() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*1048576\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n$1\r\ng\r\n")
        #expect(try parser.next(from: &buffer) == nil)
        // Nothing to assert about memory directly; the reservation is capped (see ArgumentSpans.maxReservation).
        #expect(ArgumentSpans.maxReservation == 1024)
    }

    @Test func overlongHeaderLinesFail() {
        let limits = RESPLimits(maxInlineLength: 16)
        let longCount = "*" + String(repeating: "1", count: 17)
        #expect(parseCommands(longCount, limits: limits).error?.message == "Protocol error: too big mbulk count string")
        let longBulk = "*1\r\n$" + String(repeating: "1", count: 17)
        #expect(parseCommands(longBulk, limits: limits).error?.message == "Protocol error: too big bulk count string")
        // Within the limit but still waiting: no error.
        #expect(parseCommands("*1\r\n$" + String(repeating: "1", count: 16), limits: limits).error == nil)
    }

    @Test func overlongInlineRequestFails() {
        let limits = RESPLimits(maxInlineLength: 10)
        #expect(parseCommands("0123456789\r\n", limits: limits).strings == [["0123456789"]])
        #expect(parseCommands("0123456789", limits: limits).error == nil)
        #expect(parseCommands("0123456789A", limits: limits).error == nil)  // decided once the next byte arrives
        #expect(parseCommands("0123456789AB", limits: limits).error?.message == "Protocol error: too big inline request")
        #expect(parseCommands("0123456789\rX", limits: limits).error?.message == "Protocol error: too big inline request")
        #expect(parseCommands("0123456789A\n", limits: limits).error?.message == "Protocol error: too big inline request")
        // Default is 64 KiB.
        #expect(parseCommands(String(repeating: "x", count: 64 * 1024 + 2)).error == .tooBigInlineRequest)
    }

    @Test func errorIsStickyAfterwards() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("*1\r\n$-2\r\n")
        #expect(throws: RESPProtocolError.invalidBulkLength) { try parser.next(from: &buffer) }
        var fresh = bytes("PING\r\n")
        #expect(throws: RESPProtocolError.invalidBulkLength) { try parser.next(from: &fresh) }
    }

    @Test func commandsBeforeAnErrorAreStillDelivered() {
        let result = parseCommands("PING\r\n*1\r\n$4\r\nECHO\r\n*1\r\n$x\r\nPING\r\n")
        #expect(result.strings == [["PING"], ["ECHO"]])
        #expect(result.error == .invalidBulkLength)
    }
}

extension ByteBuffer {
    /// Address of the underlying storage, to check slices share it.
    fileprivate func storagePointerIntegerValue() -> UInt {
        withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
    }
}
