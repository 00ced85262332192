import NIOCore
import Testing

@testable import RESP

@Suite("RESPCommandParser: inline commands")
struct InlineCommandTests {
    @Test func plainInlineCommand() {
        #expect(parseCommands("PING\r\n").strings == [["PING"]])
        #expect(parseCommands("SET  key\tvalue \r\n").strings == [["SET", "key", "value"]])
        #expect(parseCommands("GET k\n").strings == [["GET", "k"]])  // bare LF, as netcat sends
    }

    @Test func emptyAndBlankLinesAreIgnored() {
        #expect(parseCommands("\r\n\n   \r\nPING\r\n").strings == [["PING"]])
        #expect(parseCommands("\r\n").commands.isEmpty)
        #expect(parseCommands("\r\n").error == nil)
    }

    @Test func waitsForTheEndOfTheLine() {
        let result = parseCommands("GET ke")
        #expect(result.commands.isEmpty)
        #expect(result.leftover == 6)
    }

    @Test func plainArgumentsAreSlicesOfTheLine() throws {
        var parser = RESPCommandParser()
        var buffer = bytes("SET k v\r\n")
        let command = try #require(try parser.next(from: &buffer))
        #expect(command.frame.readableBytes == 7)
    }

    @Test func doubleQuotesAndEscapes() {
        let result = parseCommands(#"SET "my key" "a\nb\r\t\x41\x7a\"q\\" end"# + "\r\n")
        #expect(result.commands == [[Array("SET".utf8), Array("my key".utf8), Array("a\nb\r\tAz\"q\\".utf8), Array("end".utf8)]])
    }

    @Test func hexEscapesProduceArbitraryBytes() {
        let result = parseCommands(#"SET k "\x00\xff\xFe""# + "\r\n")
        #expect(result.commands == [[Array("SET".utf8), Array("k".utf8), [0x00, 0xFF, 0xFE]]])
        // An incomplete \x escape is taken literally: \x then 'g'.
        #expect(parseCommands(#"ECHO "\xg1""# + "\r\n").strings == [["ECHO", "xg1"]])
    }

    @Test func singleQuotesOnlyEscapeTheQuote() {
        let result = parseCommands(#"SET 'it\'s' 'a\nb'"# + "\r\n")
        #expect(result.strings == [["SET", "it's", "a\\nb"]])
    }

    @Test func emptyQuotedArguments() {
        #expect(parseCommands(#"SET k """# + "\r\n").strings == [["SET", "k", ""]])
        #expect(parseCommands("SET k ''\r\n").strings == [["SET", "k", ""]])
    }

    @Test func quoteInsideAnUnquotedWordStartsQuoting() {
        // Like sdssplitargs: foo"bar baz" is one argument "foobar baz".
        #expect(parseCommands(#"SET foo"bar baz""# + "\r\n").strings == [["SET", "foobar baz"]])
    }

    @Test(arguments: [
        #"SET "abc"#,
        #"SET 'abc"#,
        #"SET "abc"def"#,
        #"SET 'abc'def"#,
        #"SET "abc\"#,
    ])
    func unbalancedQuotesFail(line: String) {
        #expect(parseCommands(line + "\r\n").error?.message == "Protocol error: unbalanced quotes in request")
    }

    @Test func inlineAndMultibulkMixInAPipeline() {
        let input = "PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO \"a b\"\r\n"
        #expect(parseCommands(input).strings == [["PING"], ["ECHO", "hi"], ["ECHO", "a b"]])
        let bytes = Array(input.utf8)
        #expect(parseCommands(bytes, chunkSizes: Array(repeating: 1, count: bytes.count)) == parseCommands(bytes))
    }
}
