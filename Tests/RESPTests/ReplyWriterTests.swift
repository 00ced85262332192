import NIOCore
import Testing

@testable import RESP

/// Runs `write` on a fresh buffer and returns what it wrote as a string.
private func written(_ write: (inout ByteBuffer) -> Void) -> String {
    var buffer = ByteBuffer()
    write(&buffer)
    return String(buffer: buffer)
}

@Suite("Reply writers")
struct ReplyWriterTests {
    @Test func simpleStringsAndErrors() {
        #expect(written { $0.writeRESPSimpleString("OK") } == "+OK\r\n")
        #expect(written { $0.writeRESPSimpleString(Array("a\r\nb".utf8)) } == "+a  b\r\n")
        #expect(written { $0.writeRESPError("ERR unknown command") } == "-ERR unknown command\r\n")
        #expect(written { $0.writeRESPError("ERR bad\r\ninjected") } == "-ERR bad  injected\r\n")
    }

    @Test(arguments: [Int64(0), 1, -1, 9, 10, 99, 100, 12345, -12345, Int64.max, Int64.min, 1_000_000_000_000])
    func integersMatchDecimalText(value: Int64) {
        #expect(written { $0.writeRESPInteger(value) } == ":\(value)\r\n")
        #expect(written { $0.writeRESPArrayHeader(Int(value)) } == "*\(value)\r\n")
    }

    /// The digit helpers take shortcuts below 10,000 and loop above: every value up to 100,000, each power
    /// of ten and its neighbours, and the largest magnitude must print as Swift prints them.
    @Test func decimalDigitHelpersMatchSwiftsDecimalText() {
        var probes = Array(UInt64(0)...100_000)
        var power: UInt64 = 1
        for _ in 0..<19 {
            power *= 10
            probes += [power - 1, power, power + 1]
        }
        probes += [UInt64.max - 1, UInt64.max]
        var scratch = [UInt8](repeating: 0, count: 20)
        for value in probes {
            let digits = RESPEncoding.decimalDigits(value)
            let text = String(value)
            guard digits == text.utf8.count else {
                Issue.record("decimalDigits(\(value)) = \(digits), expected \(text.utf8.count)")
                return
            }
            scratch.withUnsafeMutableBytes { RESPEncoding.storeDigits(of: value, count: digits, at: $0.baseAddress!) }
            guard String(decoding: scratch[0..<digits], as: UTF8.self) == text else {
                Issue.record("storeDigits(\(value)) wrote \(String(decoding: scratch[0..<digits], as: UTF8.self))")
                return
            }
        }
    }

    @Test func bulkStrings() {
        #expect(written { $0.writeRESPBulkString("hello") } == "$5\r\nhello\r\n")
        #expect(written { $0.writeRESPBulkString("") } == "$0\r\n\r\n")
        #expect(written { $0.writeRESPBulkString(ByteBuffer(string: "héllo")) } == "$6\r\nhéllo\r\n")
        #expect(written { b in Array("xyz".utf8).withUnsafeBytes { b.writeRESPBulkString($0) } } == "$3\r\nxyz\r\n")
        // A ByteBuffer argument is not consumed.
        let source = ByteBuffer(string: "v")
        var out = ByteBuffer()
        out.writeRESPBulkString(source)
        #expect(source.readableBytes == 1)
    }

    /// The fused raw-memory writers (one capacity check per command or reply) at every length whose
    /// decimal width changes, appended to a buffer that already holds bytes and has to grow.
    @Test(arguments: [0, 1, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 99, 100, 999, 1000, 70_000])
    func fusedWritersMatchThePieceByPieceEncoding(length: Int) {
        let value = (0..<length).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let key = Array("key:\(length)".utf8)
        var fused = ByteBuffer(string: "+PONG\r\n")
        var pieces = fused
        key.withUnsafeBytes { k in
            value.withUnsafeBytes { v in
                fused.writeRESPBulkString(v)
                fused.writeRESPGetCommand(key: k)
                fused.writeRESPSetCommand(key: k, value: v)
            }
        }
        pieces.writeString("$\(length)\r\n")
        pieces.writeBytes(value)
        pieces.writeString("\r\n*2\r\n$3\r\nGET\r\n$\(key.count)\r\n")
        pieces.writeBytes(key)
        pieces.writeString("\r\n*3\r\n$3\r\nSET\r\n$\(key.count)\r\n")
        pieces.writeBytes(key)
        pieces.writeString("\r\n$\(length)\r\n")
        pieces.writeBytes(value)
        pieces.writeString("\r\n")
        #expect(fused == pieces)
        #expect(RESPEncoding.bulkStringLength(length) == 1 + String(length).count + 2 + length + 2)
    }

    /// `RESPEncoding.copy` at every length around its word and 16-byte paths: exactly the source bytes, and
    /// not one byte written past them.
    @Test func smallCopiesWriteExactlyTheirBytes() {
        let source = (0..<48).map { UInt8($0 + 1) }
        for count in 0...40 {
            var target = [UInt8](repeating: 0xEE, count: 48)
            source.withUnsafeBytes { s in target.withUnsafeMutableBytes { RESPEncoding.copy(s.baseAddress!, count: count, to: $0.baseAddress!) } }
            #expect(Array(target[..<count]) == Array(source[..<count]), "count \(count)")
            #expect(target[count...].allSatisfy { $0 == 0xEE }, "count \(count) wrote past its bytes")
        }
    }

    /// A remembered bulk header writes what the plain encoder writes, for every length it covers around each
    /// change in digit count, in an order that both reuses and replaces the remembered length; its whole-word
    /// store stays inside the bulk string; lengths it does not cover are refused by `covers`.
    @Test func rememberedBulkHeadersEncodeAsThePlainEncoder() {
        var memo = BulkHeaderMemo()
        let lengths = [2, 2, 3, 9, 10, 10, 11, 23, 23, 24, 23, 99, 100, 100, 101, 999, 1000, 1001, 9_999, 10_000,
                       65_535, 99_998, 99_999, 99_999, 2]
        let payload = (0..<99_999).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for length in lengths {
            let bytes = payload[..<length]
            #expect(BulkHeaderMemo.covers(length))
            let size = memo.bulkStringLength(length)
            #expect(size == RESPEncoding.bulkStringLength(length), "length \(length)")
            var plain = [UInt8](repeating: 0xEE, count: size + 16)
            var remembered = plain
            bytes.withUnsafeBytes { b in
                plain.withUnsafeMutableBytes { _ = RESPEncoding.storeBulkString(b, at: $0.baseAddress!) }
                remembered.withUnsafeMutableBytes { #expect(memo.storeBulkString(b, at: $0.baseAddress!) == size) }
            }
            #expect(remembered == plain, "length \(length)")
            #expect(remembered[size...].allSatisfy { $0 == 0xEE }, "length \(length) wrote past its bulk string")
        }
        for length in [-1, 0, 1, 100_000, 1 << 20] { #expect(!BulkHeaderMemo.covers(length), "length \(length)") }
    }

    @Test func versionDependentEncodings() {
        #expect(written { $0.writeRESPNull(.v2) } == "$-1\r\n")
        #expect(written { $0.writeRESPNull(.v3) } == "_\r\n")
        #expect(written { $0.writeRESPNullArray(.v2) } == "*-1\r\n")
        #expect(written { $0.writeRESPNullArray(.v3) } == "_\r\n")
        #expect(written { $0.writeRESPMapHeader(2, .v2) } == "*4\r\n")
        #expect(written { $0.writeRESPMapHeader(2, .v3) } == "%2\r\n")
        #expect(written { $0.writeRESPSetHeader(3, .v2) } == "*3\r\n")
        #expect(written { $0.writeRESPSetHeader(3, .v3) } == "~3\r\n")
        #expect(written { $0.writeRESPPushHeader(3, .v2) } == "*3\r\n")
        #expect(written { $0.writeRESPPushHeader(3, .v3) } == ">3\r\n")
        #expect(written { $0.writeRESPBoolean(true, .v2) } == ":1\r\n")
        #expect(written { $0.writeRESPBoolean(false, .v3) } == "#f\r\n")
        #expect(written { $0.writeRESPDouble(1.5, .v3) } == ",1.5\r\n")
        #expect(written { $0.writeRESPDouble(1.5, .v2) } == "$3\r\n1.5\r\n")
        #expect(written { $0.writeRESPDouble(3, .v3) } == ",3\r\n")
        #expect(written { $0.writeRESPDouble(.infinity, .v3) } == ",inf\r\n")
        #expect(written { $0.writeRESPDouble(-.infinity, .v2) } == "$4\r\n-inf\r\n")
        #expect(written { $0.writeRESPDouble(.nan, .v3) } == ",nan\r\n")
        #expect(written { $0.writeRESPVerbatim("hi", .v3) } == "=6\r\ntxt:hi\r\n")
        #expect(written { $0.writeRESPVerbatim("hi", format: "mkd", .v2) } == "$2\r\nhi\r\n")
        #expect(written { $0.writeRESPBigNumber(ByteBuffer(string: "123456789012345678901234567890"), .v3) }
            == "(123456789012345678901234567890\r\n")
    }

    @Test func valueWriterFallsBackUnderRESP2LikeRedis() {
        let map = RESPValue.map([RESPMapEntry(.bulkString("a"), .integer(1)), RESPMapEntry(.bulkString("b"), .null)])
        #expect(written { $0.writeRESPValue(map, version: .v2) } == "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n$-1\r\n")
        #expect(written { $0.writeRESPValue(map, version: .v3) } == "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n_\r\n")
        #expect(written { $0.writeRESPValue(.set([.boolean(true)]), version: .v2) } == "*1\r\n:1\r\n")
        #expect(written { $0.writeRESPValue(.bulkString(nil), version: .v3) } == "$-1\r\n")
        #expect(written { $0.writeRESPValue(.array(nil), version: .v3) } == "*-1\r\n")
    }

    @Test func commandEncoders() {
        let expected = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
        #expect(written { $0.writeRESPCommand(["SET", "key", "value"]) } == expected)
        #expect(written { $0.writeRESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "key"), ByteBuffer(string: "value")]) } == expected)
        #expect(written { $0.writeRESPCommand("SET", ByteBuffer(string: "key"), "value") } == expected)
        #expect(written { $0.writeRESPSetCommand(key: ByteBuffer(string: "key"), value: ByteBuffer(string: "value")) } == expected)
        #expect(written { $0.writeRESPGetCommand(key: ByteBuffer(string: "k")) } == "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
        #expect(written { $0.writeRESPCommand("EXPIRE", "k", 10) } == "*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n")
        #expect(written { $0.writeRESPCommand("INCRBY", "k", -250) } == "*3\r\n$6\r\nINCRBY\r\n$1\r\nk\r\n$4\r\n-250\r\n")
        let substring = "xkeyx".dropFirst().dropLast()
        #expect(written { $0.writeRESPCommand("GET", substring) } == "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        #expect(written { $0.writeRESPCommand(RESPCommand(["SET", "key", "value"])) } == expected)
    }
}
